package engine

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/portfwd"
)

// A container's state changes only here, in methods that take c.mu; the
// few named *Locked are called by those, or by run1 under startRun, with
// c.mu held. Everything else reads a snapshot.

// snapshot is a copy of the record. Its pointers (Config, HostConfig,
// Endpoint) and slices are never changed in place, only replaced.
func (c *Container) snapshot() record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

func (c *Container) isRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.State.running()
}

// listed is the record and whether the container is still listed (not
// removed), for ps.
func (c *Container) listed() (record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec, !c.removed
}

// inspected is the record and the container's exec IDs.
func (c *Container) inspected() (record, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.execs))
	for id := range c.execs {
		ids = append(ids, id)
	}
	return c.rec, ids
}

// current is the running process and the channel closed when its exit is
// recorded; ok is false when the container does not run.
func (c *Container) current() (p process, exited <-chan struct{}, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rec.State.running() {
		return nil, nil, false
	}
	return c.proc, c.exited, true
}

// startRun runs one start attempt with c.mu held: run is run1, which may
// change the state with the *Locked methods. A container being removed,
// or already running, is not started.
func (c *Container) startRun(run func() error) (ep *Endpoint, autoRemove bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removing || c.removed {
		return nil, false, errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.shortName()))
	}
	if c.rec.State.running() {
		return nil, false, errdefs.ErrNotModified.WithMessage("container already started")
	}
	err = run()
	return c.rec.Endpoint, err != nil && c.rec.HostConfig.AutoRemove, err
}

// setRunningLocked records a started run: its process (hostPid is how
// the host sees it), address and host ports.
func (c *Container) setRunningLocked(p process, hostPid int, ep *Endpoint, pub *portfwd.Published) {
	c.proc, c.exited, c.pub = p, make(chan struct{}), pub
	c.rec.State = state{Status: container.StateRunning, Pid: hostPid, StartedAt: time.Now().UTC()}
	c.rec.Endpoint = ep
	c.rec.Ports = nil
	if pub != nil {
		c.rec.Ports = pub.Ports
	}
	if err := c.save(); err != nil {
		log.Printf("engine: %v", err)
	}
}

// closeRun closes the ended run's process and hands back its host ports
// to release. The console is closed under c.mu because ContainerResize
// uses it there.
func (c *Container) closeRun(p process) *portfwd.Published {
	c.mu.Lock()
	defer c.mu.Unlock()
	p.Close()
	pub := c.pub
	c.pub = nil
	return pub
}

// setExited records the run's end, answers its waiters and tells whether
// the container is to be removed now (--rm).
func (c *Container) setExited(code int, err error) (autoRemove bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.State.Status = container.StateExited
	c.rec.State.ExitCode = code
	c.rec.State.Pid = 0
	c.rec.State.FinishedAt = time.Now().UTC()
	if err != nil {
		c.rec.State.Error = err.Error()
	}
	c.rec.Endpoint = nil
	c.rec.Ports = nil
	c.proc = nil
	if !c.removed {
		if err := c.save(); err != nil {
			log.Printf("engine: %v", err)
		}
	}
	c.fireLocked(container.WaitConditionNextExit, code)
	close(c.exited)
	return c.rec.HostConfig.AutoRemove && !c.removing && !c.removed
}

func (c *Container) resetRestartCount() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.RestartCount = 0
}

// resize sets the running process's tty size.
func (c *Container) resize(height, width uint16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rec.State.running() {
		return errNotRunning(c.rec.ID)
	}
	return c.proc.Resize(height, width)
}

func (c *Container) addExec(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.execs[id] = struct{}{}
}

// beginRemove marks c as being removed, so no start begins meanwhile, and
// returns what runs now.
func (c *Container) beginRemove() (p process, exited <-chan struct{}, running bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removing || c.removed {
		return nil, nil, false, errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.shortName()))
	}
	c.removing = true
	return c.proc, c.exited, c.rec.State.running(), nil
}

// abortRemove undoes beginRemove after a failed removal.
func (c *Container) abortRemove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removing = false
}

// finishRemove ends a removal: streams closed, every waiter answered.
func (c *Container) finishRemove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removed, c.removing = true, false
	if c.stdin != nil {
		c.stdin.close()
	}
	c.out.end() // clients attached to a container that never ran again
	c.rec.State.Status = container.StateRemoving
	c.fireLocked(container.WaitConditionRemoved, c.rec.State.ExitCode)
}

// dropLink removes the link with alias and saves; false when there is none.
func (c *Container) dropLink(alias string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.rec.Links, func(l link) bool { return l.Alias == alias })
	if i < 0 {
		return false, nil
	}
	c.rec.Links = slices.Delete(slices.Clone(c.rec.Links), i, i+1)
	c.links.Store(&c.rec.Links)
	return true, c.save()
}

// addWaiter registers a ContainerWait; it is answered at once when the
// condition already holds.
func (c *Container) addWaiter(ctx context.Context, cond container.WaitCondition) <-chan container.WaitResponse {
	w := &waiter{cond: cond, ch: make(chan container.WaitResponse, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if (cond == container.WaitConditionNotRunning && !c.rec.State.running()) ||
		(cond == container.WaitConditionRemoved && c.removed) {
		w.ch <- container.WaitResponse{StatusCode: int64(c.rec.State.ExitCode)}
		return w.ch
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
	return w.ch
}
