package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// defaultDetachKeys is docker's ctrl-p ctrl-q.
const defaultDetachKeys = "ctrl-p,ctrl-q"

// errDetached reports that the user typed the detach keys.
var errDetached = errors.New("detached")

// stream moves data between the terminal and a hijacked attach/exec
// connection, as the docker CLI's hijack.go does.
type stream struct {
	in     io.Reader // nil when stdin is not attached
	out    io.Writer
	err    io.Writer
	tty    bool
	detach []byte // escape sequence, tty only
}

// run copies until the container's output ends or the user detaches. With a
// tty and a terminal on stdin, the terminal is raw for the duration.
func (st stream) run(resp *client.HijackedResponse) error {
	restore, err := st.rawTerminal()
	if err != nil {
		return err
	}
	defer restore()

	outDone := make(chan error, 1)
	go func() {
		var err error
		if st.tty {
			_, err = io.Copy(st.out, resp.Reader)
		} else {
			_, err = stdcopy.StdCopy(st.out, st.err, resp.Reader)
		}
		outDone <- err
	}()

	inDone := make(chan error, 1)
	go func() { inDone <- st.copyInput(resp) }()

	select {
	case err := <-outDone:
		return err
	case err := <-inDone:
		if errors.Is(err, errDetached) {
			return err
		}
		// stdin ended; keep printing until the container's output ends.
		return <-outDone
	}
}

// copyInput sends stdin, then half-closes the connection so the container
// sees EOF while its output keeps coming.
func (st stream) copyInput(resp *client.HijackedResponse) error {
	if st.in != nil {
		in := st.in
		if st.tty && len(st.detach) > 0 {
			in = term.NewEscapeProxy(in, st.detach)
		}
		_, err := io.Copy(resp.Conn, in)
		var escape term.EscapeError
		if errors.As(err, &escape) {
			return errDetached
		}
	}
	if err := resp.CloseWrite(); err != nil {
		return fmt.Errorf("close the attach stream for writing: %w", err)
	}
	return nil
}

// rawTerminal puts the local terminal in raw mode for -it sessions and
// returns the function that restores it.
func (st stream) rawTerminal() (func(), error) {
	if !st.tty || st.in == nil {
		return func() {}, nil
	}
	inFd, inTerm := term.GetFdInfo(st.in)
	if !inTerm {
		return func() {}, nil
	}
	inState, err := term.SetRawTerminal(inFd)
	if err != nil {
		return nil, fmt.Errorf("set the terminal to raw mode: %w", err)
	}
	outFd, outTerm := term.GetFdInfo(st.out)
	var outState *term.State
	if outTerm {
		outState, _ = term.SetRawTerminalOutput(outFd)
	}
	return func() {
		term.RestoreTerminal(inFd, inState)
		if outState != nil {
			term.RestoreTerminal(outFd, outState)
		}
	}, nil
}

// detachKeys parses --detach-keys (default ctrl-p,ctrl-q).
func detachKeys(spec string) ([]byte, error) {
	if spec == "" {
		spec = defaultDetachKeys
	}
	keys, err := term.ToBytes(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid detach keys (%s) provided", spec)
	}
	return keys, nil
}

// resizer sends the terminal size to the container (or exec) now and on
// every SIGWINCH, as docker does, until stop is called.
func resizer(out io.Writer, resize func(h, w uint) error, errOut io.Writer) (stop func()) {
	fd, isTerm := term.GetFdInfo(out)
	if !isTerm {
		return func() {}
	}
	send := func() error {
		ws, err := term.GetWinsize(fd)
		if err != nil || ws.Height == 0 && ws.Width == 0 {
			return nil
		}
		return resize(uint(ws.Height), uint(ws.Width))
	}
	// The process may not have its tty yet right after start: retry a few
	// times like the docker CLI, then give up with its warning.
	go func() {
		for i := 0; i < 10; i++ {
			if send() == nil {
				return
			}
			time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
		}
		fmt.Fprintln(errOut, "failed to resize tty, using default size")
	}()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-winch:
				send()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
	}
}

// proxySignals forwards the signals an attached CLI receives to the
// container (--sig-proxy), by name without "SIG" as docker sends them.
func proxySignals(ctx context.Context, api *client.Client, id string) (stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				name := unix.SignalName(s.(unix.Signal))
				if len(name) > 3 {
					name = name[3:]
				}
				api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: name})
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name: "attach", Usage: "Attach local standard input, output, and error streams to a running container",
		UsageText: "warren attach [OPTIONS] CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "detach-keys", Usage: "Override the key sequence for detaching a container"},
			&cli.BoolFlag{Name: "no-stdin", Usage: "Do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "Proxy all received signals to the process"},
		},
		Action: attachAction,
	}
}

// errEscaped is docker attach's report of a detach (term.EscapeError).
var errEscaped = errors.New("read escape sequence")

// attachAction is docker's attach flow: register the wait, check the
// state, attach, stream, exit with the container's status; typing the
// detach keys ends it with "read escape sequence".
func attachAction(c *cli.Context) error {
	if err := requireExact(c, 1); err != nil {
		return err
	}
	keys, err := detachKeys(c.String("detach-keys"))
	if err != nil {
		return err
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	// Signals are proxied to the container, not ending the session, as
	// in startAttached.
	ctx := context.WithoutCancel(c.Context)
	wait := api.ContainerWait(ctx, name, client.ContainerWaitOptions{})
	info, err := attachableContainer(ctx, api, name)
	if err != nil {
		return err
	}
	if err := checkTTY(s.in, !c.Bool("no-stdin"), info.Config.Tty); err != nil {
		return err
	}
	cfg := *info.Config
	cfg.AttachStdin = !c.Bool("no-stdin") && cfg.OpenStdin
	cfg.AttachStdout, cfg.AttachStderr = true, true
	r := runner{ctx: ctx, s: s, api: api, id: info.ID, config: &cfg, keys: keys, detachKeys: c.String("detach-keys"),
		sigProxy: c.Bool("sig-proxy"), detached: errEscaped}
	a, err := api.ContainerAttach(ctx, r.id, client.ContainerAttachOptions{
		Stream: true, Stdin: cfg.AttachStdin, Stdout: true, Stderr: true, DetachKeys: r.detachKeys,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	// The container may have stopped between the check and the attach.
	if _, err := attachableContainer(ctx, api, name); err != nil {
		return err
	}
	return r.stream(&a.HijackedResponse, wait)
}

// attachableContainer inspects name and refuses the states docker attach
// refuses, with its texts.
func attachableContainer(ctx context.Context, api *client.Client, name string) (*container.InspectResponse, error) {
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	st := res.Container.State
	switch {
	case !st.Running:
		return nil, errors.New("You cannot attach to a stopped container, start it first")
	case st.Paused:
		return nil, errors.New("You cannot attach to a paused container, unpause it first")
	case st.Restarting:
		return nil, errors.New("You cannot attach to a restarting container, wait until it is running")
	}
	return &res.Container, nil
}
