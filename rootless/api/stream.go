package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types"
	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/jsonstream"
)

// stdHeaderLen is the size of Docker's multiplexing frame header:
// [stream, 0, 0, 0, big-endian uint32 payload length].
const stdHeaderLen = 8

// stdWriter frames each write as one multiplexed frame of its stream.
// The streams of one connection share mu so frames never interleave.
type stdWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream stdcopy.StdType
}

func (s *stdWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	frame := make([]byte, stdHeaderLen+len(p))
	frame[0] = byte(s.stream)
	binary.BigEndian.PutUint32(frame[4:stdHeaderLen], uint32(len(p)))
	copy(frame[stdHeaderLen:], p)

	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(frame)
	if err != nil {
		return max(n-stdHeaderLen, 0), err
	}
	return len(p), nil
}

// lockedWriter serialises writes from the process's stream copiers.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outputStreams gives the writers for a process's stdout and stderr over
// one connection: raw for a tty (its output is a single stream), framed
// otherwise. A stream the client did not ask for is nil.
func outputStreams(w io.Writer, tty, stdout, stderr bool) (io.Writer, io.Writer) {
	mu := new(sync.Mutex)
	var out, errOut io.Writer
	switch {
	case tty:
		raw := &lockedWriter{mu: mu, w: w}
		out, errOut = raw, raw
	default:
		out = &stdWriter{mu: mu, w: w, stream: stdcopy.Stdout}
		errOut = &stdWriter{mu: mu, w: w, stream: stdcopy.Stderr}
	}
	if !stdout {
		out = nil
	}
	if !stderr {
		errOut = nil
	}
	return out, errOut
}

// streamContentType is the media type Docker announces for attach, exec and
// logs streams. Non-tty streams were always framed, but API < 1.42 clients
// expect them announced as raw.
func streamContentType(version string, tty bool) string {
	if tty || versionLess(version, "1.42") {
		return types.MediaTypeRawStream
	}
	return types.MediaTypeMultiplexedStream
}

// hijack takes the connection over from the HTTP server and writes the
// response head Docker writes for attach and exec start: 101 when the client
// asked to upgrade (the docker CLI and Go client require it), else a plain
// 200 followed by the raw stream. The reader returns what the client sends
// next, starting with anything the server had already buffered.
func hijack(w http.ResponseWriter, r *http.Request, contentType string) (net.Conn, io.Reader, error) {
	conn, stdin, err := hijackQuiet(w)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.WriteString(conn, streamHead(r, contentType)); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("write upgrade response: %w", err)
	}
	return conn, stdin, nil
}

// hijackQuiet takes the connection over without answering yet. The
// client's stream is what the server had buffered, then the connection
// itself: rw.Reader reads through net/http's connReader, which cancels the
// request's context when it meets EOF, so a client half-closing its stdin
// would end the output it is still waiting for.
func hijackQuiet(w http.ResponseWriter) (net.Conn, io.Reader, error) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack connection: %w", err)
	}
	buffered, err := rw.Reader.Peek(rw.Reader.Buffered())
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("hijack connection: %w", err)
	}
	return conn, io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), conn), nil
}

// streamHead is the response head of a hijacked stream: 101 when the
// client asked to upgrade, else a plain 200.
func streamHead(r *http.Request, contentType string) string {
	if _, upgrade := r.Header["Upgrade"]; upgrade {
		return "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + contentType +
			"\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
	}
	return "HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\n\r\n"
}

// gatedWriter holds writes until its head has been sent, so output the
// backend produces while an attach is being wired cannot precede it.
type gatedWriter struct {
	w     io.Writer
	ready chan struct{}
}

func newGatedWriter(w io.Writer) *gatedWriter {
	return &gatedWriter{w: w, ready: make(chan struct{})}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.ready
	return g.w.Write(p)
}

// open sends head and lets the held writes through.
func (g *gatedWriter) open(head string) error {
	defer close(g.ready)
	_, err := io.WriteString(g.w, head)
	return err
}

// writeRawError answers a hijacked connection that has sent nothing yet
// with Docker's JSON error.
func writeRawError(conn net.Conn, err error) {
	status := errhttp.ToHTTP(err)
	body, _ := json.Marshal(&common.ErrorResponse{Message: err.Error()})
	fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
		status, http.StatusText(status), len(body)+1, body)
}

// streamWriteError reports a failure after a hijacked stream has started:
// as a system-error frame when the stream is framed (the client aborts with
// "error from daemon in stream"), else as a line of text.
func streamWriteError(w io.Writer, tty bool, msg string) {
	if tty {
		fmt.Fprintf(w, "%s\r\n", msg)
		return
	}
	sys := &stdWriter{mu: new(sync.Mutex), w: w, stream: stdcopy.Systemerr}
	_, _ = sys.Write([]byte(msg))
}

// lazyResponse is a streamed 200 response whose head is written on the
// first write (or by start), so a failure before any output can still be
// answered with Docker's JSON error and status. Every write is flushed.
type lazyResponse struct {
	mu          sync.Mutex
	w           http.ResponseWriter
	contentType string
	started     bool
}

func newLazyResponse(w http.ResponseWriter, contentType string) *lazyResponse {
	return &lazyResponse{w: w, contentType: contentType}
}

// start writes and flushes the response head if it is not out yet.
func (l *lazyResponse) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startLocked()
}

func (l *lazyResponse) startLocked() {
	if l.started {
		return
	}
	l.started = true
	l.w.Header().Set("Content-Type", l.contentType)
	l.w.WriteHeader(http.StatusOK)
	flush(l.w)
}

// Started tells whether the head is out, after which errors go in-band.
func (l *lazyResponse) Started() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started
}

func (l *lazyResponse) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startLocked()
	n, err := l.w.Write(p)
	flush(l.w)
	return n, err
}

// jsonStream writes Docker's JSON message stream (load, pull, import): one
// jsonstream.Message per line. It implements Progress.
type jsonStream struct {
	out io.Writer
}

var _ Progress = (*jsonStream)(nil)

func (j *jsonStream) Stream(text string) {
	j.send(&jsonstream.Message{Stream: text})
}

// Status sends a status line. Per-layer lines (with an id) carry a
// progressDetail, empty until there are counts, as Docker's do.
func (j *jsonStream) Status(id, status string, current, total int64) {
	msg := &jsonstream.Message{ID: id, Status: status}
	if id != "" || current != 0 || total != 0 {
		msg.Progress = &jsonstream.Progress{Current: current, Total: total}
	}
	j.send(msg)
}

// streamError is Docker's in-band error object; clients read errorDetail,
// old ones the flat "error".
type streamError struct {
	ErrorDetail jsonstream.Error `json:"errorDetail"`
	Error       string           `json:"error"`
}

func (j *jsonStream) Error(err error) {
	j.send(&streamError{ErrorDetail: jsonstream.Error{Message: err.Error()}, Error: err.Error()})
}

// send writes one object as one line in one write, so concurrent senders
// (parallel layer downloads) never interleave.
func (j *jsonStream) send(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		return
	}
	_, _ = j.out.Write(append(line, '\n'))
}
