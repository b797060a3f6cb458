package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
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

// logFile is a container's log, in json-file's format: written by the
// running process's copiers, read by logs and attach. With a max size it
// rotates Docker's way: the current file moves to path.1, path.1 to
// path.2 and so on, keeping maxFiles files in all. notify is closed (and
// replaced) on every write and when the run ends, to wake followers.
type logFile struct {
	path string    // the current file; "" for the none driver
	cfg  logConfig // immutable

	mu     sync.Mutex
	f      *os.File // nil when no run is writing
	size   int64    // of the current file
	gen    uint64   // rotations so far, so followers notice them
	notify chan struct{}
}

func newLogFile(path string, cfg logConfig) *logFile {
	return &logFile{path: path, cfg: cfg, notify: make(chan struct{})}
}

func (l *logFile) open() error {
	if l.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open container log: %w", err)
	}
	l.mu.Lock()
	l.f, l.size = f, st.Size()
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
// sees two records interleaved. As in Docker, the file rotates before a
// write once it has reached the max size, so a file may pass it by one
// record.
func (l *logFile) write(stream string, line []byte, t time.Time) {
	data, err := json.Marshal(logEntry{Log: string(line), Stream: stream, Time: t.UTC()})
	if err != nil {
		return
	}
	data = append(data, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil && l.cfg.maxSize >= 0 && l.size >= l.cfg.maxSize {
		if err := l.rotate(); err != nil {
			log.Printf("engine: rotate %s: %v", l.path, err)
		}
	}
	if l.f != nil {
		n, _ := l.f.Write(data)
		l.size += int64(n)
	}
	l.wake()
}

// rotate moves the files up by one and starts an empty current file;
// l.mu is held. Readers open files under l.mu, so they never see the
// renames half done. As Docker, it starts the current file over even when
// a rename failed, so the log goes on.
func (l *logFile) rotate() error {
	l.f.Close()
	l.f = nil
	err := shiftFiles(l.path, l.cfg.maxFiles)
	f, oerr := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if oerr != nil {
		return errors.Join(err, oerr)
	}
	l.f, l.size = f, 0
	l.gen++
	return err
}

// shiftFiles renames path.i to path.(i+1) and path to path.1, dropping the
// oldest so that n files remain with the new current one; with n = 1 it
// removes path.
func shiftFiles(path string, n int) error {
	if n < 2 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := os.Remove(rotatedName(path, n-1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for i := n - 1; i > 1; i-- {
		if err := os.Rename(rotatedName(path, i-1), rotatedName(path, i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(path, rotatedName(path, 1))
}

// rotatedName is Docker's name of the i-th older file: path.1 is the
// newest after the current one.
func rotatedName(path string, i int) string { return path + "." + strconv.Itoa(i) }

// state returns the channel that the next write closes, the rotations so
// far and whether a run is writing.
func (l *logFile) state() (<-chan struct{}, uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify, l.gen, l.f != nil
}

// openAll opens the log's files, oldest first, and returns them with the
// generation of the last (the current file); the current file is missing
// when nothing was written yet.
func (l *logFile) openAll() ([]*os.File, uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var files []*os.File
	for i := l.cfg.maxFiles - 1; i >= 0; i-- {
		name := l.path
		if i > 0 {
			name = rotatedName(l.path, i)
		}
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll(files)
			return nil, 0, fmt.Errorf("open container log: %w", err)
		}
		files = append(files, f)
	}
	return files, l.gen, nil
}

// openGen opens the file of generation g, or of the oldest still kept
// after it if g's was rotated away, and returns the generation opened.
func (l *logFile) openGen(g uint64) (*os.File, uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ; g <= l.gen; g++ {
		i := l.gen - g
		if i >= uint64(l.cfg.maxFiles) {
			continue // rotated away before the reader came to it
		}
		name := l.path
		if i > 0 {
			name = rotatedName(l.path, int(i))
		}
		f, err := os.Open(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, g, fmt.Errorf("open container log: %w", err)
		}
		return f, g, nil
	}
	return nil, l.gen, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
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
	if c.log.path == "" {
		return errReadLogsNotSupported
	}
	filter, err := parseLogFilter(opts, time.Now())
	if err != nil {
		return err
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	return c.followLog(ctx, opts.Stdout, opts.Stderr, opts.Timestamps, opts.Follow, filter)
}

// followLog writes the records of all the log's files, then with follow
// the new ones, across rotations, until the run ends or ctx does.
func (c *Container) followLog(ctx context.Context, stdout, stderr io.Writer, timestamps, follow bool, filter logFilter) error {
	if c.log.path == "" {
		return errReadLogsNotSupported
	}
	notify, _, active := c.log.state()
	files, gen, err := c.log.openAll()
	if err != nil {
		return err
	}
	var entries []logEntry
	var offset int64
	for _, f := range files {
		var got []logEntry
		if got, offset, err = readLog(f, 0); err != nil {
			return fmt.Errorf("read container log: %w", err)
		}
		entries = append(entries, got...)
	}
	// Follow the current file: the last one opened when it was there.
	var cur *os.File
	if n := len(files); n > 0 && files[n-1].Name() == c.log.path {
		cur, files = files[n-1], files[:n-1]
	}
	closeAll(files)
	defer func() {
		if cur != nil {
			cur.Close()
		}
	}()
	if err := emit(applyFilter(entries, filter), stdout, stderr, timestamps); err != nil {
		return err
	}
	if !follow || !active {
		return nil
	}
	if cur == nil {
		offset = 0
	}
	filter.tail = -1 // tail applies to the past only
	for active {
		select {
		case <-notify:
		case <-ctx.Done():
			return nil
		}
		var now uint64
		notify, now, active = c.log.state()
		for {
			if cur == nil {
				// Nothing written yet when we came, or the file we read was
				// rotated away: go on with the oldest file not yet read.
				f, g, err := c.log.openGen(gen)
				if err != nil {
					return err
				}
				if f == nil {
					break
				}
				cur, gen, offset = f, g, 0
			}
			if entries, offset, err = readLog(cur, offset); err != nil {
				return fmt.Errorf("read container log: %w", err)
			}
			if err := emit(applyFilter(entries, filter), stdout, stderr, timestamps); err != nil {
				return err
			}
			if gen >= now {
				break
			}
			// cur was rotated before we looked at the state, so it is
			// complete: read, go on with the next generation.
			cur.Close()
			cur, gen = nil, gen+1
		}
		if !filter.until.IsZero() && time.Now().After(filter.until) {
			active = false
		}
	}
	return nil
}
