package sandbox

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExecMain is `warren __exec`: it never returns. Exec starts it in the
// engine's namespaces, where the container cannot see it. It moves its
// locked thread into the container's namespaces and root, drops that
// thread to the exec's user and capabilities, and forks the command from
// it: the command is the only process the container ever sees, and it has
// nothing more than the container's privileges from its first
// instruction. __exec stays outside as its parent, forwarding signals and
// exiting with its status.
func ExecMain() {
	childMain(runExec)
}

func runExec() error {
	// Neither __exec nor the child, before it execs, may be ptraced or
	// have its /proc files opened by anyone lacking CAP_SYS_PTRACE.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("set not dumpable: %w", err)
	}
	var req execRequest
	if err := readRequest(&req); err != nil {
		return err
	}
	spec := req.Spec
	if spec == nil || len(spec.Args) == 0 {
		return fmt.Errorf("no exec command specified")
	}
	caps, err := Capabilities(spec.CapAdd, spec.CapDrop, spec.Privileged)
	if err != nil {
		return err
	}
	if err := joinContainer(req.Pid); err != nil {
		return err
	}
	cwd := spec.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	var tty *os.File
	if spec.Tty {
		if tty, err = execConsole(spec.ConsoleSize); err != nil {
			return err
		}
	}
	// Caught from now on, so a signal before the fork reaches the command.
	signals := make(chan os.Signal, 64)
	signal.Notify(signals)
	// Set in __exec, outside the container; the command inherits them.
	if err := setRlimits(spec.Rlimits); err != nil {
		return err
	}
	pid, err := startProcess(process{Args: spec.Args, Env: spec.Env, User: spec.User, Caps: caps, NoNewPrivs: true,
		Seccomp: spec.Seccomp, GroupAdd: spec.GroupAdd}, tty)
	if err != nil {
		return err
	}
	if tty != nil {
		tty.Close()
	}
	// The engine reports the command's pid, then reads EOF: it runs.
	if err := childSend(syncMsg{Type: msgPid, Pid: pid}, -1); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return fmt.Errorf("report pid: %w", err)
	}
	unix.Close(syncFd)
	go forwardSignals(signals, pid)
	os.Exit(waitChild(pid))
	return nil
}

// containerNamespaces are the namespaces an exec joins, mount last; the
// pid namespace applies to the children of the joining thread.
var containerNamespaces = []struct {
	name string
	flag int
}{
	{"ipc", unix.CLONE_NEWIPC},
	{"uts", unix.CLONE_NEWUTS},
	{"net", unix.CLONE_NEWNET},
	{"pid", unix.CLONE_NEWPID},
	{"mnt", unix.CLONE_NEWNS},
}

// joinContainer moves the calling (locked) thread into the namespaces of
// the container whose init is pid. The kernel refuses a mount namespace
// to a thread that shares its root and cwd with others, so the thread
// takes a private copy first; joining then sets its root and cwd to the
// container's root. The other threads stay where they are.
func joinContainer(pid int) error {
	// All opened first: once in the mount namespace, /proc is the
	// container's.
	fds := make([]int, 0, len(containerNamespaces))
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, ns := range containerNamespaces {
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		fds = append(fds, fd)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	for i, ns := range containerNamespaces {
		if err := unix.Setns(fds[i], ns.flag); err != nil {
			return fmt.Errorf("setns %s of process %d: %w", ns.name, pid, err)
		}
	}
	return nil
}

// execConsole opens a pty of size [rows, cols] in the container's devpts,
// sends the master to the engine and returns the slave, the command's
// terminal. The size is set before the command runs, which may read it at
// once (stty size, a shell's line editor).
func execConsole(size [2]uint16) (*os.File, error) {
	master, slave, _, err := openPty("/dev/pts")
	if err != nil {
		return nil, err
	}
	defer master.Close()
	if size != [2]uint16{} {
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: size[0], Col: size[1]}); err != nil {
			slave.Close()
			return nil, fmt.Errorf("console size: %w", err)
		}
	}
	if err := childSend(syncMsg{Type: msgConsole}, int(master.Fd())); err != nil {
		slave.Close()
		return nil, fmt.Errorf("send console: %w", err)
	}
	return slave, nil
}

// forwardSignals passes what the engine sends __exec on to the command.
// SIGKILL cannot be caught: the command has it as parent-death signal.
func forwardSignals(signals <-chan os.Signal, pid int) {
	for sig := range signals {
		s, ok := sig.(syscall.Signal)
		// SIGURG is the Go runtime's own preemption signal.
		if !ok || s == syscall.SIGCHLD || s == syscall.SIGURG {
			continue
		}
		unix.Kill(pid, s)
	}
}

// waitChild waits for the command and returns its status as an exit code
// (128+signal when killed), which __exec exits with.
func waitChild(pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return 1
		}
	}
	return exitCode(syscall.WaitStatus(ws))
}

// startProcess drops the calling thread to the command's user and
// capabilities and forks the command from it, which installs the
// container's seccomp filter just before its execve.
func startProcess(p process, tty *os.File) (int, error) {
	name, env, err := prepareProcess(p)
	if err != nil {
		return 0, err
	}
	return forkExec(name, p.Args, env, tty, p.Seccomp)
}
