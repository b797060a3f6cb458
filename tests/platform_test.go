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

// pull --platform of another platform is refused, not answered with the
// daemon's own platform; its own platform pulls.
func TestPullPlatform(t *testing.T) {
	t.Parallel()
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	want := "warren pulls and imports images of its own platform (linux/" + runtime.GOARCH + ") only, not " + other
	bothCLIs(t, func(t *testing.T, c cli) {
		image := ref("test/platform-" + c.name)
		_, stderr, code := c.run(t, "pull", "--platform", other, image)
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("pull --platform %s: exit %d, stderr %q, want %q", other, code, stderr, want)
		}
		if _, _, code := c.run(t, "image", "inspect", image); code == 0 {
			t.Errorf("pull --platform %s stored %s", other, image)
		}
		c.mustRun(t, "pull", "--platform", "linux/"+runtime.GOARCH, image)
		c.run(t, "rmi", image)
	})
	_, stderr, code := warren(t, "pull", "--all-tags", ref("test/platform-warren"))
	if code == 0 || !strings.Contains(stderr, "does not support --all-tags") {
		t.Errorf("pull --all-tags: exit %d, stderr %q", code, stderr)
	}
}
