package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

func TestParseLogConfig(t *testing.T) {
	tests := []struct {
		typ  string
		opts map[string]string
		want logConfig
		err  string
	}{
		{"", nil, logConfig{driverJSONFile, -1, 1}, ""},
		{"json-file", map[string]string{"max-size": "1k", "max-file": "3"}, logConfig{driverJSONFile, 1000, 3}, ""},
		{"json-file", map[string]string{"max-size": "10m"}, logConfig{driverJSONFile, 10_000_000, 1}, ""},
		{"json-file", map[string]string{"compress": "false", "mode": "blocking"}, logConfig{driverJSONFile, -1, 1}, ""},
		{"local", nil, logConfig{driverLocal, 20_000_000, 5}, ""},
		{"local", map[string]string{"max-size": "1k", "max-file": "2", "compress": "false"}, logConfig{driverLocal, 1000, 2}, ""},
		{"none", map[string]string{"whatever": "x"}, logConfig{driver: driverNone}, ""},
		// Docker's texts.
		{"syslog", nil, logConfig{}, "logger: no log driver named 'syslog' is registered"},
		{"fluentd", map[string]string{"fluentd-address": "x"}, logConfig{}, "logger: no log driver named 'fluentd' is registered"},
		{"json-file", map[string]string{"max-sise": "1k"}, logConfig{}, "unknown log opt 'max-sise' for json-file log driver"},
		{"local", map[string]string{"bogus": "1"}, logConfig{}, "unknown log opt 'bogus' for log driver local"},
		{"json-file", map[string]string{"max-size": "abc"}, logConfig{}, "failed to initialize logging driver: invalid size: 'abc'"},
		{"json-file", map[string]string{"max-size": "0"}, logConfig{}, "failed to initialize logging driver: max-size must be a positive number"},
		{"json-file", map[string]string{"max-file": "0"}, logConfig{}, "failed to initialize logging driver: max-file cannot be less than 1"},
		{"json-file", map[string]string{"max-file": "x"}, logConfig{}, `failed to initialize logging driver: strconv.Atoi: parsing "x": invalid syntax`},
		{"json-file", map[string]string{"compress": "true"}, logConfig{}, "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"},
		{"json-file", map[string]string{"mode": "fast"}, logConfig{}, "logger: logging mode not supported: fast"},
		{"json-file", map[string]string{"max-buffer-size": "4m"}, logConfig{}, "logger: max-buffer-size option is only supported with 'mode=non-blocking'"},
		{"local", map[string]string{"max-file": "1", "compress": "true"}, logConfig{}, "failed to initialize logging driver: compression cannot be enabled when max file count is 1"},
		{"local", map[string]string{"max-size": "-1"}, logConfig{}, "failed to initialize logging driver: invalid value for max-size: -1: invalid size: '-1'"},
		// What warren lacks is refused, not ignored.
		{"json-file", map[string]string{"max-size": "1k", "max-file": "2", "compress": "true"}, logConfig{}, errCompress.Error()},
		{"local", map[string]string{"compress": "true"}, logConfig{}, errCompress.Error()},
		{"json-file", map[string]string{"mode": "non-blocking"}, logConfig{}, "log opt mode=non-blocking is not supported by warren: the log is written as the output comes (mode=blocking)"},
		{"json-file", map[string]string{"labels": "a"}, logConfig{}, "log opt 'labels' is not supported by warren's json-file log driver"},
		{"local", map[string]string{"tag": "x"}, logConfig{}, "log opt 'tag' is not supported by warren's local log driver"},
	}
	for _, tt := range tests {
		got, err := parseLogConfig(container.LogConfig{Type: tt.typ, Config: tt.opts})
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s %v: error %v, want %q", tt.typ, tt.opts, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v = %+v, %v; want %+v", tt.typ, tt.opts, got, err, tt.want)
		}
	}
}

func testLog(t *testing.T, maxSize int64, maxFiles int) (*Container, *logFile) {
	t.Helper()
	dir := t.TempDir()
	l := newLogFile(filepath.Join(dir, "x-json.log"), logConfig{driverJSONFile, maxSize, maxFiles})
	if err := l.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	return &Container{log: l}, l
}

// writeRecord writes one line of about 100 bytes, as the copier would.
func writeRecord(l *logFile, i int) {
	l.write("stdout", []byte(fmt.Sprintf("line %03d %s\n", i, strings.Repeat("x", 40))), time.Now())
}

func wantLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "line %03d %s\n", i, strings.Repeat("x", 40))
	}
	return b.String()
}

func TestLogRotation(t *testing.T) {
	c, l := testLog(t, 1000, 3)
	for i := 0; i < 100; i++ {
		writeRecord(l, i)
	}
	names, _ := filepath.Glob(l.path + "*")
	if len(names) != 3 {
		t.Fatalf("files %v, want the current one and two rotated", names)
	}
	for _, n := range names {
		if st, _ := os.Stat(n); st.Size() > 1000+100 {
			t.Errorf("%s has %d bytes, over max-size by more than a record", n, st.Size())
		}
	}
	var all bytes.Buffer
	if err := c.followLog(context.Background(), &all, nil, false, false, logFilter{tail: -1}); err != nil {
		t.Fatal(err)
	}
	// What is kept is the newest records, whole and in order.
	got := all.String()
	if !strings.HasSuffix(got, wantLines(90, 99)) {
		t.Fatalf("logs ends %q", got[max(0, len(got)-300):])
	}
	n, _ := strconv.Atoi(strings.Fields(got)[1])
	if got != wantLines(n, 99) {
		t.Errorf("logs is not the records %d…99 in order", n)
	}
	var tail bytes.Buffer
	if err := c.followLog(context.Background(), &tail, nil, false, false, logFilter{tail: 15}); err != nil {
		t.Fatal(err)
	}
	if tail.String() != wantLines(85, 99) {
		t.Errorf("tail 15 across files = %q", tail.String())
	}
}

func TestLogRotationOneFile(t *testing.T) {
	c, l := testLog(t, 1000, 1)
	for i := 0; i < 30; i++ {
		writeRecord(l, i)
	}
	if names, _ := filepath.Glob(l.path + "*"); len(names) != 1 {
		t.Fatalf("files %v, want one", names)
	}
	var out bytes.Buffer
	c.followLog(context.Background(), &out, nil, false, false, logFilter{tail: 1})
	if out.String() != wantLines(29, 29) {
		t.Errorf("tail 1 = %q", out.String())
	}
}

// lineWaiter is a follower's stdout that lets the test wait for a line.
type lineWaiter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond *sync.Cond
}

func newLineWaiter() *lineWaiter {
	w := &lineWaiter{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.cond.Broadcast()
	return len(p), nil
}

func (w *lineWaiter) waitFor(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for !strings.Contains(w.buf.String(), s) {
		w.cond.Wait()
	}
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A follower sees every record, in order, across rotations: each record is
// written once the follower has the one before, so none is rotated away
// unread.
func TestLogFollowAcrossRotation(t *testing.T) {
	c, l := testLog(t, 1000, 2)
	for i := 0; i < 5; i++ {
		writeRecord(l, i)
	}
	out := newLineWaiter()
	done := make(chan error, 1)
	go func() {
		done <- c.followLog(context.Background(), out, nil, false, true, logFilter{tail: 2})
	}()
	out.waitFor("line 004")
	for i := 5; i < 60; i++ {
		writeRecord(l, i)
		out.waitFor(fmt.Sprintf("line %03d", i))
	}
	l.close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != wantLines(3, 59) {
		t.Errorf("follow got %q", got)
	}
}

// A follower that falls behind by more than the kept files goes on with
// the oldest file still there: what it shows is in order, ends with the
// last record and it returns when the run ends.
func TestLogFollowSlowReader(t *testing.T) {
	c, l := testLog(t, 1000, 2)
	writeRecord(l, 0)
	block := make(chan struct{})
	out := &blockingWriter{first: block}
	done := make(chan error, 1)
	go func() {
		done <- c.followLog(context.Background(), out, nil, false, true, logFilter{tail: -1})
	}()
	for i := 1; i < 100; i++ {
		writeRecord(l, i)
	}
	l.close()
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.buf.String()
	if !strings.HasSuffix(got, wantLines(99, 99)) {
		t.Errorf("slow follower ends %q", got[max(0, len(got)-200):])
	}
	var prev = -1
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		n, _ := strconv.Atoi(strings.Fields(line)[1])
		if n <= prev {
			t.Fatalf("record %d after %d", n, prev)
		}
		prev = n
	}
}

// blockingWriter holds its first write until first is closed.
type blockingWriter struct {
	first chan struct{}
	buf   bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.first
	return w.buf.Write(p)
}

func TestLogNoneRefusesReading(t *testing.T) {
	c := &Container{log: newLogFile("", logConfig{driver: driverNone})}
	if err := c.log.open(); err != nil {
		t.Fatal(err)
	}
	c.log.write("stdout", []byte("x\n"), time.Now())
	err := c.followLog(context.Background(), &bytes.Buffer{}, nil, false, false, logFilter{tail: -1})
	if !errors.Is(err, errdefs.ErrNotImplemented) || err.Error() != "configured logging driver does not support reading" {
		t.Errorf("logs on none: %v", err)
	}
}

func TestLogFilePath(t *testing.T) {
	for _, tt := range []struct{ driver, want string }{
		{driverJSONFile, "/c/abc-json.log"},
		{driverLocal, "/c/local-logs/container.log"},
		{driverNone, ""},
	} {
		if got := logFilePath("/c", "abc", tt.driver); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.driver, got, tt.want)
		}
	}
}

// BenchmarkLogWrite is the cost of one 100-byte record, unbounded and
// rotating every 10 KB among 3 files.
func BenchmarkLogWrite(b *testing.B) {
	line := []byte(strings.Repeat("x", 99) + "\n")
	for _, bc := range []struct {
		name string
		cfg  logConfig
	}{
		{"unbounded", logConfig{driverJSONFile, -1, 1}},
		{"rotating", logConfig{driverJSONFile, 10_000, 3}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := newLogFile(filepath.Join(b.TempDir(), "x-json.log"), bc.cfg)
			if err := l.open(); err != nil {
				b.Fatal(err)
			}
			defer l.close()
			now := time.Now()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				l.write("stdout", line, now)
			}
		})
	}
}
