package tests

// Bad inputs: each gives Docker's message and exit code and leaves nothing
// behind. These tests are not parallel so that they can count every
// container the daemon has before and after.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// leftovers records the containers `ps -a` lists and the entries of the
// engine's containers folder, and checks at the end that a failed command
// added none.
func leftovers(t *testing.T) {
	t.Helper()
	ps, dir := len(psNames(t)), countEntries(t, filepath.Join(suite.dataDir, "containers"))
	t.Cleanup(func() {
		if got := len(psNames(t)); got != ps {
			t.Errorf("ps -a lists %d containers after the failure, %d before", got, ps)
		}
		if got := countEntries(t, filepath.Join(suite.dataDir, "containers")); got != dir {
			t.Errorf("containers folder holds %d entries after the failure, %d before", got, dir)
		}
	})
}

func countEntries(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("read %s: %v", dir, err)
	}
	return len(entries)
}

// expectFailure runs the CLI and checks exit code and that stderr contains
// every wanted text.
func expectFailure(t *testing.T, c cli, code int, wants []string, args ...string) string {
	t.Helper()
	_, stderr, got := c.run(t, args...)
	if got != code {
		t.Errorf("%s %v: exit %d, want %d; stderr:\n%s", c.name, args, got, code, stderr)
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s %v: stderr lacks %q:\n%s", c.name, args, w, stderr)
		}
	}
	return stderr
}

func eachCLI(t *testing.T, f func(t *testing.T, c cli)) {
	for _, c := range []cli{warrenCLI, dockerCLI} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "docker" {
				requireDocker(t)
			}
			f(t, c)
		})
	}
}

func TestErrUnknownImage(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		leftovers(t)
		image := ref("test/nosuch")
		stderr := expectFailure(t, c, 125, []string{
			"Unable to find image '" + image + ":latest' locally",
			"Error response from daemon: ",
			"manifest for " + image + ":latest not found",
		}, "run", "--rm", image)
		if i, j := strings.Index(stderr, "Unable to find image"), strings.Index(stderr, "Error response"); i < 0 || j < i {
			t.Errorf("the pull error should follow the Unable to find line:\n%s", stderr)
		}
	})
}

func TestErrBadName(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		leftovers(t)
		for _, bad := range []string{"x", "-bad", "a/b", "bad name"} {
			expectFailure(t, c, 125, []string{
				"Invalid container name (" + bad + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			}, "run", "--name", bad, "busybox", "true")
		}
	})
}

func TestErrDuplicateName(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		name, id := runDetached(t, c, "busybox", "sleep", "1000")
		leftovers(t)
		expectFailure(t, c, 125, []string{
			`Conflict. The container name "/` + name + `" is already in use by container "` + id +
				`". You have to remove (or rename) that container to be able to reuse that name.`,
		}, "run", "--name", name, "busybox", "true")
	})
}

func TestErrRmRunning(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		_, stderr, code := c.run(t, "rm", name)
		re := regexp.MustCompile(`Error response from daemon: cannot remove container "/?` + regexp.QuoteMeta(name) +
			`": container is running: stop the container before removing or force remove`)
		if code != 1 || !re.MatchString(stderr) {
			t.Errorf("rm of a running container: exit %d stderr %q", code, stderr)
		}
		if got := inspectField(t, name, "{{.State.Status}}"); got != "running" {
			t.Errorf("container is %s after the refused rm", got)
		}
	})
}

// A missing executable fails the start: exit 127, and Docker leaves the
// container Created with the error recorded (--rm removes it).
func TestErrMissingExecutable(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		name := container(t)
		expectFailure(t, c, 127, []string{`exec: "nosuchcmd": executable file not found in $PATH`},
			"run", "--name", name, "busybox", "nosuchcmd")
		if got := inspectField(t, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "created 127" {
			t.Errorf("state after the failed start = %q, want %q", got, "created 127")
		}
		if got := inspectField(t, name, "{{.State.Error}}"); !strings.Contains(got, "executable file not found") {
			t.Errorf("State.Error = %q", got)
		}
		leftovers(t)
		expectFailure(t, c, 127, []string{`exec: "/nonexistent": stat /nonexistent: no such file or directory`},
			"run", "--rm", "busybox", "/nonexistent")
	})
}

// A command that exists but cannot be run (a directory) fails the start
// with 126, and the container records the same code the CLI exits with.
func TestErrCommandNotInvokable(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		name := container(t)
		expectFailure(t, c, 126, []string{`exec: "/etc": is a directory`}, "run", "--name", name, "busybox", "/etc")
		if got := inspectField(t, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "created 126" {
			t.Errorf("state after the failed start = %q, want %q", got, "created 126")
		}
		leftovers(t)
		expectFailure(t, c, 126, []string{`exec: "/etc": is a directory`}, "run", "--rm", "busybox", "/etc")
	})
}

func TestErrNoCommand(t *testing.T) {
	image := ref(noCmdRepo)
	mustWarren(t, "pull", image)
	eachCLI(t, func(t *testing.T, c cli) {
		leftovers(t)
		expectFailure(t, c, 125, []string{"Error response from daemon: no command specified"}, "run", "--rm", image)
	})
}

func TestErrNoSuchContainer(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		for _, cmd := range [][]string{{"rm"}, {"stop"}, {"start"}, {"kill"}, {"logs"}, {"exec", "nosuch-ctr", "true"}} {
			args := cmd
			if len(cmd) == 1 {
				args = append(cmd, "nosuch-ctr")
			}
			expectFailure(t, c, 1, []string{"Error response from daemon: No such container: nosuch-ctr"}, args...)
		}
		expectFailure(t, c, 1, []string{"Error: No such object: nosuch-ctr"}, "inspect", "nosuch-ctr")
	})
}

func TestErrExecStopped(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		name := container(t)
		c.mustRun(t, "create", "--name", name, "busybox", "sleep", "1000")
		id := inspectField(t, name, "{{.Id}}")
		expectFailure(t, c, 1, []string{"Error response from daemon: container " + id + " is not running"}, "exec", name, "true")
	})
}
