package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// RemoveArg is the hidden command RemoveAll re-executes warren with.
const RemoveArg = "__rmtree"

// envRemoveMapped marks the second stage of the remover: mapped, and
// re-executed so that it holds the namespace's capabilities.
const envRemoveMapped = "_WARREN_RMTREE_MAPPED"

// RemoveAll removes each path and everything below it, including the files
// that containers created under the user's subordinate ids, which the user
// cannot remove from the host's user namespace. It first tries as the user;
// what is left is removed by warren re-executed as root of a new user
// namespace that maps the subordinate ranges, as the daemon's does. It needs
// no root and no unshare(1).
func RemoveAll(paths ...string) error {
	var left []string
	var firstErr error
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			left = append(left, p)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if len(left) == 0 {
		return nil
	}
	uidMap, gidMap, err := idMaps()
	if err != nil {
		return fmt.Errorf("%w (and %v)", firstErr, err)
	}
	if err := removeInUserNS(left, uidMap, gidMap); err != nil {
		return fmt.Errorf("remove %s as the user namespace's root: %w", left[0], err)
	}
	return nil
}

// idMaps are newuidmap's and newgidmap's arguments after the pid: the user
// as 0, then every subordinate range from 1 on (without the user's own id,
// which newuidmap refuses to map twice).
func idMaps() (uidMap, gidMap []string, err error) {
	name, uid := currentUser()
	uids, gids, err := readSubIDs()
	if err != nil {
		return nil, nil, err
	}
	if msg := missingSubIDs(name, uid, uids, gids); msg != "" {
		return nil, nil, errors.New(msg)
	}
	build := func(ranges []idRange, self int) []string {
		m := []string{"0", strconv.Itoa(self), "1"}
		next := 1
		for _, r := range ranges {
			if r.Owner != name && r.Owner != strconv.Itoa(uid) {
				continue
			}
			for _, part := range withoutID(r, self) {
				m = append(m, strconv.Itoa(next), strconv.Itoa(part.Start), strconv.Itoa(part.Length))
				next += part.Length
			}
		}
		return m
	}
	return build(uids, uid), build(gids, os.Getgid()), nil
}

// withoutID splits r around id.
func withoutID(r idRange, id int) []idRange {
	if id < r.Start || id >= r.Start+r.Length {
		return []idRange{r}
	}
	var parts []idRange
	if head := id - r.Start; head > 0 {
		parts = append(parts, idRange{Owner: r.Owner, Start: r.Start, Length: head})
	}
	if tail := r.Start + r.Length - id - 1; tail > 0 {
		parts = append(parts, idRange{Owner: r.Owner, Start: id + 1, Length: tail})
	}
	return parts
}

// removeInUserNS runs `warren __rmtree paths...` in a new user namespace,
// writes its id maps, then lets it go on through a pipe.
func removeInUserNS(paths []string, uidMap, gidMap []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd := exec.Command(exe, append([]string{RemoveArg}, paths...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	r.Close()
	if err != nil {
		return err
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	for _, m := range []struct {
		tool string
		args []string
	}{{"newuidmap", uidMap}, {"newgidmap", gidMap}} {
		if out, err := exec.Command(m.tool, append([]string{pid}, m.args...)...).CombinedOutput(); err != nil {
			w.Close() // the child reads EOF and gives up
			_ = cmd.Wait()
			return fmt.Errorf("%s: %v: %s", m.tool, err, out)
		}
	}
	if _, err := w.Write([]byte{1}); err != nil {
		_ = cmd.Wait()
		return err
	}
	w.Close()
	return cmd.Wait()
}

// RemoveMain is the `warren __rmtree` entry point; it never returns. The
// first stage waits for its id maps, then re-executes itself: capabilities
// in a user namespace are gained at execve, as the namespace's root.
func RemoveMain(paths []string) {
	if os.Getenv(envRemoveMapped) == "" {
		sync := os.NewFile(3, "sync")
		var b [1]byte
		if n, _ := sync.Read(b[:]); n != 1 {
			os.Exit(1) // the parent failed to map us and said why
		}
		sync.Close()
		os.Setenv(envRemoveMapped, "1")
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, os.Environ())
		}
		fmt.Fprintln(os.Stderr, "re-execute in the user namespace:", err)
		os.Exit(1)
	}
	code := 0
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
