package nstest

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"

	"warren/internal/testenv"
)

// User is the unprivileged user the tests run warren as, the one
// scripts/setup-root.sh prepares (subordinate ids, runtime folder):
// $WARREN_TEST_USER, "warren" when unset.
type User struct {
	Name     string
	Uid, Gid int
	Home     string
}

// TestUser returns the test user. Switching to it needs root, so the test
// must run as root (make test does); it skips otherwise, or fails under
// CI=true.
func TestUser(t testing.TB) User {
	t.Helper()
	name := os.Getenv("WARREN_TEST_USER")
	if name == "" {
		name = "warren"
	}
	return LookupUser(t, name)
}

// LookupUser returns another user to run commands as, needing root too.
func LookupUser(t testing.TB, name string) User {
	t.Helper()
	testenv.Require(t, os.Geteuid() == 0, "needs root to run as the user "+name+" (make test runs the unit tests as root)")
	u, err := user.Lookup(name)
	testenv.Requiref(t, err == nil, "no user %s (scripts/setup-root.sh makes the test user): %v", name, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return User{Name: name, Uid: uid, Gid: gid, Home: u.HomeDir}
}

// RuntimeDir is the user's XDG_RUNTIME_DIR, as logind would make it.
func (u User) RuntimeDir() string { return "/run/user/" + strconv.Itoa(u.Uid) }

// TempDir returns a new folder under /tmp that u owns and every user can
// read (a test's own t.TempDir is private to root), removed when the test
// ends.
func (u User) TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nstest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, u.Uid, u.Gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Command returns, unstarted, name run as u with a login's environment
// (HOME, USER, PATH, XDG_RUNTIME_DIR) and nothing of the caller's; add to
// cmd.Env what the command needs.
func (u User) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = []string{
		"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"XDG_RUNTIME_DIR=" + u.RuntimeDir(),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(u.Uid), Gid: uint32(u.Gid), Groups: []uint32{}},
	}
	return cmd
}

// Unshared returns, unstarted, the test binary bin (a copy u can run) run
// as u to run only the test named run, the way the engine runs: uid 0 of
// a new user namespace with u's subordinate ids mapped (newuidmap, through
// unshare --map-auto), in new mount, pid and network namespaces.
func (u User) Unshared(bin, run string) *exec.Cmd {
	return u.Command("unshare", "--user", "--map-auto", "--map-root-user",
		"--mount", "--pid", "--fork", "--mount-proc", "--net",
		bin, "-test.run=^"+run+"$", "-test.v", "-test.count=1")
}
