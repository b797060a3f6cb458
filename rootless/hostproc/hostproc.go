// Package hostproc translates the engine's pids into the host's. The engine
// runs in a pid namespace of its own (pid 1 there is RootlessKit's child),
// whose /proc shows only that namespace; Docker reports host pids
// (State.Pid, exec Pid), which are what a user can kill or nsenter. So the
// daemon's child keeps a handle on the host's /proc before it mounts its
// own, the engine inherits it, and the kernel does the translation: a
// pidfd's fdinfo gives the pid in the namespace of the procfs it is read
// through.
package hostproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// envFD names the inherited descriptor of the host's /proc.
const envFD = "_WARREN_HOST_PROC_FD"

// Keep opens the host's /proc for the engine that this process will run,
// before a pid namespace's procfs is mounted over /proc. The descriptor is
// inherited across exec on purpose; Take, in the engine, closes it to
// everything the engine starts. A process re-executed after Keep keeps the
// first handle.
func Keep() error {
	if os.Getenv(envFD) != "" {
		return nil
	}
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("open the host's /proc: %w", err)
	}
	return os.Setenv(envFD, strconv.Itoa(fd))
}

var (
	takeOnce sync.Once
	procFD   = -1
)

// Take claims the handle Keep passed down, if any: close-on-exec, since a
// container given the host's /proc could reach every host file, and the
// variable unset so that no child takes some other descriptor for it.
// The engine calls it first thing, before it starts any process.
func Take() {
	takeOnce.Do(func() {
		v, ok := os.LookupEnv(envFD)
		if !ok {
			return
		}
		os.Unsetenv(envFD)
		fd, err := strconv.Atoi(v)
		if err != nil || fd < 3 {
			return
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return // not open: nothing was kept
		}
		procFD = fd
	})
}

// Pid is the host's pid of the engine's process pid, which must be the
// engine's child not yet waited for (so the number is still that process).
// Without a handle the engine shares the host's pid namespace and pid is
// the answer.
func Pid(pid int) (int, error) {
	Take()
	if procFD < 0 {
		return pid, nil
	}
	return pidThrough(procFD, pid)
}

// pidThrough reads pid's number in the pid namespace of the procfs that
// procDir is a descriptor of.
func pidThrough(procDir, pid int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.Openat(procDir, fmt.Sprintf("self/fdinfo/%d", pidfd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("fdinfo of pid %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "fdinfo")
	defer f.Close()
	var buf [1024]byte
	n, err := f.Read(buf[:])
	if err != nil {
		return 0, fmt.Errorf("fdinfo of pid %d: %w", pid, err)
	}
	return parsePid(buf[:n])
}

var errNoPid = errors.New("no pid in fdinfo")

// parsePid reads the "Pid:" line of a pidfd's fdinfo; -1 there means the
// process has no number in that namespace.
func parsePid(fdinfo []byte) (int, error) {
	for line := range bytes.Lines(fdinfo) {
		v, ok := bytes.CutPrefix(line, []byte("Pid:"))
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(string(bytes.TrimSpace(v)))
		if err != nil || pid <= 0 {
			return 0, errNoPid
		}
		return pid, nil
	}
	return 0, errNoPid
}
