package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const probeEnv = "WARREN_TESTENV_PROBE"

// TestRequire runs a probe test in a child process under each setting of
// CI and checks how a missing prerequisite ends it.
func TestRequire(t *testing.T) {
	if os.Getenv(probeEnv) == "1" {
		return // the probe is TestRequireProbe
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestRequireProbe"},
		{"false", false, "--- SKIP: TestRequireProbe"},
		{"true", true, "--- FAIL: TestRequireProbe"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireProbe$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), probeEnv+"=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.want) {
			t.Errorf("CI=%q: exit %v, want failure %v and %q in:\n%s", tc.ci, err, tc.wantFail, tc.want, out)
		}
		if !strings.Contains(string(out), "no frobnicator here") {
			t.Errorf("CI=%q: the reason is not reported:\n%s", tc.ci, out)
		}
	}
}

func TestRequireProbe(t *testing.T) {
	if os.Getenv(probeEnv) != "1" {
		Require(t, true, "never shown")
		return
	}
	Requiref(t, false, "no %s here", "frobnicator")
	t.Error("Require returned for a missing prerequisite")
}
