package engine

import (
	"context"
	"fmt"

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
	return c.addWaiter(ctx, cond), nil
}

// fireLocked answers the waiters an event satisfies: an exit answers
// not-running and next-exit, removal answers everyone left. c.mu is held.
func (c *Container) fireLocked(event container.WaitCondition, code int) {
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
