package sandbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"warren/rootless/seccomp"
)

// childMain is the common frame of `warren __init` and `warren __exec`: it
// runs body on one locked thread (setns, credentials and capabilities are
// per thread, and execve must come from the thread that holds them) and,
// if body returns, reports the error to the engine and exits.
func childMain(body func() error) {
	runtime.LockOSThread()
	// The sync socket must not leak into the user's command, and its
	// closing on exec is how the engine learns the exec succeeded.
	unix.CloseOnExec(syncFd)
	err := body()
	if err == nil {
		err = errors.New("container process returned without exec")
	}
	code := failureCode(err)
	childSend(syncMsg{Type: msgError, Error: err.Error(), Code: code}, -1)
	os.Exit(code)
}

// failureCode is the shell's convention, which Docker also applies: 127
// when the command is missing, 126 when it cannot be run, 128 otherwise.
// It is sent to the engine with the error text and is the child's exit
// status, so the two never disagree.
func failureCode(err error) int {
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return ExitNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOEXEC):
		return ExitCannotInvoke
	}
	return ExitUnknown
}

// process is what the init and exec share once inside the root.
type process struct {
	Args, Env  []string
	User       string
	Caps       []string
	NoNewPrivs bool
	Seccomp    *seccomp.Program
	// Init runs Args under docker-init, from the sealed copy on initFd.
	Init bool
	// GroupAdd are supplementary groups, names or ids (--group-add).
	GroupAdd []string
}

// execProcess becomes the user's command. It returns only on failure,
// with runc's texts.
func execProcess(p process) error {
	name, env, err := prepareProcess(p)
	if err != nil {
		return err
	}
	argv := p.Args
	if p.Init {
		// The command was looked up above, so a missing one fails the
		// start as it would without --init; docker-init looks it up again.
		name, argv = fmt.Sprintf("/proc/self/fd/%d", initFd), append([]string{InitPath, "--"}, p.Args...)
	}
	if err := installSeccomp(p.Seccomp); err != nil {
		return err
	}
	if err := unix.Exec(name, argv, env); err != nil {
		return &os.PathError{Op: "exec", Path: name, Err: err}
	}
	return nil
}

// prepareProcess readies the calling thread for the user's command:
// resolve the user in the root's /etc files, drop to it, trim
// capabilities and look up Args[0]; it returns the path and environment
// to execve.
func prepareProcess(p process) (name string, env []string, err error) {
	u, err := lookupUser(p.User, p.GroupAdd)
	if err != nil {
		return "", nil, fmt.Errorf("error during container init: %w", err)
	}
	if err := setCredentials(u, p.Caps, p.NoNewPrivs); err != nil {
		return "", nil, fmt.Errorf("error during container init: %w", err)
	}
	env = withHome(p.Env, u.Home)
	if name, err = lookPath(p.Args[0], env); err != nil {
		return "", nil, err
	}
	return name, env, nil
}

func lookupUser(spec string, groupAdd []string) (execUser, error) {
	passwd := openOptional("/etc/passwd")
	group := openOptional("/etc/group")
	defer closeOptional(passwd)
	defer closeOptional(group)
	u, err := resolveUser(spec, readerOf(passwd), readerOf(group))
	if err != nil || len(groupAdd) == 0 {
		return u, err
	}
	if group != nil {
		if _, err := group.Seek(0, io.SeekStart); err != nil {
			return u, fmt.Errorf("read /etc/group: %w", err)
		}
	}
	extra, err := additionalGroups(groupAdd, readerOf(group))
	if err != nil {
		return u, err
	}
	for _, g := range extra {
		if !slices.Contains(u.Sgids, g) {
			u.Sgids = append(u.Sgids, g)
		}
	}
	return u, nil
}

// openOptional treats an unreadable file as missing, as runc does for an
// image without /etc/passwd.
func openOptional(path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	return f
}

func closeOptional(f *os.File) {
	if f != nil {
		f.Close()
	}
}

func readerOf(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}

// setCredentials switches the calling thread, and only it, to u with
// exactly caps.
// KEEPCAPS keeps the permitted set across setuid so capset can restore
// the effective set afterwards (exec then clears both for a non-root
// user, as in Docker).
func setCredentials(u execUser, caps []string, noNewPrivs bool) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities: %w", err)
	}
	if err := dropBounding(caps); err != nil {
		return err
	}
	// Like moby's getUser, the primary group leads the supplementary list.
	if err := setGroups(append([]int{u.GID}, u.Sgids...)); err != nil {
		return err
	}
	if err := setresgidThread(u.GID); err != nil {
		return fmt.Errorf("setgid %d: %w", u.GID, err)
	}
	if err := setresuidThread(u.UID); err != nil {
		return fmt.Errorf("setuid %d: %w", u.UID, err)
	}
	if err := setCaps(caps); err != nil {
		return err
	}
	if noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	return nil
}

// setGroups tolerates a user namespace that denies setgroups (a
// single-id map) when there is nothing to set anyway.
func setGroups(gids []int) error {
	err := unix.Setgroups(gids)
	if err != nil && !(errors.Is(err, unix.EPERM) && len(gids) == 0) {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	return nil
}

// openPty opens a new pty in the devpts mounted at ptsDir (the container's
// own instance, so the name the process sees is /dev/pts/N as in Docker).
func openPty(ptsDir string) (master, slave *os.File, slavePath string, err error) {
	m, err := os.OpenFile(ptsDir+"/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open pty master: %w", err)
	}
	fail := func(err error) (*os.File, *os.File, string, error) {
		m.Close()
		return nil, nil, "", err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fail(fmt.Errorf("unlock pty: %w", err))
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fail(fmt.Errorf("pty number: %w", err))
	}
	slavePath = fmt.Sprintf("%s/%d", ptsDir, n)
	s, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(fmt.Errorf("open pty slave: %w", err))
	}
	return m, s, slavePath, nil
}

// useConsole makes slave the controlling terminal (the child is a session
// leader: SysProcAttr.Setsid) and its stdin, stdout and stderr.
func useConsole(slave *os.File) error {
	fd := int(slave.Fd())
	if err := unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return fmt.Errorf("dup console to fd %d: %w", i, err)
		}
	}
	return slave.Close()
}
