package tests

import (
	"runtime"
	"strings"
	"testing"
)

// run/create --platform of another platform than the local image's is
// Docker's 404 with its text, and leaves no container.
func TestRunPlatformMismatch(t *testing.T) {
	t.Parallel()
	have := "linux/" + strings.TrimSpace(mustWarren(t, "image", "inspect", "-f", "{{.Architecture}}", "busybox"))
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	want := "Error response from daemon: image with reference busybox was found but its platform (" + have +
		") does not match the specified platform (" + other + ")"
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, cmd := range []string{"create", "run"} {
			name := uniqueName(t)
			// docker pulls the other platform on a 404 unless told not to.
			_, stderr, code := c.run(t, cmd, "--pull", "never", "--name", name, "--platform", other, "busybox", "true")
			if code == 0 || !strings.Contains(stderr, want) {
				t.Errorf("%s --platform %s: exit %d, stderr %q, want %q", cmd, other, code, stderr, want)
			}
			if _, _, code := c.run(t, "inspect", name); code == 0 {
				t.Errorf("%s: container %s was left", cmd, name)
				c.run(t, "rm", "-f", name)
			}
		}
		// The image's own platform runs.
		if out := c.mustRun(t, "run", "--rm", "--platform", have, "busybox", "echo", "ok"); out != "ok\n" {
			t.Errorf("run --platform %s printed %q", have, out)
		}
	})
}
