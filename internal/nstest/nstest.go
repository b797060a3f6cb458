// Package nstest gives tests a network namespace of their own without
// root: the test binary re-executes the one test in a new user and network
// namespace (uid 0 inside = the caller outside), so it runs the same way
// as root or as an ordinary user and touches nothing of the machine's
// network.
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
)

const insideEnv = "WARREN_TEST_IN_NETNS"

// InOwnNetns reports whether the test already runs in its own namespace;
// if not, it runs the test there, reports its output and result, and
// returns false, so a test starts with `if !nstest.InOwnNetns(t) { return }`.
func InOwnNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(insideEnv) == "1" {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), insideEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	out, err := cmd.CombinedOutput()
	t.Logf("in a new user+net namespace:\n%s", out)
	if err != nil && strings.Contains(err.Error(), "fork/exec") {
		t.Skipf("needs a user and network namespace, which this machine refuses: %v", err)
	}
	if err != nil {
		t.Fatalf("namespaced run: %v", err)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skip("skipped inside the namespace")
	}
	return false
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
