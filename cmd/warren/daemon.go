package main

import (
	"github.com/urfave/cli/v2"

	"warren/internal/config"
	"warren/rootless/bootstrap"
)

// daemonCommand is `warren daemon`: the per-user daemon in the foreground
// (for a systemd user unit, or to watch its log). Other commands start it
// in the background when it is not running.
func daemonCommand() *cli.Command {
	def := config.Defaults(config.Paths{})
	return &cli.Command{
		Name:      "daemon",
		Usage:     "Run the warren daemon in the foreground",
		UsageText: "warren daemon [OPTIONS]",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "mtu", Value: def.MTU, Usage: "MTU of the uplink and the containers' bridge"},
			&cli.StringFlag{Name: "subnet", Value: def.Subnet, Usage: "Subnet of the containers' bridge"},
			&cli.BoolFlag{Name: "host-loopback", Usage: "Let containers reach the host's 127.0.0.1 through host.warren.internal"},
			&cli.BoolFlag{Name: "disable-host-loopback", Usage: "Do not let containers reach the host's 127.0.0.1 (the default)"},
			&cli.BoolFlag{Name: "icc", Value: def.ICC, Usage: "Enable inter-container communication"},
			&cli.StringFlag{Name: "port-range", Value: def.PortRange, Usage: "Host ports that -P picks from"},
			&cli.BoolFlag{Name: "debug", Usage: "Log debug messages"},
		},
		Action: runDaemon,
	}
}

func runDaemon(c *cli.Context) error {
	if c.NArg() > 0 {
		return statusError{status: 1, msg: `"warren daemon" accepts no arguments.`}
	}
	if c.Bool("host-loopback") && c.Bool("disable-host-loopback") {
		return statusError{status: 1, msg: "warren: --host-loopback and --disable-host-loopback cannot be used together"}
	}
	cfg := config.Defaults(sessionOf(c).paths)
	cfg.MTU = c.Int("mtu")
	cfg.Subnet = c.String("subnet")
	cfg.HostLoopback = c.Bool("host-loopback")
	cfg.ICC = c.Bool("icc")
	cfg.PortRange = c.String("port-range")
	cfg.Debug = c.Bool("debug")
	if err := bootstrap.RunDaemon(c.Context, cfg); err != nil {
		// One line that a CLI which started the daemon in the background
		// finds in daemon.log and shows its user.
		return statusError{status: 1, msg: "warren: " + err.Error()}
	}
	return nil
}
