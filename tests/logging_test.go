package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// printLines is a shell loop printing lines from..to-1 of about 100 bytes.
func printLines(from, to int) string {
	return fmt.Sprintf(`i=%d; while [ $i -lt %d ]; do echo "line $i %s"; i=$((i+1)); done`, from, to, strings.Repeat("x", 80))
}

func logLine(i int) string { return fmt.Sprintf("line %d %s", i, strings.Repeat("x", 80)) }

// json-file with max-size=1k max-file=3 and 100 KB of output: the folder
// keeps three files, logs shows the last lines, --tail reads across files.
func TestLogRotation(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--log-driver", "json-file", "--log-opt", "max-size=1k", "--log-opt", "max-file=3",
			"busybox", "sh", "-c", printLines(0, 1000))
		waitState(t, name, "exited")
		logPath := inspectField(t, name, "{{.LogPath}}")
		if !strings.HasSuffix(logPath, "-json.log") {
			t.Fatalf("LogPath %q is not json-file's", logPath)
		}
		files, _ := filepath.Glob(logPath + "*")
		if len(files) != 3 {
			t.Errorf("log files %v, want %s, .1 and .2", files, filepath.Base(logPath))
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.Size() > 1000+200 {
				t.Errorf("%s: %v bytes (%v), want about max-size", f, st.Size(), err)
			}
		}
		out := c.mustRun(t, "logs", name)
		if !strings.HasSuffix(out, logLine(998)+"\n"+logLine(999)+"\n") {
			t.Errorf("logs ends %q", tail(out, 2))
		}
		var want strings.Builder
		for i := 995; i < 1000; i++ {
			want.WriteString(logLine(i) + "\n")
		}
		if got := c.mustRun(t, "logs", "--tail", "5", name); got != want.String() {
			t.Errorf("logs --tail 5 = %q", got)
		}
		// With max-size=1k a file holds about 8 records: 12 span all three.
		if got := c.mustRun(t, "logs", "--tail", "12", name); !strings.HasPrefix(got, logLine(988)+"\n") || strings.Count(got, "\n") != 12 {
			t.Errorf("logs --tail 12 = %q", got)
		}
		cfg := inspectField(t, name, "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}} {{index .HostConfig.LogConfig.Config \"max-file\"}}")
		if cfg != "json-file 1k 3" {
			t.Errorf("LogConfig = %q", cfg)
		}
	})
}

// logs -f goes on across rotations: the container prints batches larger
// than max-size (so each rotates) but smaller than the files kept (so a
// follower a batch behind loses nothing), each after the test has read the
// one before.
func TestLogsFollowRotation(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		ctl := t.TempDir()
		const batch = 12 // records of about 120 bytes: a 1k file holds 9
		script := printLines(0, batch)
		for b := 1; b <= 3; b++ {
			script += fmt.Sprintf("; while [ ! -e /ctl/go%d ]; do sleep 0.05; done; %s", b, printLines(b*batch, b*batch+batch))
		}
		name, _ := runDetached(t, c, "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "-v", ctl+":/ctl",
			"busybox", "sh", "-c", script)
		waitFor(t, 30*time.Second, "the first batch", func() bool {
			return strings.Contains(c.mustRun(t, "logs", "--tail", "1", name), logLine(batch-1))
		})
		bin := suite.bin
		if c.name == "docker" {
			bin = suite.docker
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "logs", "-f", "--tail", "1", name)
		cmd.Env = suite.env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewReader(out)
		expectLine(t, lines, logLine(batch-1))
		for b := 1; b <= 3; b++ {
			if err := os.WriteFile(filepath.Join(ctl, fmt.Sprint("go", b)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			for i := b * batch; i < b*batch+batch; i++ {
				expectLine(t, lines, logLine(i))
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("logs -f did not end when the container stopped: %v", err)
		}
	})
}

// The none driver keeps nothing: logs is refused with Docker's error.
func TestLogDriverNone(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--log-driver", "none", "busybox", "echo", "hi")
		waitState(t, name, "exited")
		_, stderr, code := c.run(t, "logs", name)
		if code != 1 || strings.TrimSpace(stderr) != "Error response from daemon: configured logging driver does not support reading" {
			t.Errorf("logs: exit %d, stderr %q", code, stderr)
		}
		_, stderr, code = c.run(t, "logs", "-f", name)
		if code != 1 || !strings.Contains(stderr, "configured logging driver does not support reading") {
			t.Errorf("logs -f: exit %d, stderr %q", code, stderr)
		}
		if got := inspectField(t, name, "{{.HostConfig.LogConfig.Type}}|{{.LogPath}}"); got != "none|" {
			t.Errorf("LogConfig.Type|LogPath = %q", got)
		}
		// run without -d still shows the output: it comes by attach.
		if out := c.mustRun(t, "run", "--rm", "--log-driver", "none", "busybox", "echo", "attached"); out != "attached\n" {
			t.Errorf("run with none printed %q", out)
		}
	})
}

// local keeps its files in local-logs, out of inspect, and reads back.
func TestLogDriverLocal(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--log-driver", "local", "--log-opt", "max-size=1k", "--log-opt", "max-file=2",
			"busybox", "sh", "-c", printLines(0, 100))
		waitState(t, name, "exited")
		if got := c.mustRun(t, "logs", "--tail", "2", name); got != logLine(98)+"\n"+logLine(99)+"\n" {
			t.Errorf("logs --tail 2 = %q", got)
		}
		if got := inspectField(t, name, "{{.HostConfig.LogConfig.Type}}|{{.LogPath}}"); got != "local|" {
			t.Errorf("LogConfig.Type|LogPath = %q, want local and no LogPath, as Docker", got)
		}
	})
}

// Drivers and options warren does not have are refused at create with
// Docker's text, and no container is left.
func TestLogDriverRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--log-driver", "syslog"}, "logger: no log driver named 'syslog' is registered"},
		{[]string{"--log-driver", "journald"}, "logger: no log driver named 'journald' is registered"},
		{[]string{"--log-driver", "gelf"}, "logger: no log driver named 'gelf' is registered"},
		{[]string{"--log-opt", "max-sise=1k"}, "unknown log opt 'max-sise' for json-file log driver"},
		{[]string{"--log-driver", "local", "--log-opt", "bogus=1"}, "unknown log opt 'bogus' for log driver local"},
		{[]string{"--log-opt", "max-size=lots"}, "failed to initialize logging driver: invalid size: 'lots'"},
		{[]string{"--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--log-opt", "compress=true"},
			"log opt compress=true is not supported by warren: rotated log files are kept uncompressed; leave compress out or set it to false"},
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, tc := range cases {
			name := uniqueName(t)
			args := append(append([]string{"create", "--name", name}, tc.args...), "busybox")
			_, stderr, code := c.run(t, args...)
			if code == 0 || strings.TrimSpace(stderr) != "Error response from daemon: "+tc.want {
				t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
			}
			if _, _, code := c.run(t, "inspect", name); code == 0 {
				t.Errorf("%v: container %s was left", tc.args, name)
				c.run(t, "rm", "-f", name)
			}
		}
	})
}
