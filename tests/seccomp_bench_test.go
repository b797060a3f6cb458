package tests

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkRunRmSeccomp is the cost of the filter on `warren run --rm
// busybox true`: each iteration runs it with Docker's default profile and
// with seccomp=unconfined, one after the other so that the machine's load
// falls on both alike, and the medians of each are reported. Run it as the
// e2e tests run, with -test.run '^$' -test.bench RunRmSeccomp
// -test.benchtime 20x.
func BenchmarkRunRmSeccomp(b *testing.B) {
	variants := []struct {
		metric string
		opts   []string
		times  []time.Duration
	}{
		{metric: "default-median-ms"},
		{metric: "unconfined-median-ms", opts: []string{"--security-opt", "seccomp=unconfined"}},
	}
	for b.Loop() {
		for i := range variants {
			v := &variants[i]
			args := append(append([]string{"run", "--rm"}, v.opts...), "busybox", "true")
			t0 := time.Now()
			r := runCmd(suite.bin, suite.env, nil, args...)
			v.times = append(v.times, time.Since(t0))
			if r.code != 0 {
				b.Fatalf("warren %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
			}
		}
	}
	for _, v := range variants {
		slices.Sort(v.times)
		b.ReportMetric(float64(v.times[len(v.times)/2].Microseconds())/1000, v.metric)
	}
	b.ReportMetric(0, "ns/op")
}
