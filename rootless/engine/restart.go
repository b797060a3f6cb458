package engine

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/moby/moby/api/types/container"
)

// Restart policies, as moby's restartmanager applies them: the decision
// and the back-off are pure functions of what the container did; the
// Container keeps the back-off between runs and the engine waits it out.

const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = time.Minute
	// A run at least this long resets the back-off.
	backoffResetAfter = 10 * time.Second
)

// nextBackoff is the wait before the next policy restart, given the last
// wait (0 at first) and how long the run that just ended lasted.
func nextBackoff(last, ran time.Duration) time.Duration {
	if ran >= backoffResetAfter {
		last = 0
	}
	next := firstBackoff
	if last != 0 {
		next = min(last*2, maxBackoff)
	}
	return next
}

// shouldRestart is moby's decision on an exit: always restarts,
// unless-stopped unless the user stopped it, on-failure on a non-zero exit
// while the count allows (N=0 is no limit).
func shouldRestart(p container.RestartPolicy, exitCode int, manuallyStopped bool, restartCount int) bool {
	switch p.Name {
	case container.RestartPolicyAlways:
		return true
	case container.RestartPolicyUnlessStopped:
		return !manuallyStopped
	case container.RestartPolicyOnFailure:
		return exitCode != 0 && (p.MaximumRetryCount == 0 || restartCount < p.MaximumRetryCount)
	}
	return false
}

// errRestartCanceled ends a policy restart that a stop, kill or rm
// overtook while it waited.
var errRestartCanceled = errors.New("restart canceled")

// restartAfter waits out the back-off, then starts c again; a stop, kill
// or rm meanwhile (cancel closed) or the engine's shutdown ends the wait.
func (e *Engine) restartAfter(c *Container, wait time.Duration, cancel <-chan struct{}) {
	defer e.wg.Done()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-cancel:
		return // whoever canceled recorded the exit
	case <-e.quit:
		c.cancelRestart()
		return
	}
	if err := e.startAs(context.Background(), c, true); err != nil && !errors.Is(err, errRestartCanceled) {
		log.Printf("engine: restart %s: %v", c.rec.ID[:12], err)
		c.cancelRestart()
	}
}

// RestartAtStartup starts again the containers whose policy asks for it
// after the previous engine ended, as dockerd does at its start: always
// ones, unless-stopped ones the user did not stop, on-failure ones whose
// last exit failed. Call it once the network is wired, before or while
// serving. Containers never started stay created. A container that needs
// another (a link source, --network container:X) may come before it in
// the index, so the failed ones are tried again while any start succeeds,
// as dockerd starts link sources first.
func (e *Engine) RestartAtStartup(ctx context.Context) {
	var due []*Container
	for _, c := range e.containers() {
		r := c.snapshot()
		if r.State.Status == container.StateExited && !r.State.StartedAt.IsZero() &&
			shouldRestart(r.HostConfig.RestartPolicy, r.State.ExitCode, r.ManuallyStopped, r.RestartCount) {
			due = append(due, c)
		}
	}
	errs := map[*Container]error{}
	for progress := true; progress && len(due) > 0; {
		progress = false
		var failed []*Container
		for _, c := range due {
			// A manual start in effect: the count and back-off begin anew.
			if err := e.start(ctx, c); err != nil {
				errs[c] = err
				failed = append(failed, c)
				continue
			}
			progress = true
		}
		due = failed
	}
	for _, c := range due {
		log.Printf("engine: restart %s at startup: %v", c.rec.ID[:12], errs[c])
	}
}
