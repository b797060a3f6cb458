package engine

import (
	"context"
	"errors"
	"io"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/term"

	"warren/rootless/api"
)

// ContainerAttach wires the client's streams to the container and returns
// at once. Output goes to the client from now on (after the log, with
// Logs); its stdin feeds the container's when OpenStdin. Done closes when
// the run's output ends or ctx does.
func (e *Engine) ContainerAttach(ctx context.Context, name string, opts api.AttachOptions) (*api.Attachment, error) {
	c, err := e.lookup(name)
	if err != nil {
		return nil, err
	}
	c.event(eventtypes.ActionAttach)
	stdout, stderr := opts.Stdout, opts.Stderr
	if c.rec.Config.Tty && stderr == nil {
		stderr = stdout // a tty has one stream
	}
	if opts.Logs {
		if err := c.followLog(ctx, stdout, stderr, false, false, logFilter{tail: -1}); err != nil {
			return nil, err
		}
	}
	if !opts.Stream {
		done := make(chan struct{})
		close(done)
		return &api.Attachment{Done: done}, nil
	}
	cl := c.out.add(stdout, stderr)
	// Detach when the client goes away; the hook ends with the attachment.
	stop := context.AfterFunc(ctx, func() { c.out.remove(cl) })
	go func() {
		<-cl.done
		stop()
	}()
	if opts.Stdin != nil && c.stdin != nil {
		in := opts.Stdin
		if c.rec.Config.Tty {
			// As Docker, the detach keys are only watched on a tty.
			in = term.NewEscapeProxy(in, opts.DetachKeys)
		}
		go func() {
			if c.copyStdin(in) {
				c.out.remove(cl)
			}
		}()
	}
	return &api.Attachment{Done: cl.done}, nil
}

// copyStdin copies a client's stdin into the container's and tells whether
// the client typed the detach keys. At the client's EOF with StdinOnce the
// container's stdin is closed, so the process sees EOF; otherwise it stays
// open for the next client.
func (c *Container) copyStdin(r io.Reader) (detached bool) {
	w := c.stdin.writer()
	_, err := io.Copy(w, r)
	if errors.As(err, new(term.EscapeError)) {
		c.event(eventtypes.ActionDetach)
		return true
	}
	if err == nil && c.rec.Config.StdinOnce {
		w.Close()
	}
	return false
}
