package engine

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

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
	c.mu.Lock()
	running := c.rec.State.running()
	c.mu.Unlock()
	if running && !opts.Force {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"cannot remove container %q: container is running: stop the container before removing or force remove",
			trimSlash(name)))
	}
	return e.remove(ctx, c, opts.Force)
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
	c.mu.Lock()
	if c.removing || c.removed {
		c.mu.Unlock()
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.shortName()))
	}
	c.removing = true
	proc, exited, running := c.proc, c.exited, c.rec.State.running()
	c.mu.Unlock()
	if running {
		if !force {
			c.mu.Lock()
			c.removing = false
			c.mu.Unlock()
			return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"cannot remove container %q: container is running: stop the container before removing or force remove", c.shortName()))
		}
		proc.Signal(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(forceStopTimeout):
		case <-ctx.Done():
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		c.mu.Lock()
		c.removing = false
		c.mu.Unlock()
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

	c.mu.Lock()
	c.removed, c.removing = true, false
	if c.stdin != nil {
		c.stdin.close()
	}
	c.out.end() // clients attached to a container that never ran again
	c.rec.State.Status = container.StateRemoving
	c.fire(container.WaitConditionRemoved, c.rec.State.ExitCode)
	c.mu.Unlock()
	return nil
}
