package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	eventtypes "github.com/moby/moby/api/types/events"

	"warren/rootless/api"
)

// ContainerRemove is docker rm: a running container needs force, which
// kills it first.
func (e *Engine) ContainerRemove(ctx context.Context, name string, opts api.RemoveOptions) error {
	if opts.Link {
		return e.removeLink(name)
	}
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	err = e.remove(ctx, c, opts.Force)
	if errors.Is(err, errAlive) {
		// moby quotes the name as the client gave it.
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"cannot remove container %q: container is %s: stop the container before removing or force remove",
			trimSlash(name), c.snapshot().State.Status))
	}
	return err
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// forceStopTimeout is how long rm -f waits after SIGKILL, as Docker's 3 s.
const forceStopTimeout = 3 * time.Second

// remove kills (with force) and deletes c: folder, name, execs, then
// answers removed-waiters.
func (e *Engine) remove(ctx context.Context, c *Container, force bool) error {
	proc, exited, running, err := c.beginRemove(force)
	if err != nil {
		return err
	}
	if running {
		proc.Signal(syscall.SIGKILL)
		c.killed(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(forceStopTimeout):
		case <-ctx.Done():
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.abortRemove()
		return fmt.Errorf("remove container %s: %w", c.shortName(), err)
	}
	e.mu.Lock()
	delete(e.byID, c.rec.ID)
	delete(e.names, c.rec.Name)
	for id, x := range e.execs {
		if x.containerID == c.rec.ID {
			delete(e.execs, id)
		}
	}
	e.mu.Unlock()
	c.event(eventtypes.ActionDestroy)
	c.finishRemove()
	return nil
}
