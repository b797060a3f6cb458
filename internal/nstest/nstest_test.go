package nstest

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestInOwnNetns(t *testing.T) {
	if !InOwnNetns(t) {
		return
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		t.Errorf("interfaces %v, want only lo in a new network namespace", ifaces)
	}
	if os.Getuid() != 0 {
		t.Errorf("uid %d inside, want 0", os.Getuid())
	}
}

const (
	probeEnv      = "WARREN_NSTEST_PROBE"       // how the inner probe ends
	probeOuterEnv = "WARREN_NSTEST_PROBE_OUTER" // run TestReexecProbe's outer half
)

// TestReexec checks how each way an inner run can end becomes the outer
// test's result, by running TestReexecProbe as a test binary of its own.
func TestReexec(t *testing.T) {
	for _, tc := range []struct {
		inner, ci string
		want      string // the outer probe's verdict
	}{
		{"pass", "", "--- PASS: TestReexecProbe"},
		{"fail", "", "--- FAIL: TestReexecProbe"},
		{"skip", "", "--- SKIP: TestReexecProbe"},
		{"skip", "true", "--- FAIL: TestReexecProbe"},
		{"exit", "", "--- FAIL: TestReexecProbe"},    // died before reporting
		{"nomatch", "", "--- FAIL: TestReexecProbe"}, // ran no test at all
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReexecProbe$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), probeOuterEnv+"=1", probeEnv+"="+tc.inner, "CI="+tc.ci)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("inner %s, CI=%q: want %q in:\n%s", tc.inner, tc.ci, tc.want, out)
		}
	}
}

func TestReexecProbe(t *testing.T) {
	if Inside(t) {
		switch os.Getenv(probeEnv) {
		case "fail":
			t.Error("inner failure")
		case "skip":
			t.Skip("inner skip")
		case "exit":
			os.Exit(0)
		}
		return
	}
	if os.Getenv(probeOuterEnv) != "1" {
		return // only TestReexec runs it
	}
	run := t.Name()
	if os.Getenv(probeEnv) == "nomatch" {
		run = "TestNoSuchTest"
	}
	Reexec(t, Command(run, syscall.CLONE_NEWUSER|syscall.CLONE_NEWNET))
}
