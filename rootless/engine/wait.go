package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// waiter is one ContainerWait call still waiting.
type waiter struct {
	cond container.WaitCondition
	ch   chan container.WaitResponse // buffered: exactly one value
	stop func() bool                 // unregisters the ctx hook
}

// ContainerWait registers the waiter before it returns, so a wait sent
// before start sees the coming exit (docker run does exactly that).
func (e *Engine) ContainerWait(ctx context.Context, name string, cond container.WaitCondition) (<-chan container.WaitResponse, error) {
	switch cond {
	case "":
		cond = container.WaitConditionNotRunning
	case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid condition: %q", cond))
	}
	c, err := e.lookup(name)
	if err != nil {
		return nil, err
	}
	w := &waiter{cond: cond, ch: make(chan container.WaitResponse, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if (cond == container.WaitConditionNotRunning && !c.rec.State.running()) ||
		(cond == container.WaitConditionRemoved && c.removed) {
		w.ch <- container.WaitResponse{StatusCode: int64(c.rec.State.ExitCode)}
		return w.ch, nil
	}
	c.waiters = append(c.waiters, w)
	// No goroutine per waiter: ctx's end runs this once, unless fired first.
	w.stop = context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.waiters, w); i >= 0 {
			c.waiters = slices.Delete(c.waiters, i, i+1)
			w.ch <- container.WaitResponse{StatusCode: -1, Error: &container.WaitExitError{Message: ctx.Err().Error()}}
		}
	})
	return w.ch, nil
}

// fire answers the waiters an event satisfies: an exit answers not-running
// and next-exit, removal answers everyone left. c.mu is held.
func (c *Container) fire(event container.WaitCondition, code int) {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if event == container.WaitConditionRemoved || w.cond != container.WaitConditionRemoved {
			w.stop()
			w.ch <- container.WaitResponse{StatusCode: int64(code)}
			continue
		}
		kept = append(kept, w)
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
}
