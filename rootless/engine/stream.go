package engine

import (
	"io"
	"sync"
)

// fanout copies a container's output to every attached client. Clients
// register before start (docker run attaches first) and are released when
// the run's output ends.
type fanout struct {
	mu      sync.Mutex
	clients map[*client]struct{}
}

func newFanout() *fanout { return &fanout{clients: map[*client]struct{}{}} }

// client is one attached connection. Writes from the stdout and stderr
// copiers are serialised because the HTTP layer frames each write.
type client struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
	done           chan struct{}
	once           sync.Once
}

func (cl *client) close() { cl.once.Do(func() { close(cl.done) }) }

func (f *fanout) add(stdout, stderr io.Writer) *client {
	cl := &client{stdout: stdout, stderr: stderr, done: make(chan struct{})}
	f.mu.Lock()
	f.clients[cl] = struct{}{}
	f.mu.Unlock()
	return cl
}

func (f *fanout) remove(cl *client) {
	f.mu.Lock()
	delete(f.clients, cl)
	f.mu.Unlock()
	cl.close()
}

// write sends p to every client attached to stream; a client whose write
// fails has gone and is dropped, so one dead client never stalls output.
func (f *fanout) write(stream string, p []byte) {
	f.mu.Lock()
	clients := make([]*client, 0, len(f.clients))
	for cl := range f.clients {
		clients = append(clients, cl)
	}
	f.mu.Unlock()
	for _, cl := range clients {
		w := cl.stdout
		if stream == "stderr" {
			w = cl.stderr
		}
		if w == nil {
			continue
		}
		cl.mu.Lock()
		_, err := w.Write(p)
		cl.mu.Unlock()
		if err != nil {
			f.remove(cl)
		}
	}
}

// end releases every client: the run's output is over.
func (f *fanout) end() {
	f.mu.Lock()
	clients := f.clients
	f.clients = map[*client]struct{}{}
	f.mu.Unlock()
	for cl := range clients {
		cl.close()
	}
}

// stdinMux is a container's stdin (OpenStdin): clients write into the
// current run's pipe, the run copies it into the process. The pipe outlives
// attaches, so a client attached before start feeds the coming run.
type stdinMux struct {
	mu   sync.Mutex
	r    *io.PipeReader
	w    *io.PipeWriter
	gone bool
}

func newStdinMux() *stdinMux {
	m := &stdinMux{}
	m.r, m.w = io.Pipe()
	return m
}

// writer is the end clients copy their stdin into.
func (m *stdinMux) writer() *io.PipeWriter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.w
}

// reader is the end the current run reads.
func (m *stdinMux) reader() *io.PipeReader {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.r
}

// reset ends the run's pipe (blocked client copies fail) and makes the
// next run's.
func (m *stdinMux) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.r.CloseWithError(io.ErrClosedPipe)
	m.w.CloseWithError(io.ErrClosedPipe)
	if !m.gone {
		m.r, m.w = io.Pipe()
	}
}

// close ends the pipe for good (container removed).
func (m *stdinMux) close() {
	m.mu.Lock()
	m.gone = true
	m.mu.Unlock()
	m.reset()
}

// feed copies the pipe into the process's stdin and closes that at EOF, so
// the process sees the end of its input (docker run -i with StdinOnce).
func feed(dst io.Writer, src io.Reader, closeAtEOF bool) {
	io.Copy(dst, src)
	if c, ok := dst.(io.Closer); ok && closeAtEOF {
		c.Close()
	}
}
