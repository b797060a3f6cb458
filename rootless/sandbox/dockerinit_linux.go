package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/moby/term"
	"golang.org/x/sys/unix"
)

// InitPath is Docker's path for its init. warren's is this binary, run
// from the engine's sealed copy rather than mounted: a memfd cannot be
// bind-mounted, and a bind of the binary on the host could be written by
// a container allowed to remount it. InitPath is its argv[0], so ps shows
// what Docker's does.
const InitPath = "/sbin/docker-init"

// DockerInitMain is `docker-init -- CMD [ARG...]`, the --init process: PID
// 1 of the container, as tini is in Docker. It starts CMD in its own
// process group (in the foreground of the tty, if any), passes every
// signal it gets on to it, reaps every process that ends up its child and
// exits with CMD's status (128+signal when killed). It never returns.
func DockerInitMain(args []string) {
	os.Exit(dockerInit(args))
}

func dockerInit(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "docker-init: no command given")
		return 1
	}
	// Caught before the fork, so none is lost between fork and loop.
	signals := make(chan os.Signal, 64)
	signal.Notify(signals)
	path, err := exec.LookPath(args[0])
	if err != nil {
		return initFailure(args[0], err)
	}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if term.IsTerminal(0) {
		sys.Foreground, sys.Ctty = true, 0
	}
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}, Sys: sys})
	if err != nil {
		return initFailure(args[0], err)
	}
	for sig := range signals {
		switch sig {
		case unix.SIGCHLD:
			if code, done := reap(pid); done {
				return code
			}
		case unix.SIGURG: // the Go runtime's own preemption signal
		default:
			unix.Kill(pid, sig.(syscall.Signal))
		}
	}
	return 1
}

// reap waits for every child that has ended; done says the command was one.
func reap(cmd int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == cmd {
			code, done = exitCode(syscall.WaitStatus(ws)), true
		}
	}
}

// initFailure reports a command that could not start, with a shell's
// status.
func initFailure(cmd string, err error) int {
	fmt.Fprintf(os.Stderr, "docker-init: exec %s failed: %v\n", cmd, err)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return ExitNotFound
	}
	return ExitCannotInvoke
}
