package api

import (
	"bufio"
	"bytes"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// LogRequests logs each request's method, path, status and duration to l:
// every request with debug, else only the failed ones (status >= 400), so
// a daemon's log tells which endpoint a client missed.
func LogRequests(h http.Handler, debug bool, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		status := sw.code()
		if debug || status >= 400 {
			l.Printf("api: %s %s %d %s", r.Method, r.URL.Path, status, time.Since(start).Round(time.Microsecond))
		}
	})
}

// statusWriter records the status a handler answers, also on a hijacked
// connection (attach, exec start), where it is the first response line.
type statusWriter struct {
	http.ResponseWriter
	mu     sync.Mutex
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	s.set(status)
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.set(http.StatusOK)
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) set(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == 0 {
		s.status = status
	}
}

func (s *statusWriter) code() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == 0 {
		return http.StatusOK // a handler that wrote nothing answered 200
	}
	return s.status
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &statusConn{Conn: conn, s: s}, rw, nil
}

// statusConn reads the status off the first line written on a hijacked
// connection ("HTTP/1.1 101 UPGRADED").
type statusConn struct {
	net.Conn
	s    *statusWriter
	once sync.Once
}

func (c *statusConn) Write(p []byte) (int, error) {
	c.once.Do(func() { c.s.set(statusOfHead(p)) })
	return c.Conn.Write(p)
}

// statusOfHead parses the status code of a response head; 0 if there is
// none.
func statusOfHead(p []byte) int {
	_, rest, ok := bytes.Cut(p, []byte(" "))
	if !ok || len(rest) < 3 {
		return 0
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0
	}
	return code
}
