package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	flags := append(containerFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "Run container in background and print container ID"},
		&cli.StringFlag{Name: "detach-keys", Usage: "Override the key sequence for detaching a container"},
		&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "Proxy received signals to the process"},
	)
	return &cli.Command{
		Name:      "run",
		Usage:     "Create and run a new container from an image",
		UsageText: "warren run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Flags:     flags,
		Action:    runAction,
	}
}

// runAction is docker's run flow (docker-behavior 5.2): create (pulling a
// missing image), attach, register the wait, start, then exit with the
// container's status.
func runAction(c *cli.Context) error {
	if err := requireMin(c, 1); err != nil {
		return err
	}
	f := readCreateFlags(c)
	opts, err := buildCreate(f, true, os.LookupEnv)
	if errors.Is(err, errAttachDetach) {
		return statusError{status: 1, msg: err.Error()}
	}
	if err != nil {
		return invalidFlags("run", err)
	}
	keys, err := detachKeys(f.detachKeys)
	if err != nil {
		return invalidFlags("run", err)
	}
	if err := checkTTY(sessionOf(c).in, opts.Config.AttachStdin, opts.Config.Tty); err != nil {
		return err
	}
	s, api, err := apiClient(c)
	if err != nil {
		// docker run reports an unreachable daemon with its help hint, 125.
		return invalidFlags("run", err)
	}
	id, err := createContainer(c.Context, s, api, f, opts, c.Bool("quiet"))
	if err != nil {
		return withHelp("run", s.explain(err))
	}
	r := runner{ctx: context.WithoutCancel(c.Context), s: s, api: api, id: id, config: opts.Config, keys: keys, detachKeys: f.detachKeys,
		rm: f.rm, sigProxy: c.Bool("sig-proxy")}
	return r.run()
}

// runner carries one `run` (or `start -a`) after the container was
// created. Its ctx is the command's without the cancel: SIGINT goes to the
// container (proxySignals), and the streams end when it exits.
type runner struct {
	ctx        context.Context
	s          *session
	api        *client.Client
	id         string
	config     *container.Config
	keys       []byte
	detachKeys string
	rm         bool
	sigProxy   bool
	// detached is what typing the detach keys returns: nil for run and
	// start, "read escape sequence" for attach, as docker.
	detached error
}

func (r runner) attached() bool {
	return r.config.AttachStdin || r.config.AttachStdout || r.config.AttachStderr
}

func (r runner) run() error {
	if !r.attached() {
		// docker prints the ID before starting, so it is shown even when
		// start then fails.
		fmt.Fprintln(r.s.out, r.id)
	}
	var resp *client.HijackedResponse
	if r.attached() {
		a, err := r.api.ContainerAttach(r.ctx, r.id, client.ContainerAttachOptions{
			Stream: true, Stdin: r.config.AttachStdin, Stdout: r.config.AttachStdout,
			Stderr: r.config.AttachStderr, DetachKeys: r.detachKeys,
		})
		if err != nil {
			return withHelp("run", err)
		}
		resp = &a.HijackedResponse
		defer resp.Close()
	}
	condition := container.WaitConditionNextExit
	if r.rm {
		condition = container.WaitConditionRemoved
	}
	// The wait goes out before start so a fast exit is not missed.
	wait := r.api.ContainerWait(r.ctx, r.id, client.ContainerWaitOptions{Condition: condition})

	if _, err := r.api.ContainerStart(r.ctx, r.id, client.ContainerStartOptions{}); err != nil {
		if r.rm {
			// The daemon removes the container after a failed start; let it.
			waitStatus(wait)
		}
		return withHelp("run", err)
	}
	if resp == nil {
		return nil
	}
	return r.stream(resp, wait)
}

// stream runs the attached session and returns the container's status.
func (r runner) stream(resp *client.HijackedResponse, wait client.ContainerWaitResult) error {
	if r.config.Tty {
		stop := resizer(r.s.out, func(h, w uint) error {
			_, err := r.api.ContainerResize(r.ctx, r.id, client.ContainerResizeOptions{Height: h, Width: w})
			return err
		}, r.s.err)
		defer stop()
	} else if r.sigProxy {
		stop := proxySignals(r.ctx, r.api, r.id)
		defer stop()
	}
	var in io.Reader
	if r.config.AttachStdin {
		in = r.s.in
	}
	st := stream{in: in, out: r.s.out, err: r.s.err, tty: r.config.Tty, detach: r.keys}
	if err := st.run(resp); err != nil {
		if errors.Is(err, errDetached) {
			return r.detached
		}
		return err
	}
	return waitStatus(wait)
}

// waitStatus turns the wait result into the CLI's exit status: the
// container's exit code, or 125 when waiting failed.
func waitStatus(wait client.ContainerWaitResult) error {
	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" {
			return statusError{status: 125, msg: "Error waiting for container: " + res.Error.Message}
		}
		if res.StatusCode != 0 {
			return statusError{status: int(res.StatusCode)}
		}
		return nil
	case err := <-wait.Error:
		return statusError{status: 125, msg: "Error waiting for container: " + err.Error()}
	}
}
