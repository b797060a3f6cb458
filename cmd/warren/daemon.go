package main

import (
	"github.com/urfave/cli/v2"

	"warren/rootless/bootstrap"
)

// daemonCommand is `warren daemon`: the per-user daemon in the foreground
// (for a systemd user unit, or to watch its log). Other commands start it
// in the background when it is not running.
func daemonCommand() *cli.Command {
	return &cli.Command{
		Name:      "daemon",
		Usage:     "Run the warren daemon in the foreground",
		UsageText: "warren daemon [OPTIONS]",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "mtu", Value: bootstrap.DefaultMTU, Usage: "MTU of the uplink and the containers' bridge"},
			&cli.StringFlag{Name: "subnet", Value: bootstrap.DefaultSubnet, Usage: "Subnet of the containers' bridge"},
			&cli.BoolFlag{Name: "disable-host-loopback", Usage: "Do not let containers reach the host's 127.0.0.1 through the gateway"},
			&cli.BoolFlag{Name: "icc", Value: true, Usage: "Enable inter-container communication"},
			&cli.StringFlag{Name: "port-range", Value: bootstrap.DefaultPortRange, Usage: "Host ports that -P picks from"},
			&cli.BoolFlag{Name: "debug", Usage: "Log debug messages"},
		},
		Action: runDaemon,
	}
}

func runDaemon(c *cli.Context) error {
	if c.NArg() > 0 {
		return statusError{status: 1, msg: `"warren daemon" accepts no arguments.`}
	}
	opts := bootstrap.DefaultDaemonOptions(sessionOf(c).paths)
	opts.MTU = c.Int("mtu")
	opts.Subnet = c.String("subnet")
	opts.DisableHostLoopback = c.Bool("disable-host-loopback")
	opts.ICC = c.Bool("icc")
	opts.PortRange = c.String("port-range")
	opts.Debug = c.Bool("debug")
	if err := bootstrap.RunDaemon(c.Context, opts); err != nil {
		// One line that a CLI which started the daemon in the background
		// finds in daemon.log and shows its user.
		return statusError{status: 1, msg: "warren: " + err.Error()}
	}
	return nil
}
