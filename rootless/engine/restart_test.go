package engine

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

func TestNextBackoff(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		last, ran, want time.Duration
	}{
		{0, 0, 100 * ms},
		{100 * ms, time.Second, 200 * ms},
		{200 * ms, time.Second, 400 * ms},
		{51200 * ms, time.Second, time.Minute},
		{time.Minute, time.Second, time.Minute},
		{40 * time.Second, 9999 * ms, time.Minute},
		{time.Minute, 10 * time.Second, 100 * ms}, // a 10 s run resets it
		{time.Minute, time.Hour, 100 * ms},
	} {
		if got := nextBackoff(tc.last, tc.ran); got != tc.want {
			t.Errorf("nextBackoff(%v, %v) = %v, want %v", tc.last, tc.ran, got, tc.want)
		}
	}
	// moby's sequence from the start, each run short.
	var d time.Duration
	var seq []time.Duration
	for range 12 {
		d = nextBackoff(d, 0)
		seq = append(seq, d)
	}
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms,
		12800 * ms, 25600 * ms, 51200 * ms, time.Minute, time.Minute}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("sequence %v, want %v", seq, want)
		}
	}
}

func TestShouldRestart(t *testing.T) {
	p := func(name container.RestartPolicyMode, n int) container.RestartPolicy {
		return container.RestartPolicy{Name: name, MaximumRetryCount: n}
	}
	for _, tc := range []struct {
		policy  container.RestartPolicy
		code    int
		stopped bool
		count   int
		want    bool
	}{
		{p("", 0), 1, false, 0, false},
		{p(container.RestartPolicyDisabled, 0), 1, false, 0, false},
		{p(container.RestartPolicyAlways, 0), 0, false, 0, true},
		{p(container.RestartPolicyAlways, 0), 0, true, 99, true}, // the daemon-start case
		{p(container.RestartPolicyUnlessStopped, 0), 0, false, 5, true},
		{p(container.RestartPolicyUnlessStopped, 0), 137, true, 0, false},
		{p(container.RestartPolicyOnFailure, 0), 0, false, 0, false},
		{p(container.RestartPolicyOnFailure, 0), 3, false, 1000, true}, // no limit
		{p(container.RestartPolicyOnFailure, 2), 3, false, 0, true},
		{p(container.RestartPolicyOnFailure, 2), 3, false, 1, true},
		{p(container.RestartPolicyOnFailure, 2), 3, false, 2, false},
		{p(container.RestartPolicyOnFailure, 2), 3, true, 0, true}, // manual stop does not count for on-failure
	} {
		if got := shouldRestart(tc.policy, tc.code, tc.stopped, tc.count); got != tc.want {
			t.Errorf("shouldRestart(%+v, %d, %v, %d) = %v, want %v", tc.policy, tc.code, tc.stopped, tc.count, got, tc.want)
		}
	}
}

func TestSetResources(t *testing.T) {
	if got := setResources(container.Resources{}); len(got) != 0 {
		t.Errorf("zero Resources: %v", got)
	}
	pids := int64(5)
	got := setResources(container.Resources{Memory: 1 << 20, PidsLimit: &pids})
	if len(got) != 2 || got[0] != "Memory" || got[1] != "PidsLimit" {
		t.Errorf("set fields: %v", got)
	}
}

// stateMachine drives a container's state methods as the monitor and the
// restart goroutine do, without processes.
type stateMachine struct {
	t *testing.T
	c *Container
}

func newStateMachine(t *testing.T, p container.RestartPolicy) stateMachine {
	rec := record{ID: "0123456789abcdef", Name: "/x", Config: &container.Config{},
		HostConfig: &container.HostConfig{RestartPolicy: p}}
	return stateMachine{t, newContainer(rec, t.TempDir())}
}

// run is one started run (policy or user).
func (m stateMachine) run(policy bool) error {
	_, _, err := m.c.startRun(func() error {
		m.c.setRunningLocked(nil, 42, nil, nil)
		return nil
	}, policy, false)
	return err
}

func (m stateMachine) status() string {
	r := m.c.snapshot()
	return fmt.Sprintf("%s %d", r.State.Status, r.RestartCount)
}

func TestRestartStates(t *testing.T) {
	onFailure2 := container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2}
	t.Run("on-failure:2 restarts twice", func(t *testing.T) {
		m := newStateMachine(t, onFailure2)
		if err := m.run(false); err != nil {
			t.Fatal(err)
		}
		var waits []time.Duration
		for {
			plan := m.c.setExited(3, nil, false)
			if !plan.restart {
				break
			}
			waits = append(waits, plan.wait)
			if got := m.status(); !strings.HasPrefix(got, "restarting ") {
				t.Fatalf("after a restart decision: %s", got)
			}
			if err := m.run(true); err != nil {
				t.Fatal(err)
			}
		}
		if got := m.status(); got != "exited 2" {
			t.Errorf("final %s, want exited 2", got)
		}
		if len(waits) != 2 || waits[0] != firstBackoff || waits[1] != 2*firstBackoff {
			t.Errorf("waits %v", waits)
		}
		// A user's start begins again.
		if err := m.run(false); err != nil || m.status() != "running 0" {
			t.Errorf("user start: %v, %s", err, m.status())
		}
	})
	t.Run("stop cancels a waiting restart", func(t *testing.T) {
		m := newStateMachine(t, container.RestartPolicy{Name: container.RestartPolicyUnlessStopped})
		m.run(false)
		plan := m.c.setExited(1, nil, false)
		if !plan.restart {
			t.Fatal("unless-stopped did not restart")
		}
		if err := m.run(false); !errdefs.IsNotModified(err) {
			t.Errorf("user start while restarting: %v, want not modified", err)
		}
		_, _, running, canceled := m.c.stopRequested(syscall.SIGTERM, false)
		if running || !canceled {
			t.Fatalf("stopRequested = running %v, canceled %v", running, canceled)
		}
		select {
		case <-plan.cancel:
		default:
			t.Error("the waiting restart was not told")
		}
		if err := m.run(true); !errors.Is(err, errRestartCanceled) {
			t.Errorf("policy start after stop: %v", err)
		}
		r := m.c.snapshot()
		if r.State.Status != container.StateExited || !r.ManuallyStopped {
			t.Errorf("after stop: %s, manually stopped %v", r.State.Status, r.ManuallyStopped)
		}
		// Persisted: a new engine reads it back.
		saved, err := loadRecord(m.c.configPath())
		if err != nil || !saved.ManuallyStopped {
			t.Errorf("saved ManuallyStopped = %v, %v", saved.ManuallyStopped, err)
		}
	})
	t.Run("a stopped run is not restarted, an engine quitting restarts nothing", func(t *testing.T) {
		m := newStateMachine(t, container.RestartPolicy{Name: container.RestartPolicyAlways})
		m.run(false)
		m.c.stopRequested(syscall.SIGTERM, false)
		if plan := m.c.setExited(143, nil, false); plan.restart {
			t.Error("restarted after a stop")
		}
		m.run(false)
		if plan := m.c.setExited(0, nil, true); plan.restart {
			t.Error("restarted while the engine quits")
		}
		if m.c.snapshot().ManuallyStopped {
			t.Error("a user's start did not clear ManuallyStopped")
		}
	})
	t.Run("rm needs force while restarting", func(t *testing.T) {
		m := newStateMachine(t, container.RestartPolicy{Name: container.RestartPolicyAlways})
		m.run(false)
		m.c.setExited(0, nil, false)
		if _, _, _, err := m.c.beginRemove(false); !errors.Is(err, errAlive) {
			t.Errorf("rm without force: %v", err)
		}
		if _, _, running, err := m.c.beginRemove(true); err != nil || running {
			t.Errorf("rm -f: running %v, %v", running, err)
		}
		if got := m.c.snapshot().State.Status; got != container.StateExited {
			t.Errorf("after rm -f began: %s", got)
		}
	})
	t.Run("update applies from the next exit and is saved", func(t *testing.T) {
		m := newStateMachine(t, container.RestartPolicy{Name: container.RestartPolicyAlways})
		m.run(false)
		if err := m.c.setPolicy(container.RestartPolicy{Name: container.RestartPolicyDisabled}); err != nil {
			t.Fatal(err)
		}
		if plan := m.c.setExited(0, nil, false); plan.restart {
			t.Error("restarted after update --restart no")
		}
		if got := m.c.snapshot().HostConfig.RestartPolicy.Name; got != container.RestartPolicyDisabled {
			t.Errorf("policy shown %q", got)
		}
		saved, err := loadRecord(m.c.configPath())
		if err != nil || saved.HostConfig.RestartPolicy.Name != container.RestartPolicyDisabled {
			t.Errorf("saved policy %+v, %v", saved.HostConfig.RestartPolicy, err)
		}
	})
}
