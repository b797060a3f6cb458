package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"warren/rootless/seccomp"
)

// Go's ForkExec clones with CLONE_VM|CLONE_VFORK: until the child execs it
// shares the parent's memory. A child forked into the container's pid
// namespace is visible there from its first instruction, and a container
// that may ptrace could write through it into `warren __exec`, whose other
// threads keep the engine's privileges. So the exec's command is forked
// here without CLONE_VM: the child runs on a private copy of memory, and
// all it does before execve are the raw system calls below.

// forkRequest is what the child needs, prepared before the fork: it may
// not allocate.
type forkRequest struct {
	path       *byte
	argv, envv []*byte // nil-terminated
	tty        int     // the pty slave to make stdio and controlling terminal, or -1
	filter     *unix.SockFprog
	filterFlag uintptr
	errPipe    int    // write end: the child reports a failed step here
	life       [2]int // a pipe whose write end only the parent keeps open
	mask       uint64 // the signal mask to restore before execve
}

// The steps of the child that can fail, as it reports them.
const (
	stepSetup int32 = iota
	stepSeccomp
	stepExec
)

// forkExec starts path from the calling thread, which the child copies:
// its namespaces, root, credentials and no_new_privs. The child installs
// filter, if any, last before execve, so that the filter sees nothing of
// the setup. The child is killed when this process dies. forkExec returns
// once the child has exec'd, or the failure in runc's words (execve's as
// an *os.PathError).
func forkExec(path string, args, env []string, tty *os.File, filter *seccomp.Program) (int, error) {
	req := forkRequest{tty: -1}
	var err error
	if filter != nil {
		if len(filter.Filter) == 0 || len(filter.Filter)%8 != 0 {
			return 0, fmt.Errorf("error during container init: install seccomp filter: bad program of %d bytes", len(filter.Filter))
		}
		// struct sock_filter is 8 bytes, laid out as the filter is encoded.
		req.filter = &unix.SockFprog{Len: uint16(len(filter.Filter) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&filter.Filter[0]))}
		req.filterFlag = uintptr(filter.Flags)
		defer runtime.KeepAlive(filter)
	}
	if req.path, err = syscall.BytePtrFromString(path); err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	if req.argv, err = syscall.SlicePtrFromStrings(args); err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	if req.envv, err = syscall.SlicePtrFromStrings(env); err != nil {
		return 0, &os.PathError{Op: "exec", Path: path, Err: err}
	}
	if tty != nil {
		req.tty = int(tty.Fd())
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, fmt.Errorf("exec status pipe: %w", err)
	}
	defer unix.Close(p[0])
	req.errPipe = p[1]
	if err := unix.Pipe2(req.life[:], unix.O_CLOEXEC); err != nil {
		unix.Close(p[1])
		return 0, fmt.Errorf("exec life pipe: %w", err)
	}
	// The write end stays open as long as this process lives.
	defer unix.Close(req.life[0])

	// No descriptor is half-made (without close-on-exec) while forking.
	syscall.ForkLock.Lock()
	pid, errno := rawFork(&req)
	syscall.ForkLock.Unlock()
	unix.Close(p[1])
	if errno != 0 {
		return 0, fmt.Errorf("fork: %w", errno)
	}
	var report [2]int32 // step, errno
	n, err := readFull(p[0], (*[8]byte)(unsafe.Pointer(&report))[:])
	if err != nil || n == 0 {
		// EOF: close-on-exec closed the pipe, the command runs.
		return pid, nil
	}
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	failed := syscall.Errno(report[1])
	switch report[0] {
	case stepExec:
		return 0, &os.PathError{Op: "exec", Path: path, Err: failed}
	case stepSeccomp:
		return 0, fmt.Errorf("error during container init: install seccomp filter: %w", failed)
	}
	return 0, fmt.Errorf("error during container init: %w", failed)
}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return n, err
		}
		n += m
	}
	return n, nil
}

// rawFork forks with every signal blocked, so no Go signal handler runs in
// the child, and returns the child's pid in the parent.
//
//go:norace
//go:nosplit
func rawFork(req *forkRequest) (int, syscall.Errno) {
	all := ^uint64(0)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&req.mask)), 8, 0, 0)
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&req.mask)), 0, 8, 0, 0)
		return int(pid), errno
	}
	childExec(req)
	return 0, 0 // not reached
}

// childExec is the child between fork and execve: one thread on a copy of
// the parent's memory, so raw system calls only, no allocation, no stack
// growth. It never returns.
//
//go:norace
//go:nosplit
func childExec(req *forkRequest) {
	report := [2]int32{stepSetup}
	errno := childSetup(req)
	if errno == 0 && req.filter != nil {
		report[0] = stepSeccomp
		_, _, errno = syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, req.filterFlag, uintptr(unsafe.Pointer(req.filter)))
	}
	if errno == 0 {
		report[0] = stepExec
		_, _, errno = syscall.RawSyscall(syscall.SYS_EXECVE,
			uintptr(unsafe.Pointer(req.path)),
			uintptr(unsafe.Pointer(unsafe.SliceData(req.argv))),
			uintptr(unsafe.Pointer(unsafe.SliceData(req.envv))))
	}
	report[1] = int32(errno)
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(req.errPipe), uintptr(unsafe.Pointer(&report)), 8)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
}

//go:norace
//go:nosplit
func childSetup(req *forkRequest) syscall.Errno {
	// Die with the parent. If it died before this, the life pipe has no
	// writer left (getppid cannot tell: the parent is outside this pid
	// namespace, and so is the reaper that adopts its orphans).
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0, 0); e != 0 {
		return e
	}
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(req.life[1]), 0, 0)
	pfd := unix.PollFd{Fd: int32(req.life[0]), Events: unix.POLLIN}
	var now unix.Timespec
	if n, _, _ := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&now)), 0, 0, 0); n != 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 127, 0, 0)
	}
	// Its own session, as runc gives every container process.
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETSID, 0, 0, 0); e != 0 {
		return e
	}
	if req.tty >= 0 {
		if _, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(req.tty), syscall.TIOCSCTTY, 0); e != 0 {
			return e
		}
		for fd := uintptr(0); fd < 3; fd++ {
			if _, _, e := syscall.RawSyscall(syscall.SYS_DUP3, uintptr(req.tty), fd, 0); e != 0 {
				return e
			}
		}
	}
	// Go's handlers would run on this copy of the runtime: default them
	// all before unblocking, as the runtime does in its own forks.
	var dfl [4]uint64 // struct sigaction, all SIG_DFL
	for sig := uintptr(1); sig <= 64; sig++ {
		if sig != uintptr(syscall.SIGKILL) && sig != uintptr(syscall.SIGSTOP) {
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
		}
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&req.mask)), 0, 8, 0, 0)
	return 0
}

// Credentials of the calling thread only: syscall.Setresuid and its kin
// change every thread of a Go process, and __exec keeps its other threads
// outside the container.

func setresuidThread(uid int) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return e
	}
	return nil
}

func setresgidThread(gid int) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return e
	}
	return nil
}
