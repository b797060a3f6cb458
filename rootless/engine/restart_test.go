package engine

import (
	"testing"
	"time"

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
