package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name: "exec", Usage: "Execute a command in a running container",
		UsageText: "warren exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "Detached mode: run command in the background"},
			&cli.StringFlag{Name: "detach-keys", Usage: "Override the key sequence for detaching a container"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "Set environment variables"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "Read in a file of environment variables"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "Keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "privileged", Usage: "Give extended privileges to the command"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "Allocate a pseudo-TTY"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "Username or UID (format: \"<name|uid>[:<group|gid>]\")"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "Working directory inside the container"},
		},
		Action: execAction,
	}
}

// buildExec is the exec create request docker sends for these flags.
func buildExec(c *cli.Context, lookup func(string) (string, bool)) (client.ExecCreateOptions, error) {
	env, err := readEnvFiles(c.StringSlice("env-file"), lookup)
	if err != nil {
		return client.ExecCreateOptions{}, err
	}
	for _, e := range c.StringSlice("env") {
		v, err := validateEnv(e, lookup)
		if err != nil {
			return client.ExecCreateOptions{}, err
		}
		env = append(env, v)
	}
	detach := c.Bool("detach")
	opts := client.ExecCreateOptions{
		User: c.String("user"), Privileged: c.Bool("privileged"), TTY: c.Bool("tty"),
		AttachStdin: c.Bool("interactive") && !detach, AttachStdout: !detach, AttachStderr: !detach,
		DetachKeys: c.String("detach-keys"), Env: env, WorkingDir: c.String("workdir"), Cmd: c.Args().Tail(),
	}
	if opts.TTY {
		size := terminalSize(os.Stdout)
		opts.ConsoleSize = client.ConsoleSize{Height: size[0], Width: size[1]}
	}
	return opts, nil
}

// execAction is docker's exec flow: create, start attached (or detached),
// resize, then exit with the command's exit code from exec inspect.
func execAction(c *cli.Context) error {
	if err := requireMin(c, 2); err != nil {
		return err
	}
	opts, err := buildExec(c, os.LookupEnv)
	if err != nil {
		return err
	}
	keys, err := detachKeys(opts.DetachKeys)
	if err != nil {
		return err
	}
	if err := checkTTY(sessionOf(c).in, opts.AttachStdin, opts.TTY); err != nil {
		return err
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	created, err := api.ExecCreate(c.Context, c.Args().First(), opts)
	if err != nil {
		return err
	}
	if c.Bool("detach") {
		_, err := api.ExecStart(c.Context, created.ID, client.ExecStartOptions{Detach: true, TTY: opts.TTY})
		return err
	}
	a, err := api.ExecAttach(c.Context, created.ID, client.ExecAttachOptions{TTY: opts.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return err
	}
	defer a.Close()
	if opts.TTY {
		stop := resizer(s.out, func(h, w uint) error {
			_, err := api.ExecResize(c.Context, created.ID, client.ExecResizeOptions{Height: h, Width: w})
			return err
		}, s.err)
		defer stop()
	}
	var in io.Reader
	if opts.AttachStdin {
		in = s.in
	}
	st := stream{in: in, out: s.out, err: s.err, tty: opts.TTY, detach: keys}
	if err := st.run(&a.HijackedResponse); err != nil {
		if err == errDetached {
			return nil
		}
		return err
	}
	res, err := api.ExecInspect(c.Context, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return statusError{status: res.ExitCode}
	}
	return nil
}

func portCommand() *cli.Command {
	return &cli.Command{
		Name: "port", Usage: "List port mappings or a specific mapping for the container",
		UsageText: "warren port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Action: func(c *cli.Context) error {
			if err := requireRange(c, 1, 2); err != nil {
				return err
			}
			s, api, err := apiClient(c)
			if err != nil {
				return err
			}
			info, err := api.ContainerInspect(c.Context, c.Args().First(), client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			var ports network.PortMap
			if info.Container.NetworkSettings != nil {
				ports = info.Container.NetworkSettings.Ports
			}
			lines, err := portLines(ports, c.Args().Get(1), c.Args().First())
			if err != nil {
				return err
			}
			for _, l := range lines {
				fmt.Fprintln(s.out, l)
			}
			return nil
		},
	}
}

// portLines renders `docker port` (docker-behavior 3.5): every binding as
// "80/tcp -> 0.0.0.0:8080" in natural order, or for one port just its
// addresses.
func portLines(ports network.PortMap, want, name string) ([]string, error) {
	if want == "" {
		var lines []string
		for p, bindings := range ports {
			for _, b := range bindings {
				lines = append(lines, fmt.Sprintf("%s -> %s", p, hostAddr(b)))
			}
		}
		slices.SortFunc(lines, naturalCompare)
		return lines, nil
	}
	num, proto, _ := strings.Cut(want, "/")
	if proto == "" {
		proto = "tcp"
	}
	if _, err := strconv.ParseUint(num, 10, 16); err != nil {
		return nil, fmt.Errorf("Error: invalid port (%s): %w", num, err)
	}
	p, err := network.ParsePort(num + "/" + proto)
	if err == nil {
		if bindings := ports[p]; len(bindings) > 0 {
			var lines []string
			for _, b := range bindings {
				lines = append(lines, hostAddr(b))
			}
			return lines, nil
		}
	}
	return nil, fmt.Errorf("Error: No public port '%s' published for %s", want, name)
}

func hostAddr(b network.PortBinding) string {
	ip := ""
	if b.HostIP.IsValid() {
		ip = b.HostIP.String()
	}
	return net.JoinHostPort(ip, b.HostPort)
}

// naturalCompare orders strings with digit runs compared as numbers, as
// docker's sortorder.NaturalLess does ("9/tcp" before "10/tcp").
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) - len(tb)
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
