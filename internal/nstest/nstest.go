// Package nstest is the one way tests enter namespaces. A test that needs
// namespaces re-executes itself, alone, inside them (InOwnNetns, Reexec),
// and the inner run's result becomes the test's: read from a result file
// the inner run writes, never guessed from its output. Tests that must run
// as the unprivileged test user (TestUser) start their commands as that
// user directly, without su.
package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"warren/internal/testenv"
)

// resultEnv names the file an inner run writes its result to; its presence
// is what tells a test it runs inside.
const resultEnv = "WARREN_NSTEST_RESULT"

// The results an inner run reports.
const (
	resultPass = "pass"
	resultFail = "fail"
	resultSkip = "skip"
)

// Inside reports whether t runs as a re-executed inner run; if so, its
// result is reported to the outer run when it ends.
func Inside(t *testing.T) bool {
	t.Helper()
	path := os.Getenv(resultEnv)
	if path == "" {
		return false
	}
	t.Cleanup(func() {
		result := resultPass
		switch {
		case t.Failed():
			result = resultFail
		case t.Skipped():
			result = resultSkip
		}
		// The outer run made the file; O_CREAT would be refused in /tmp
		// (fs.protected_regular) when the inner run is another user.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err == nil {
			_, err = f.WriteString(result)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.Errorf("report the result to the outer run: %v", err)
		}
	})
	return true
}

// Command returns, unstarted, this test binary re-executed to run only
// the test named run, in new namespaces of the kinds in flags
// (syscall.CLONE_NEW*). With a new user namespace the caller is uid 0
// inside, mapped to itself outside, so no privileges are needed.
func Command(run string, flags uintptr) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.v", "-test.count=1")
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if flags&syscall.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	return cmd
}

// InOwnNetns reports whether the test already runs in its own user and
// network namespace; if not, it runs the test there, makes the inner run's
// result its own and returns false, so a test starts with
// `if !nstest.InOwnNetns(t) { return }`.
func InOwnNetns(t *testing.T) bool {
	t.Helper()
	if Inside(t) {
		return true
	}
	Reexec(t, Command(t.Name(), syscall.CLONE_NEWUSER|syscall.CLONE_NEWNET))
	return false
}

// Reexec runs cmd, an inner run of t made by Command or User.Unshared, to
// its end, logs its output, and makes its result t's: a pass passes, a
// skip skips (a failure under CI=true), anything else fails, including an
// inner run that never reported (it crashed, or matched no test).
func Reexec(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	result := resultFile(t)
	cmd.Env = append(cmd.Env, resultEnv+"="+result)
	out, err := cmd.CombinedOutput()
	t.Logf("inner run (%s):\n%s", strings.Join(cmd.Args, " "), out)
	if err != nil && strings.Contains(err.Error(), "fork/exec") {
		testenv.Requiref(t, false, "needs user namespaces, which this machine refuses: %v", err)
	}
	got, rerr := os.ReadFile(result)
	switch {
	case rerr != nil:
		t.Fatalf("read the inner run's result: %v", rerr)
	case string(got) == resultSkip:
		testenv.Require(t, false, "the inner run skipped (see its output above)")
	case string(got) != resultPass:
		t.Fatalf("the inner run did not pass (%q, %v)", got, err)
	case err != nil:
		t.Fatalf("the inner run passed but exited with %v", err)
	}
}

// resultFile makes an empty file any user may write, where the inner run
// reports its result.
func resultFile(t *testing.T) string {
	t.Helper()
	f, err := os.CreateTemp("", "nstest-result-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if err := f.Chmod(0o666); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// Sleeper starts a process in a network namespace of its own, standing in
// for a container or another host, and returns its pid.
func Sleeper(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleeper: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

// InNetns runs fn on a thread inside pid's network namespace; sockets made
// there stay in it when used from other goroutines. fn's error fails the
// test.
func InNetns(t testing.TB, pid int, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread dies with the goroutine if not restored
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
