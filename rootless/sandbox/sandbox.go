// Package sandbox runs container processes in their own namespaces: the
// re-executed `warren __init` that builds the root (overlay, pivot_root,
// /proc, /dev, /sys, /etc files, binds) and execs the user's command, and
// `exec` into a running container.
package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"warren/rootless/seccomp"
)

// Mount is one -v or --mount bind, or one --tmpfs or --mount type=tmpfs.
type Mount struct {
	Type                string // "bind" (or "") or "tmpfs"
	Source, Destination string
	ReadOnly            bool
	// Options are a tmpfs's, as --tmpfs takes them (see TmpfsOptions).
	Options string
}

// Device is one --device: the host's node bound at Destination, read-only
// unless its permissions allow writing.
type Device struct {
	Source, Destination string
	ReadOnly            bool
}

// Spec describes a container's first process.
type Spec struct {
	ID       string
	Hostname string
	// Lowers are the image's unpacked layer folders, top-most first (overlay
	// lowerdir order); Upper and Work are the container's own folders; Rootfs
	// is an empty folder the root is mounted on.
	Lowers              []string
	Upper, Work, Rootfs string
	Args                []string // entrypoint + cmd; Args[0] is looked up in PATH inside the root
	Env                 []string
	Cwd                 string // "" = "/"
	User                string // "", "uid", "uid:gid", "name", "name:group"
	Tty                 bool
	OpenStdin           bool
	Mounts              []Mount
	// ShmSize is /dev/shm's size in bytes; 0 is Docker's 64 MiB.
	ShmSize int64
	// Rlimits are set before the command runs (--ulimit).
	Rlimits []Rlimit
	// Sysctls are written in the container's namespaces (--sysctl; keys
	// checked by CheckSysctl).
	Sysctls map[string]string
	// GroupAdd are supplementary groups, names or ids (--group-add).
	GroupAdd []string
	// Devices are host device nodes bound into the container (--device).
	Devices []Device
	// OomScoreAdj, when not 0, is the command's oom_score_adj; only
	// raising it is allowed without privileges over the host.
	OomScoreAdj int
	// Files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf.
	HostsPath, HostnamePath, ResolvConfPath string
	// NetNS: "" = a new network namespace (loopback up), "host" = the
	// engine's, or a path such as /proc/PID/ns/net to join.
	NetNS string
	// PidNS and IpcNS are namespace files to join (--pid and --ipc
	// container:X); "" = the container's own.
	PidNS, IpcNS    string
	CapAdd, CapDrop []string
	Privileged      bool
	ReadonlyRootfs  bool
	// Init runs Args under docker-init, which forwards signals and reaps
	// zombies (--init).
	Init bool
	// MaskedPaths and ReadonlyPaths replace Docker's defaults when not nil.
	MaskedPaths, ReadonlyPaths []string
	// Seccomp is the system call filter the command runs under; nil = none.
	Seccomp *seccomp.Program
}

// ExecSpec describes a process started in a running container.
type ExecSpec struct {
	Args []string
	Env  []string
	Cwd  string
	User string
	Tty  bool
	// ConsoleSize is the tty's [rows, cols] from its start; zero keeps
	// the kernel's 0x0 until a resize.
	ConsoleSize     [2]uint16
	OpenStdin       bool
	Privileged      bool
	CapAdd, CapDrop []string
	// Seccomp is the container's filter, which exec'd processes share.
	Seccomp *seccomp.Program
	// GroupAdd and Rlimits are the container's, as runc gives them to
	// exec'd processes too.
	GroupAdd []string
	Rlimits  []Rlimit
}

// Process is a container's init or exec process. With Tty, Console is the
// pty master (read output, write input) and Stdin/Stdout/Stderr are nil;
// otherwise Stdin is nil unless OpenStdin.
type Process struct {
	Pid     int
	Console *os.File
	Stdin   io.WriteCloser
	Stdout  io.ReadCloser
	Stderr  io.ReadCloser

	// CommandPid is an exec's command, the child of Pid (which is
	// `warren __exec`); 0 for an init, which is its command.
	CommandPid int

	cmd  *exec.Cmd
	sync *net.UnixConn // nil once the command runs

	waitOnce sync.Once
	code     int
	waitErr  error
}

// Docker's prefixes for failures of the init and of exec.
const (
	createPrefix = "failed to create task for container: unable to start container process: "
	execPrefix   = "OCI runtime exec failed: exec failed: unable to start container process: "
)

// Create starts spec's init in new mount, pid, uts, ipc and (unless NetNS
// says otherwise) network namespaces and sets up its root; it returns with
// the init paused before exec, so the caller can wire the network.
func Create(spec *Spec) (*Process, error) {
	if len(spec.Args) == 0 {
		return nil, errors.New("no command specified")
	}
	if _, err := Capabilities(spec.CapAdd, spec.CapDrop, spec.Privileged); err != nil {
		return nil, err
	}
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWUTS)
	if spec.NetNS == "" {
		flags |= unix.CLONE_NEWNET
	}
	if spec.PidNS == "" {
		flags |= unix.CLONE_NEWPID
	}
	if spec.IpcNS == "" {
		flags |= unix.CLONE_NEWIPC
	}
	var extra []*os.File
	if spec.Init {
		self, err := sealedSelf()
		if err != nil {
			return nil, fmt.Errorf("%s%w", createPrefix, err)
		}
		extra = append(extra, self)
	}
	start := func() (*Process, error) {
		return startChild("/proc/self/exe", "__init", flags, spec, !spec.Tty, spec.OpenStdin, extra...)
	}
	var p *Process
	var err error
	if spec.PidNS != "" {
		p, err = inPidNS(spec.PidNS, start)
	} else {
		p, err = start()
	}
	if err != nil {
		return nil, err
	}
	m, console, err := readMsg(p.sync)
	if err == nil && m.Type == msgReady {
		p.Console = console
		return p, nil
	}
	if console != nil {
		console.Close()
	}
	p.abort()
	return nil, childError(createPrefix+"error during container init: ", m, err, p)
}

// Start lets a created init exec the user's command. Errors such as a
// missing executable come back here, in Docker's words; the init then
// exits (127 or 126, as a shell would), so Wait still reports a code.
func (p *Process) Start() error {
	if p.sync == nil {
		return errors.New("container process already started")
	}
	defer p.closeSync()
	if err := writeMsg(p.sync, syncMsg{Type: msgGo}); err != nil {
		return fmt.Errorf("start container process: %w", err)
	}
	m, fd, err := readMsg(p.sync)
	if fd != nil {
		fd.Close()
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	return childError(createPrefix, m, err, p)
}

// Wait waits for the process and returns its exit code (128+signal when
// killed). It may be called more than once.
func (p *Process) Wait() (int, error) {
	p.waitOnce.Do(func() {
		state, err := p.cmd.Process.Wait()
		if err != nil {
			p.code, p.waitErr = -1, fmt.Errorf("wait for container process %d: %w", p.Pid, err)
			return
		}
		p.code = exitCode(state.Sys().(syscall.WaitStatus))
	})
	return p.code, p.waitErr
}

func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %d to container process %d: %w", sig, p.Pid, err)
	}
	return nil
}

// Resize sets the pty's size; a no-op without a tty.
func (p *Process) Resize(height, width uint16) error {
	if p.Console == nil {
		return nil
	}
	if err := pty.Setsize(p.Console, &pty.Winsize{Rows: height, Cols: width}); err != nil {
		return fmt.Errorf("resize tty: %w", err)
	}
	return nil
}

// Exec starts spec inside the namespaces and root of the container whose
// init is pid, and returns once the command runs (or with Docker's error).
// The Process is `warren __exec`, outside the container: the command's
// parent, which passes signals on and exits with its status.
func Exec(pid int, spec *ExecSpec) (*Process, error) {
	if len(spec.Args) == 0 {
		return nil, errors.New("no exec command specified")
	}
	if _, err := Capabilities(spec.CapAdd, spec.CapDrop, spec.Privileged); err != nil {
		return nil, err
	}
	self, err := sealedSelf()
	if err != nil {
		return nil, fmt.Errorf("%s%w: unknown", execPrefix, err)
	}
	bin := fmt.Sprintf("/proc/self/fd/%d", self.Fd())
	p, err := startChild(bin, "__exec", 0, &execRequest{Pid: pid, Spec: spec}, !spec.Tty, spec.OpenStdin)
	if err != nil {
		return nil, fmt.Errorf("%s%w: unknown", execPrefix, err)
	}
	for {
		m, fd, err := readMsg(p.sync)
		switch {
		case errors.Is(err, io.EOF):
			p.closeSync()
			return p, nil
		case err == nil && m.Type == msgConsole && fd != nil && spec.Tty && p.Console == nil:
			p.Console = fd
			continue
		case err == nil && m.Type == msgPid && fd == nil && m.Pid > 0 && p.CommandPid == 0:
			p.CommandPid = m.Pid
			continue
		}
		if fd != nil {
			fd.Close()
		}
		p.abort()
		err = childError(execPrefix, m, err, p)
		return nil, fmt.Errorf("%w: unknown", err)
	}
}

// inPidNS runs start on a thread moved into the pid namespace at path:
// the init must be born there, as a process cannot enter one itself. The
// thread is never unlocked, so it ends with the goroutine instead of
// returning to the pool with the wrong namespace for its children.
func inPidNS(path string, start func() (*Process, error)) (*Process, error) {
	type result struct {
		p   *Process
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := setnsPath(path); err != nil {
			done <- result{err: fmt.Errorf("%sjoin pid namespace: %w", createPrefix, err)}
			return
		}
		p, err := start()
		done <- result{p, err}
	}()
	r := <-done
	return r.p, r.err
}

func setnsPath(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, 0); err != nil {
		return fmt.Errorf("setns %s: %w", path, err)
	}
	return nil
}

// sealedSelf is a sealed in-memory copy of this binary, made once, that
// __exec runs from. Until the command's execve, a container that may
// ptrace can open /proc/PID/exe of the child __exec forks into it; that
// must not be the engine's binary on the host, which a handle could
// overwrite once it is not running (CVE-2019-5736). The copy cannot be
// written.
var sealedSelf = sync.OnceValues(func() (*os.File, error) {
	fd, err := unix.MemfdCreate("warren", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("copy of warren: %w", err)
	}
	// Above the descriptors a child is given, which its fork rearranges
	// before it execs this one.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("copy of warren: %w", err)
	}
	f := os.NewFile(uintptr(high), "warren")
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("copy of warren: %w", err)
	}
	defer exe.Close()
	if _, err := io.Copy(f, exe); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy of warren: %w", err)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal copy of warren: %w", err)
	}
	return f, nil
})

// startChild executes bin, this binary, as `warren <role>` with the
// request on fd 3, the sync socket on fd 4 and extra from fd 5. pipes says
// whether to give it stdio pipes (no tty).
func startChild(bin, role string, cloneflags uintptr, request any, pipes, openStdin bool, extra ...*os.File) (*Process, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", role, err)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("request pipe: %w", err)
	}
	defer reqR.Close()
	defer reqW.Close()
	parentSync, childSync, err := newSyncPair()
	if err != nil {
		return nil, err
	}
	defer childSync.Close()

	cmd := &exec.Cmd{
		Path:        bin,
		Args:        []string{"warren", role},
		Env:         []string{},
		ExtraFiles:  append([]*os.File{reqR, childSync}, extra...),
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: cloneflags, Setsid: true},
	}
	p := &Process{cmd: cmd, sync: parentSync}
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if pipes {
		if childEnds, err = p.attachPipes(openStdin); err != nil {
			parentSync.Close()
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		p.closeStdio()
		parentSync.Close()
		return nil, fmt.Errorf("start %s: %w", role, err)
	}
	p.Pid = cmd.Process.Pid
	// The pipe holds 64 KiB; a larger request is drained by the child as it
	// starts, and EPIPE if the child died is reported below.
	if _, err := reqW.Write(body); err != nil {
		p.abort()
		return nil, fmt.Errorf("send %s request: %w", role, err)
	}
	return p, nil
}

// attachPipes gives cmd stdout/stderr pipes (and stdin when openStdin,
// /dev/null otherwise) and returns the child's ends, to close once started.
func (p *Process) attachPipes(openStdin bool) ([]*os.File, error) {
	var childEnds []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range childEnds {
			f.Close()
		}
		p.closeStdio()
		return nil, fmt.Errorf("stdio pipe: %w", err)
	}
	if openStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		p.cmd.Stdin, p.Stdin, childEnds = r, w, append(childEnds, r)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	p.cmd.Stdout, p.Stdout, childEnds = w, r, append(childEnds, w)
	r, w, err = os.Pipe()
	if err != nil {
		return fail(err)
	}
	p.cmd.Stderr, p.Stderr, childEnds = w, r, append(childEnds, w)
	return childEnds, nil
}

func (p *Process) closeStdio() {
	for _, c := range []io.Closer{p.Stdin, p.Stdout, p.Stderr, p.Console} {
		if c != nil && c != (*os.File)(nil) {
			c.Close()
		}
	}
}

func (p *Process) closeSync() {
	if p.sync != nil {
		p.sync.Close()
		p.sync = nil
	}
}

// abort undoes a child that failed before running the user's command:
// killing it tears down its namespaces and, with them, every mount.
func (p *Process) abort() {
	p.closeSync()
	p.cmd.Process.Kill()
	p.Wait()
	p.closeStdio()
}

// childError turns what the child reported into Docker's text.
func childError(prefix string, m syncMsg, err error, p *Process) error {
	switch {
	case err == nil && m.Type == msgError:
		return &StartError{Code: m.Code, Msg: prefix + m.Error}
	case err == nil:
		return fmt.Errorf("%sunexpected message %q from container process", prefix, m.Type)
	case errors.Is(err, io.EOF):
		code, _ := p.Wait()
		return fmt.Errorf("%scontainer process exited early with code %d", prefix, code)
	}
	return fmt.Errorf("%s%w", prefix, err)
}
