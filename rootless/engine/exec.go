package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/term"

	"warren/rootless/api"
	"warren/rootless/sandbox"
)

// execConfig is one exec: created, then started once.
type execConfig struct {
	id, containerID string
	req             container.ExecCreateRequest
	spec            sandbox.ExecSpec

	// detachKeys end an attached start on a tty's stdin (Docker's
	// default, ctrl-p ctrl-q, when empty); the process keeps running.
	detachKeys []byte

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode *int
	pid      int // the host's, as reported
	proc     process
}

// ExecCreate prepares an exec in a running container, with Docker's
// defaults: the container's user and working directory, its env plus
// the exec's.
func (e *Engine) ExecCreate(ctx context.Context, name string, req *container.ExecCreateRequest) (string, error) {
	c, err := e.lookup(name)
	if err != nil {
		return "", err
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.ErrInvalidArgument.WithMessage("No exec command specified")
	}
	r := c.snapshot()
	cfg, hc, links := r.Config, r.HostConfig, r.Links
	if r.State.Status == container.StateRestarting {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is restarting, wait until the container is running", c.rec.ID))
	}
	if !r.State.running() {
		return "", errNotRunning(c.rec.ID)
	}
	// Docker recomputes link variables for every exec, and fails like start
	// when a source is not running.
	sources, err := e.resolveLinks(c.rec.Name, links)
	if err != nil {
		return "", err
	}
	// Docker's exec runs under the container's filter, even --privileged.
	filter, err := seccompFor(hc)
	if err != nil {
		return "", err
	}
	x := &execConfig{id: randomID(), containerID: c.rec.ID, req: *req}
	if req.DetachKeys != "" {
		if x.detachKeys, err = term.ToBytes(req.DetachKeys); err != nil {
			return "", fmt.Errorf("Invalid escape keys (%s) provided", req.DetachKeys)
		}
	}
	x.spec = sandbox.ExecSpec{
		Args:       req.Cmd,
		Env:        execEnv(cfg.Hostname, req.Tty, linkEnv(c.rec.Name, sources), cfg.Env, req.Env),
		Cwd:        firstNonEmpty(req.WorkingDir, cfg.WorkingDir),
		User:       firstNonEmpty(req.User, cfg.User),
		Tty:        req.Tty,
		OpenStdin:  req.AttachStdin,
		Privileged: req.Privileged || hc.Privileged,
		CapAdd:     hc.CapAdd,
		CapDrop:    hc.CapDrop,
		Seccomp:    filter,
		GroupAdd:   hc.GroupAdd,
		Rlimits:    rlimits(hc),
	}
	e.mu.Lock()
	e.execs[x.id] = x
	e.mu.Unlock()
	c.addExec(x.id)
	e.execEvent(x, eventtypes.ActionExecCreate)
	return x.id, nil
}

// defaultDetachKeys is Docker's escape sequence, ctrl-p ctrl-q.
var defaultDetachKeys = []byte{16, 17}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (e *Engine) execByID(id string) (*execConfig, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[id]
	if !ok {
		return nil, errdefs.ErrNotFound.WithMessage("No such exec instance: " + id)
	}
	return x, nil
}

// ExecStart runs the exec. Detached, it returns once the process runs and
// its output is discarded (as Docker does); attached, it returns after the
// output ended and the exit code is recorded, so an inspect right after
// sees it.
func (e *Engine) ExecStart(ctx context.Context, execID string, opts api.ExecStartOptions) error {
	detach, streams := opts.Detach, opts.Streams
	x, err := e.execByID(execID)
	if err != nil {
		return err
	}
	c, err := e.lookup(x.containerID)
	if err != nil {
		return err
	}
	if err := x.claim(); err != nil {
		return err
	}

	init, _, ok := c.current()
	if !ok {
		return errNotRunning(c.rec.ID)
	}
	pid := init.Pid() // the engine's pid: exec joins its namespaces

	if detach {
		streams = api.Streams{}
	}
	// The tty has its size before the command runs (a shell reads it at
	// once): the start's, else the create's, as in Docker. An exec starts
	// once (claim), so its spec is ours to set.
	size := opts.ConsoleSize
	if size == nil {
		size = x.req.ConsoleSize
	}
	if size != nil {
		x.spec.ConsoleSize = [2]uint16{uint16(size[0]), uint16(size[1])}
	}
	e.execEvent(x, eventtypes.ActionExecStart)
	proc, err := e.run.Exec(pid, &x.spec)
	if err != nil {
		x.ended(nil, sandbox.ExitCode(err))
		return err
	}
	x.setRunning(proc)

	done := make(chan struct{})
	detached := make(chan struct{})
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		e.runExec(x, proc, streams, detached)
	}()
	if detach {
		return nil
	}
	select {
	case <-done:
	case <-detached:
	case <-ctx.Done():
	}
	return nil
}

// runExec copies the exec's streams until its output ends, then records
// its exit code. Typing the detach keys on a tty's stdin closes detached;
// the process runs on with its output drained.
func (e *Engine) runExec(x *execConfig, p process, s api.Streams, detached chan<- struct{}) {
	var copiers sync.WaitGroup
	copyOut := func(w io.Writer, r io.Reader) {
		if r == nil {
			return
		}
		if w == nil {
			w = io.Discard
		}
		copiers.Add(1)
		go func() {
			defer copiers.Done()
			// A client that detached or went away no longer takes the
			// output; the pipe is kept drained so the process never blocks.
			io.Copy(w, r)
			io.Copy(io.Discard, r)
		}()
	}
	if con := p.Console(); con != nil {
		copyOut(s.Stdout, con)
		if s.Stdin != nil {
			go func() {
				// As Docker, the keys are not passed on, so the tty
				// never echoes them.
				keys := x.detachKeys
				if len(keys) == 0 {
					keys = defaultDetachKeys
				}
				_, err := io.Copy(con, term.NewEscapeProxy(s.Stdin, keys))
				if errors.As(err, new(term.EscapeError)) {
					e.execEvent(x, eventtypes.ActionExecDetach)
					close(detached)
				}
			}()
		}
	} else {
		copyOut(s.Stdout, p.Stdout())
		copyOut(s.Stderr, p.Stderr())
		if in := p.Stdin(); in != nil && s.Stdin != nil {
			go feed(in, s.Stdin, true)
		}
	}
	code, _ := p.Wait()
	copiers.Wait()
	e.execEvent(x, eventtypes.ActionExecDie, "exitCode", strconv.Itoa(code))
	x.ended(p, code)
}

// An exec's state changes only in these methods, which take x.mu.

// claim marks the exec started: it runs once.
func (x *execConfig) claim() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.started {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Error: Exec command %s has already run", x.id))
	}
	x.started = true
	return nil
}

func (x *execConfig) setRunning(p process) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.running, x.pid, x.proc = true, p.HostPid(), p
}

// ended records the exit code; p, if the exec ran, is closed under x.mu
// because ExecResize uses its console there.
func (x *execConfig) ended(p process, code int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if p != nil {
		p.Close()
	}
	x.running, x.exitCode, x.proc = false, &code, nil
}

func (x *execConfig) resize(height, width uint16) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.running {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Exec %s is not running", x.id))
	}
	return x.proc.Resize(height, width)
}

// ExecResize sets the exec's tty size.
func (e *Engine) ExecResize(ctx context.Context, execID string, height, width uint) error {
	x, err := e.execByID(execID)
	if err != nil {
		return err
	}
	return x.resize(uint16(height), uint16(width))
}

// ExecInspect reports the exec as Docker's GET /exec/{id}/json.
func (e *Engine) ExecInspect(ctx context.Context, execID string) (*container.ExecInspectResponse, error) {
	x, err := e.execByID(execID)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	privileged := x.req.Privileged
	entry, args := x.req.Cmd[0], append([]string{}, x.req.Cmd[1:]...)
	return &container.ExecInspectResponse{
		ID:       x.id,
		Running:  x.running,
		ExitCode: x.exitCode,
		ProcessConfig: &container.ExecProcessConfig{
			Tty: x.req.Tty, Entrypoint: entry, Arguments: args,
			Privileged: &privileged, User: x.req.User,
		},
		OpenStdin:   x.req.AttachStdin,
		OpenStdout:  x.req.AttachStdout,
		OpenStderr:  x.req.AttachStderr,
		CanRemove:   !x.running && x.started,
		ContainerID: x.containerID,
		DetachKeys:  []byte{},
		Pid:         x.pid,
	}, nil
}
