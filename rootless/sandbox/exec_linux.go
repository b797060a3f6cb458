package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ExecMain is `warren __exec`: it never returns. Exec started it in the
// container's ipc, uts, net and pid namespaces; it enters the container's
// root through /proc/PID/root (the mount namespace cannot be joined from
// a multi-threaded process, nsenter -r does the same) and becomes the
// command.
func ExecMain() {
	childMain(runExec)
}

func runExec() error {
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
	if err := enterRoot(req.Pid, spec.Cwd); err != nil {
		return err
	}
	if spec.Tty {
		if err := execConsole(); err != nil {
			return err
		}
	}
	return execProcess(process{Args: spec.Args, Env: spec.Env, User: spec.User, Caps: caps, NoNewPrivs: true, Seccomp: spec.Seccomp})
}

func enterRoot(pid int, cwd string) error {
	root := fmt.Sprintf("/proc/%d/root", pid)
	if err := unix.Chroot(root); err != nil {
		return fmt.Errorf("chroot %s: %w", root, err)
	}
	if cwd == "" {
		cwd = "/"
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	return nil
}

// execConsole opens a pty in the container's devpts, sends the master to
// the engine and makes the slave this process's terminal.
func execConsole() error {
	master, slave, _, err := openPty("/dev/pts")
	if err != nil {
		return err
	}
	defer master.Close()
	if err := childSend(syncMsg{Type: msgConsole}, int(master.Fd())); err != nil {
		slave.Close()
		return fmt.Errorf("send console: %w", err)
	}
	return useConsole(slave)
}
