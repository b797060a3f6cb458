package engine

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"syscall"
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
	return c.recordLocked()
}

// recordLocked is the record with the restart policy in effect, which
// update may have changed: HostConfig itself is never written, so it is
// copied when they differ.
func (c *Container) recordLocked() record {
	r := c.rec
	if r.HostConfig.RestartPolicy != c.policy {
		hc := *r.HostConfig
		hc.RestartPolicy = c.policy
		r.HostConfig = &hc
	}
	return r
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
	return c.recordLocked(), !c.removed
}

// inspected is the record and the container's exec IDs.
func (c *Container) inspected() (record, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.execs))
	for id := range c.execs {
		ids = append(ids, id)
	}
	return c.recordLocked(), ids
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
// or already running, is not started. A user's start (policy false)
// begins the restart policy anew, as moby's ResetRestartManager; a policy
// restart (true) goes on only if nothing canceled it while it waited.
func (c *Container) startRun(run func() error, policy, quitting bool) (ep *Endpoint, autoRemove bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if policy && (c.removing || c.removed || quitting || c.rec.State.Status != container.StateRestarting) {
		c.cancelRestartLocked()
		return nil, false, errRestartCanceled
	}
	if c.removing || c.removed {
		return nil, false, errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.shortName()))
	}
	if !policy {
		if c.rec.State.alive() {
			return nil, false, errdefs.ErrNotModified.WithMessage("container already started")
		}
		c.rec.RestartCount, c.rec.ManuallyStopped, c.stopping, c.backoff = 0, false, false, 0
	}
	c.pending = nil
	err = run()
	return c.rec.Endpoint, err != nil && c.rec.HostConfig.AutoRemove, err
}

// setRunningLocked records a started run: its process (hostPid is how
// the host sees it), address and host ports.
func (c *Container) setRunningLocked(p process, hostPid int, ep *Endpoint, pub *portfwd.Published) {
	c.proc, c.exited, c.pub = p, make(chan struct{}), pub
	// FinishedAt stays the last exit's, as in moby (SetRunning).
	c.rec.State = state{Status: container.StateRunning, Pid: hostPid, StartedAt: time.Now().UTC(), FinishedAt: c.rec.State.FinishedAt}
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

// exitPlan is what follows a run's end: removal (--rm), or a policy
// restart after wait, unless cancel is closed first.
type exitPlan struct {
	autoRemove bool
	restart    bool
	wait       time.Duration
	cancel     <-chan struct{}
}

// setExited records the run's end, answers its waiters and decides what
// follows: a policy restart (the container is then restarting, as in
// Docker), or removal (--rm). Nothing restarts while the engine quits,
// after a stop or kill from the API, or during a removal.
func (c *Container) setExited(code int, err error, quitting bool) (plan exitPlan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC()
	c.rec.State.Status = container.StateExited
	if !quitting && !c.stopping && !c.removing && !c.removed &&
		shouldRestart(c.policy, code, c.rec.ManuallyStopped, c.rec.RestartCount) {
		c.backoff = nextBackoff(c.backoff, now.Sub(c.rec.State.StartedAt))
		c.rec.RestartCount++
		c.rec.State.Status = container.StateRestarting
		c.pending = make(chan struct{})
		plan = exitPlan{restart: true, wait: c.backoff, cancel: c.pending}
	}
	c.rec.State.ExitCode = code
	c.rec.State.Pid = 0
	c.rec.State.FinishedAt = now
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
	c.diedLocked(code)
	c.fireLocked(container.WaitConditionNextExit, code)
	close(c.exited)
	plan.autoRemove = c.rec.HostConfig.AutoRemove && !c.removing && !c.removed
	return plan
}

// cancelRestart ends a waiting policy restart: the container is exited.
func (c *Container) cancelRestart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelRestartLocked()
}

func (c *Container) cancelRestartLocked() {
	if c.pending != nil {
		close(c.pending)
		c.pending = nil
	}
	if c.rec.State.Status != container.StateRestarting {
		return
	}
	c.rec.State.Status = container.StateExited
	if !c.removed {
		if err := c.save(); err != nil {
			log.Printf("engine: %v", err)
		}
	}
	c.fireLocked(container.WaitConditionNextExit, c.rec.State.ExitCode)
}

// stopRequested records a stop or kill from the API, as moby's
// killWithSignal: the user stopped it (remembered for unless-stopped, but
// not when the engine quits), and this run is not restarted when sig is
// the one that ends it (the StopSignal, SIGKILL, or any when none is
// set). A waiting restart is canceled (canceled); otherwise it returns
// what runs.
func (c *Container) stopRequested(sig syscall.Signal, quitting bool) (p process, exited <-chan struct{}, running, canceled bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rec.State.alive() {
		return nil, nil, false, false
	}
	if !quitting && !c.rec.ManuallyStopped {
		c.rec.ManuallyStopped = true
		if err := c.save(); err != nil {
			log.Printf("engine: %v", err)
		}
	}
	ends := sig == syscall.SIGKILL || c.rec.Config.StopSignal == ""
	if !ends {
		s, err := parseSignal(c.rec.Config.StopSignal)
		ends = err == nil && s == sig
	}
	if ends {
		c.stopping = true
	}
	if c.rec.State.Status == container.StateRestarting {
		c.cancelRestartLocked()
		return nil, nil, false, true
	}
	return c.proc, c.exited, true, false
}

// setPolicy is docker update --restart: it applies from the next exit.
func (c *Container) setPolicy(p container.RestartPolicy) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removing || c.removed {
		return fmt.Errorf(`container is marked for removal and cannot be "update"`)
	}
	if c.rec.HostConfig.AutoRemove && p.Name != container.RestartPolicyDisabled {
		return errdefs.ErrConflict.WithMessage("Restart policy cannot be updated because AutoRemove is enabled for the container")
	}
	c.policy = p
	return c.save()
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

// errAlive is beginRemove's refusal without force; the caller words it.
var errAlive = errors.New("container is running or restarting")

// beginRemove marks c as being removed, so no start begins meanwhile, and
// returns what runs now. A running or restarting container needs force;
// a waiting restart is then canceled.
func (c *Container) beginRemove(force bool) (p process, exited <-chan struct{}, running bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removing || c.removed {
		return nil, nil, false, errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.shortName()))
	}
	if c.rec.State.alive() && !force {
		return nil, nil, false, errAlive
	}
	c.removing = true
	c.cancelRestartLocked()
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
	if (cond == container.WaitConditionNotRunning && !c.rec.State.alive()) ||
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
