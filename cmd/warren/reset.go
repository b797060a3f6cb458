package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/term"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"warren/internal/userunit"
	"warren/rootless/bootstrap"
)

// systemCommand groups the daemon-wide commands, as `docker system` does.
func systemCommand() *cli.Command {
	info := infoCommand()
	info.UsageText = "warren system info [OPTIONS]"
	events := eventsCommand()
	events.UsageText = "warren system events [OPTIONS]"
	return &cli.Command{
		Name: "system", Usage: "Manage warren",
		UsageText:   "warren system COMMAND",
		Subcommands: []*cli.Command{events, info, resetCommand()},
	}
}

func resetCommand() *cli.Command {
	return &cli.Command{
		Name:      "reset",
		Usage:     "Stop the daemon and remove all containers, images, volumes, networks and warren's folders",
		UsageText: "warren system reset [OPTIONS]",
		Description: `Files that containers created under subordinate ids are removed too,
without root: warren removes them as root of a user namespace of its own.

Examples:
  warren system reset
  warren system reset --force`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "Do not prompt for confirmation"},
		},
		Action: resetAction,
	}
}

func resetAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	s := sessionOf(c)
	dirs := []string{s.paths.DataDir, s.paths.RuntimeDir}
	for i, d := range dirs {
		if err := resettable(d, warrenEntries[i]); err != nil {
			return statusError{status: 1, msg: "warren: " + err.Error()}
		}
	}
	if !c.Bool("force") {
		if ok, err := confirmReset(s.streams, dirs); !ok {
			return err // nil: the user said no, which is no failure
		}
	}
	// The daemon of the runtime folder, and any daemon of the data folder
	// (one started with another runtime folder).
	for _, lock := range []string{s.paths.LockFile(), s.paths.DataLockFile()} {
		if err := stopDaemon(s.out, lock); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if _, err := os.Lstat(d); os.IsNotExist(err) {
			continue
		}
		if err := bootstrap.RemoveAll(d); err != nil {
			return fmt.Errorf("warren: %w", err)
		}
		fmt.Fprintf(s.out, "Removed %s\n", d)
	}
	// A systemd socket unit's socket went with the runtime folder: make it
	// listen again, so that the next command starts a fresh daemon.
	if userunit.Installed() {
		if err := userunit.Systemctl(s.out, "restart", userunit.Socket); err != nil {
			return fmt.Errorf("warren: %w", err)
		}
	}
	return nil
}

// warrenEntries are names warren creates in its data and runtime folders.
var warrenEntries = [2][]string{
	{"images", "containers", "data.lock", "daemon.lock"},
	{"warren.sock", "daemon.lock", "daemon.log", "rootlesskit"},
}

// resettable guards against a mistyped --data-dir or --runtime-dir: reset
// removes a folder only if it is missing, empty, or holds something of
// warren's, and never the home folder or one above it.
func resettable(dir string, known []string) error {
	if home, err := os.UserHomeDir(); err == nil {
		if rel, err := filepath.Rel(dir, home); err == nil && !strings.HasPrefix(rel, "..") {
			return fmt.Errorf("refusing to remove %s: it holds your home folder", dir)
		}
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) || (err == nil && len(entries) == 0) {
		return nil
	}
	for _, e := range entries {
		if slices.Contains(known, e.Name()) {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("refusing to remove %s: it holds nothing of warren's (%s)", dir, strings.Join(known, ", "))
}

// resetWarning is podman's `system reset` warning, with warren's folders.
func resetWarning(dirs []string) string {
	return fmt.Sprintf(`WARNING! This will remove:
        - all containers
        - all images
        - all networks
        - all volumes
        - the data directory: %s
        - the runtime directory: %s`, dirs[0], dirs[1])
}

// confirmReset asks on the terminal, as prune does; without a terminal it
// refuses, since nobody can have read the warning.
func confirmReset(st streams, dirs []string) (bool, error) {
	if _, isTerm := term.GetFdInfo(st.in); !isTerm {
		return false, statusError{status: 1, msg: "warren: refusing to reset without a terminal to confirm on: use --force (-f)"}
	}
	return confirm(st.in, st.out, resetWarning(dirs)), nil
}

// How stopDaemon waits for the daemon to release its lock.
const (
	stopGrace    = 30 * time.Second
	stopInterval = 20 * time.Millisecond
)

// stopDaemon stops the daemon holding lockPath, if one does, by SIGTERM to
// the pid in the lock (SIGKILL after stopGrace), and waits until the lock
// is free. A daemon that systemd runs exits cleanly, so it is not
// restarted.
func stopDaemon(out io.Writer, lockPath string) error {
	lock, pid, err := runningDaemon(lockPath)
	if err != nil || lock == nil {
		return err
	}
	defer lock.Close()
	if err := unix.Kill(pid, unix.SIGTERM); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("warren: stop the daemon (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(stopGrace)
	for lockBusy(lock) {
		if time.Now().After(deadline) {
			_ = unix.Kill(pid, unix.SIGKILL)
			deadline = time.Now().Add(stopGrace)
		}
		time.Sleep(stopInterval)
	}
	fmt.Fprintf(out, "Stopped the warren daemon (pid %d)\n", pid)
	return nil
}

// runningDaemon returns the daemon lock at lockPath, open, and the pid
// that begins it, or a nil lock when no daemon holds it.
func runningDaemon(lockPath string) (*os.File, int, error) {
	lock, err := os.Open(lockPath)
	if os.IsNotExist(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("warren: open the daemon lock: %w", err)
	}
	if !lockBusy(lock) {
		lock.Close()
		return nil, 0, nil
	}
	buf := make([]byte, 32)
	n, _ := lock.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.Fields(string(buf[:n]) + " ")[0])
	if err != nil || pid <= 0 {
		lock.Close()
		return nil, 0, fmt.Errorf("warren: a daemon holds %s but its pid is unreadable", lockPath)
	}
	return lock, pid, nil
}

// lockBusy tells whether a process holds the daemon lock.
func lockBusy(f *os.File) bool {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}
