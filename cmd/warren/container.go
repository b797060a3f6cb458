package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

// forEach runs fn for every argument, prints each argument that succeeded
// (as docker does) and the failures on stderr, then exits 1 if any failed.
func forEach(c *cli.Context, fn func(api *client.Client, name string) error) error {
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range c.Args().Slice() {
		if err := fn(api, name); err != nil {
			if errors.Is(err, errSkip) {
				continue
			}
			failed = append(failed, err.Error())
			continue
		}
		fmt.Fprintln(s.out, name)
	}
	if len(failed) > 0 {
		return statusError{status: 1, msg: strings.Join(failed, "\n")}
	}
	return nil
}

// timeoutFlag is -t/--timeout of stop and restart; unset means the
// container's own StopTimeout.
func timeoutFlag(c *cli.Context) *int {
	if !c.IsSet("timeout") {
		return nil
	}
	t := c.Int("timeout")
	return &t
}

func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "Signal to send to the container"},
		&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "Seconds to wait before killing the container"},
	}
}

// perContainer is a command that does one thing to each container named,
// printing each name that succeeded, as docker stop/restart/kill do.
func perContainer(name, usage string, flags []cli.Flag, do func(c *cli.Context, api *client.Client, ctr string) error) *cli.Command {
	return &cli.Command{
		Name: name, Usage: usage,
		UsageText: "warren " + name + " [OPTIONS] CONTAINER [CONTAINER...]",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			if err := requireMin(c, 1); err != nil {
				return err
			}
			return forEach(c, func(api *client.Client, ctr string) error { return do(c, api, ctr) })
		},
	}
}

func stopCommand() *cli.Command {
	return perContainer("stop", "Stop one or more running containers", stopFlags(),
		func(c *cli.Context, api *client.Client, ctr string) error {
			_, err := api.ContainerStop(c.Context, ctr, client.ContainerStopOptions{Signal: c.String("signal"), Timeout: timeoutFlag(c)})
			return err
		})
}

func restartCommand() *cli.Command {
	return perContainer("restart", "Restart one or more containers", stopFlags(),
		func(c *cli.Context, api *client.Client, ctr string) error {
			_, err := api.ContainerRestart(c.Context, ctr, client.ContainerRestartOptions{Signal: c.String("signal"), Timeout: timeoutFlag(c)})
			return err
		})
}

func killCommand() *cli.Command {
	flags := []cli.Flag{&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "Signal to send to the container"}}
	return perContainer("kill", "Kill one or more running containers", flags,
		func(c *cli.Context, api *client.Client, ctr string) error {
			_, err := api.ContainerKill(c.Context, ctr, client.ContainerKillOptions{Signal: c.String("signal")})
			return err
		})
}

func rmCommand() *cli.Command {
	return &cli.Command{
		Name: "rm", Usage: "Remove one or more containers",
		UsageText: "warren rm [OPTIONS] CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "link", Aliases: []string{"l"}, Usage: "Remove the specified link"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "Remove anonymous volumes associated with the container"},
		},
		Action: rmAction,
	}
}

func rmAction(c *cli.Context) error {
	if err := requireMin(c, 1); err != nil {
		return err
	}
	s := sessionOf(c)
	force := c.Bool("force")
	opts := client.ContainerRemoveOptions{Force: force, RemoveLinks: c.Bool("link"), RemoveVolumes: c.Bool("volumes")}
	return forEach(c, func(api *client.Client, name string) error {
		// The API gets the name without slashes; the name is printed as
		// typed (e.g. /web/db for --link), as docker does.
		name = strings.Trim(name, "/")
		if name == "" {
			return errors.New("container name cannot be empty")
		}
		_, err := api.ContainerRemove(c.Context, name, opts)
		if err != nil && force && cerrdefs.IsNotFound(err) {
			// docker rm -f reports a missing container but still succeeds.
			fmt.Fprintln(s.err, err)
			return errSkip
		}
		return err
	})
}

// errSkip marks an argument whose outcome was already reported.
var errSkip = errors.New("")

func waitCommand() *cli.Command {
	return &cli.Command{
		Name: "wait", Usage: "Block until one or more containers stop, then print their exit codes",
		UsageText: "warren wait CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			if err := requireMin(c, 1); err != nil {
				return err
			}
			s, api, err := apiClient(c)
			if err != nil {
				return err
			}
			var failed []string
			for _, name := range c.Args().Slice() {
				w := api.ContainerWait(c.Context, name, client.ContainerWaitOptions{})
				select {
				case res := <-w.Result:
					fmt.Fprintln(s.out, res.StatusCode)
				case err := <-w.Error:
					failed = append(failed, err.Error())
				}
			}
			if len(failed) > 0 {
				return statusError{status: 1, msg: strings.Join(failed, "\n")}
			}
			return nil
		},
	}
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name: "start", Usage: "Start one or more stopped containers",
		UsageText: "warren start [OPTIONS] CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "Attach STDOUT/STDERR and forward signals"},
			&cli.StringFlag{Name: "detach-keys", Usage: "Override the key sequence for detaching a container"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "Attach container's STDIN"},
		},
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	if err := requireMin(c, 1); err != nil {
		return err
	}
	if c.Bool("attach") || c.Bool("interactive") {
		if c.NArg() > 1 {
			return errors.New("you cannot start and attach multiple containers at once")
		}
		return startAttached(c)
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range c.Args().Slice() {
		if _, err := api.ContainerStart(c.Context, name, client.ContainerStartOptions{}); err != nil {
			fmt.Fprintln(s.err, err)
			failed = append(failed, name)
			continue
		}
		fmt.Fprintln(s.out, name)
	}
	if len(failed) > 0 {
		return statusError{status: 1, msg: "Error: failed to start containers: " + strings.Join(failed, ", ")}
	}
	return nil
}

// startAttached is `start -a [-i]`: attach, register the wait, start,
// stream, exit with the container's status.
func startAttached(c *cli.Context) error {
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	info, err := api.ContainerInspect(c.Context, c.Args().First(), client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	cfg := *info.Container.Config
	cfg.AttachStdin = c.Bool("interactive") && cfg.OpenStdin
	cfg.AttachStdout, cfg.AttachStderr = true, true
	keys, err := detachKeys(c.String("detach-keys"))
	if err != nil {
		return err
	}
	r := runner{ctx: context.WithoutCancel(c.Context), s: s, api: api, id: info.Container.ID, config: &cfg, keys: keys,
		detachKeys: c.String("detach-keys"), sigProxy: true}
	a, err := api.ContainerAttach(r.ctx, r.id, client.ContainerAttachOptions{
		Stream: true, Stdin: cfg.AttachStdin, Stdout: true, Stderr: true, DetachKeys: r.detachKeys,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	wait := api.ContainerWait(r.ctx, r.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := api.ContainerStart(r.ctx, r.id, client.ContainerStartOptions{}); err != nil {
		return err
	}
	return r.stream(&a.HijackedResponse, wait)
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name: "logs", Usage: "Fetch the logs of a container",
		UsageText: "warren logs [OPTIONS] CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "details", Usage: "Show extra details provided to logs"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "Follow log output"},
			&cli.StringFlag{Name: "since", Usage: "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "Number of lines to show from the end of the logs"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "Show timestamps"},
			&cli.StringFlag{Name: "until", Usage: "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)"},
		},
		Action: logsAction,
	}
}

func logsAction(c *cli.Context) error {
	if err := requireExact(c, 1); err != nil {
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
	logs, err := api.ContainerLogs(c.Context, info.Container.ID, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Since: c.String("since"), Until: c.String("until"),
		Timestamps: c.Bool("timestamps"), Follow: c.Bool("follow"), Tail: c.String("tail"), Details: c.Bool("details"),
	})
	if err != nil {
		return err
	}
	defer logs.Close()
	if info.Container.Config != nil && info.Container.Config.Tty {
		_, err = io.Copy(s.out, logs)
	} else {
		_, err = stdcopy.StdCopy(s.out, s.err, logs)
	}
	return err
}
