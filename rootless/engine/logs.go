package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"warren/rootless/api"
)

// logEntry is one line of Docker's json-file log driver.
type logEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logFile is a container's json-file log: written by the running process's
// copiers, read by logs and attach. notify is closed (and replaced) on
// every write and when the run ends, to wake followers.
type logFile struct {
	path   string
	mu     sync.Mutex
	f      *os.File // nil when no run is writing
	notify chan struct{}
}

func newLogFile(path string) *logFile {
	return &logFile{path: path, notify: make(chan struct{})}
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	l.mu.Lock()
	l.f = f
	l.mu.Unlock()
	return nil
}

func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.wake()
}

func (l *logFile) wake() {
	close(l.notify)
	l.notify = make(chan struct{})
}

// write appends one record; it is written with one call so a reader never
// sees two records interleaved.
func (l *logFile) write(stream string, line []byte, t time.Time) {
	data, err := json.Marshal(logEntry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return
	}
	data = append(data, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Write(data)
	}
	l.wake()
}

// state returns the channel that the next write closes and whether a run
// is writing.
func (l *logFile) state() (<-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify, l.f != nil
}

// lineWriter cuts a stream into log records at newlines, as the json-file
// driver does; a partial line is kept until its newline or flush.
type lineWriter struct {
	log    *logFile
	stream string
	buf    []byte
}

// maxLine bounds a record like Docker's 16 KiB buffer, so output without
// newlines still reaches the log.
const maxLine = 16 * 1024

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < maxLine {
			return len(p), nil
		}
		n := i + 1
		if i < 0 {
			n = maxLine
		}
		w.log.write(w.stream, w.buf[:n], time.Now())
		w.buf = w.buf[n:]
	}
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.log.write(w.stream, w.buf, time.Now())
		w.buf = nil
	}
}

// logFilter selects records: tail, since/until (zero = unbounded).
type logFilter struct {
	tail         int // -1 = all
	since, until time.Time
}

func (f logFilter) match(e logEntry) bool {
	if !f.since.IsZero() && e.Time.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && e.Time.After(f.until) {
		return false
	}
	return true
}

func parseLogFilter(opts api.LogsOptions, now time.Time) (logFilter, error) {
	f := logFilter{tail: -1}
	if t := opts.Tail; t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return f, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for \"tail\": %q", t))
		}
		if n >= 0 {
			f.tail = n
		}
	}
	var err error
	if f.since, err = parseLogTime(opts.Since, now); err != nil {
		return f, err
	}
	if f.until, err = parseLogTime(opts.Until, now); err != nil {
		return f, err
	}
	return f, nil
}

// parseLogTime reads Docker's timestamps: unix seconds with optional
// fraction (what the CLI sends), RFC 3339, or a duration ago ("10m").
func parseLogTime(s string, now time.Time) (time.Time, error) {
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	if sec, frac, ok := strings.Cut(s, "."); ok || isDigits(s) {
		if isDigits(sec) && (frac == "" || isDigits(frac)) {
			secs, err := strconv.ParseInt(sec, 10, 64)
			if err == nil {
				nanos := int64(0)
				if frac != "" {
					f, _ := strconv.ParseFloat("0."+frac, 64)
					nanos = int64(math.Round(f * 1e9))
				}
				return time.Unix(secs, nanos), nil
			}
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for time: %q", s))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// readLog reads complete records from r, starting at offset, and returns
// them and the offset after the last complete line.
func readLog(r io.ReaderAt, offset int64) ([]logEntry, int64, error) {
	var entries []logEntry
	br := bufio.NewReader(io.NewSectionReader(r, offset, math.MaxInt64-offset))
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return entries, offset, nil // a partial last line is read next time
		}
		if err != nil {
			return entries, offset, err
		}
		offset += int64(len(line))
		var e logEntry
		if json.Unmarshal(line, &e) == nil {
			entries = append(entries, e)
		}
	}
}

// applyFilter keeps the matching records, then the last tail of them.
func applyFilter(entries []logEntry, f logFilter) []logEntry {
	kept := entries[:0:0]
	for _, e := range entries {
		if f.match(e) {
			kept = append(kept, e)
		}
	}
	if f.tail >= 0 && len(kept) > f.tail {
		kept = kept[len(kept)-f.tail:]
	}
	return kept
}

// rfc3339NanoFixed is Docker's timestamp format for logs -t: always nine
// fraction digits, so columns line up.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// emit writes records to the requested writers.
func emit(entries []logEntry, stdout, stderr io.Writer, timestamps bool) error {
	for _, e := range entries {
		w := stdout
		if e.Stream == "stderr" {
			w = stderr
		}
		if w == nil {
			continue
		}
		line := e.Log
		if timestamps {
			line = e.Time.Format(rfc3339NanoFixed) + " " + line
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

// ContainerLogs writes the container's log records, and with Follow the
// new ones until its run ends or ctx does.
func (e *Engine) ContainerLogs(ctx context.Context, name string, opts api.LogsOptions) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	filter, err := parseLogFilter(opts, time.Now())
	if err != nil {
		return err
	}
	return c.followLog(ctx, opts.Stdout, opts.Stderr, opts.Timestamps, opts.Follow, filter)
}

func (c *Container) followLog(ctx context.Context, stdout, stderr io.Writer, timestamps, follow bool, filter logFilter) error {
	notify, active := c.log.state()
	f, err := os.Open(c.log.path)
	if errors.Is(err, os.ErrNotExist) {
		if !follow || !active {
			return nil
		}
		// The run has not written yet; the file appears with its first line.
		f, err = os.OpenFile(c.log.path, os.O_RDONLY|os.O_CREATE, 0o600)
	}
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	defer f.Close()
	entries, offset, err := readLog(f, 0)
	if err != nil {
		return fmt.Errorf("read container log: %w", err)
	}
	if err := emit(applyFilter(entries, filter), stdout, stderr, timestamps); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	filter.tail = -1 // tail applies to the past only
	for active {
		select {
		case <-notify:
		case <-ctx.Done():
			return nil
		}
		notify, active = c.log.state()
		if entries, offset, err = readLog(f, offset); err != nil {
			return fmt.Errorf("read container log: %w", err)
		}
		if !filter.until.IsZero() && time.Now().After(filter.until) {
			active = false
		}
		if err := emit(applyFilter(entries, filter), stdout, stderr, timestamps); err != nil {
			return err
		}
	}
	return nil
}
