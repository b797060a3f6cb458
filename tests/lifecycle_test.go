package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// psRow returns the line of `ps` output (args) that mentions name.
func psRow(t *testing.T, c cli, name string, args ...string) (header, row string) {
	t.Helper()
	out := c.mustRun(t, append([]string{"ps"}, args...)...)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, " "+name) {
			return lines[0], l
		}
	}
	t.Fatalf("ps %v does not list %s:\n%s", args, name, out)
	return "", ""
}

func TestPs(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, id := runDetached(t, c, "busybox", "sh", "-c", "sleep 1000; echo aaaaaaaaaa")
		header, row := psRow(t, c, name)
		if !regexp.MustCompile(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$`).MatchString(header) {
			t.Errorf("ps header = %q", header)
		}
		// Command is ellipsised to 20 columns and quoted; ID is 12 hex.
		want := regexp.MustCompile(`^` + id[:12] + ` +busybox +"sh -c sleep 1000; e…" +(Less than a second|\d+ seconds?) ago +Up (Less than a second|\d+ seconds?) +` + name + `$`)
		if !want.MatchString(row) {
			t.Errorf("ps row = %q, want it to match %s", row, want)
		}
		// Columns are counted in characters: the ellipsis is one.
		if utf8.RuneCountInString(header[:strings.Index(header, "NAMES")]) != utf8.RuneCountInString(row[:strings.Index(row, name)]) {
			t.Errorf("NAMES column not aligned:\n%s\n%s", header, row)
		}
		_, full := psRow(t, c, name, "--no-trunc")
		if !strings.HasPrefix(full, id+" ") || !strings.Contains(full, `"sh -c sleep 1000; echo aaaaaaaaaa"`) {
			t.Errorf("ps --no-trunc row = %q, want the full ID and command", full)
		}
		if out := c.mustRun(t, "ps", "-q"); !containsLine(out, id[:12]) {
			t.Errorf("ps -q lacks %s:\n%s", id[:12], out)
		}
		if out := c.mustRun(t, "ps", "-q", "--no-trunc"); !containsLine(out, id) {
			t.Errorf("ps -q --no-trunc lacks %s:\n%s", id, out)
		}
		out := c.mustRun(t, "ps", "--format", "{{.Names}}|{{.Image}}|{{.Status}}")
		if !regexp.MustCompile(`(?m)^` + name + `\|busybox\|Up (Less than a second|\d+ seconds?)$`).MatchString(out) {
			t.Errorf("ps --format lacks a row for %s:\n%s", name, out)
		}
	})
}

func TestPsAllShowsExited(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		if _, _, code := c.run(t, "run", "--name", name, "busybox", "sh", "-c", "exit 2"); code != 2 {
			t.Fatalf("run exit %d, want 2", code)
		}
		if out := c.mustRun(t, "ps", "--format", "{{.Names}}"); containsLine(out, name) {
			t.Errorf("ps (running only) lists exited %s", name)
		}
		_, row := psRow(t, c, name, "-a")
		if !regexp.MustCompile(`Exited \(2\) (Less than a second|\d+ seconds?) ago +` + name + `$`).MatchString(row) {
			t.Errorf("ps -a row = %q, want Status Exited (2) … ago", row)
		}
	})
}

// ps -l shows only the newest container, running or not. Not parallel: other
// tests would create newer ones.
func TestPsLatest(t *testing.T) {
	name := container(t)
	mustWarren(t, "create", "--name", name, "busybox", "true")
	id := inspectField(t, name, "{{.Id}}")
	for _, c := range []cli{warrenCLI, dockerCLI} {
		if c.name == "docker" && suite.docker == "" {
			continue
		}
		if out := c.mustRun(t, "ps", "-l", "-q"); out != id[:12]+"\n" {
			t.Errorf("%s ps -l -q = %q, want %q", c.name, out, id[:12]+"\n")
		}
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, id := runDetached(t, c, "busybox", "sleep", "1000")
		if got := c.mustRun(t, "inspect", "-f", "{{ .Name }}", name); got != "/"+name+"\n" {
			t.Errorf("inspect -f {{ .Name }} = %q, want %q", got, "/"+name+"\n")
		}
		if got := c.mustRun(t, "inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Config.Hostname}}", name); got != "running true "+id[:12]+"\n" {
			t.Errorf("state = %q", got)
		}
		var raw []map[string]any
		if err := json.Unmarshal([]byte(c.mustRun(t, "inspect", name)), &raw); err != nil || len(raw) != 1 {
			t.Fatalf("inspect is not a JSON array of one object: %v", err)
		}
		obj := raw[0]
		checks := map[string]any{"Id": id, "Name": "/" + name, "Path": "sleep"}
		for k, want := range checks {
			if obj[k] != want {
				t.Errorf("inspect .%s = %v, want %v", k, obj[k], want)
			}
		}
		if args, _ := obj["Args"].([]any); len(args) != 1 || args[0] != "1000" {
			t.Errorf("inspect .Args = %v, want [1000]", obj["Args"])
		}
		if img, _ := obj["Image"].(string); !strings.HasPrefix(img, "sha256:") {
			t.Errorf("inspect .Image = %v, want the image ID", obj["Image"])
		}
		state, _ := obj["State"].(map[string]any)
		if pid, _ := state["Pid"].(float64); pid <= 0 || state["Status"] != "running" {
			t.Errorf("inspect .State = %v", state)
		}
		if _, err := time.Parse(time.RFC3339Nano, asString(state["StartedAt"])); err != nil {
			t.Errorf("State.StartedAt %v: %v", state["StartedAt"], err)
		}
		cfg, _ := obj["Config"].(map[string]any)
		if cfg["Image"] != "busybox" {
			t.Errorf("Config.Image = %v, want busybox", cfg["Image"])
		}
		for _, k := range []string{"Created", "HostConfig", "NetworkSettings", "Mounts", "HostsPath", "HostnamePath", "ResolvConfPath", "RestartCount", "Driver"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("inspect lacks key %s", k)
			}
		}
	})
}

func asString(v any) string { s, _ := v.(string); return s }

func TestLogs(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sh", "-c", "echo one; echo two >&2; echo three")
		waitState(t, name, "exited")
		stdout, stderr, code := c.run(t, "logs", name)
		if code != 0 || stdout != "one\nthree\n" || stderr != "two\n" {
			t.Errorf("logs: exit %d stdout %q stderr %q, want stdout one,three and stderr two", code, stdout, stderr)
		}
		// stdout and stderr are separate pipes, so their relative order in
		// the log is not defined (as with Docker): tail one stream only.
		name, _ = runDetached(t, c, "busybox", "sh", "-c", "echo one; echo two; echo three")
		waitState(t, name, "exited")
		if out := c.mustRun(t, "logs", "--tail", "1", name); out != "three\n" {
			t.Errorf("logs --tail 1 stdout = %q, want %q", out, "three\n")
		}
	})
}

// logs -f prints what is there, then follows new lines, and ends when the
// container stops. The container waits for a file in a bind-mounted folder,
// so the test decides when the new lines come.
func TestLogsFollow(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		ctl := t.TempDir()
		name, _ := runDetached(t, c, "-v", ctl+":/ctl", "busybox", "sh", "-c",
			"echo first; while [ ! -e /ctl/go ]; do sleep 0.05; done; echo second; echo third")
		bin := suite.bin
		if c.name == "docker" {
			bin = suite.docker
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "logs", "-f", name)
		cmd.Env = suite.env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewReader(out)
		expectLine(t, lines, "first")
		if err := os.WriteFile(filepath.Join(ctl, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		expectLine(t, lines, "second")
		expectLine(t, lines, "third")
		if rest, _ := io.ReadAll(lines); len(rest) != 0 {
			t.Errorf("unexpected output after the last line: %q", rest)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("logs -f did not end cleanly when the container stopped: %v", err)
		}
	})
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if line != want+"\n" {
		t.Fatalf("read %q (%v), want line %q", line, err, want)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		if out := c.mustRun(t, "exec", name, "echo", "hi"); out != "hi\n" {
			t.Errorf("exec echo hi = %q", out)
		}
		if _, _, code := c.run(t, "exec", name, "sh", "-c", "exit 5"); code != 5 {
			t.Errorf("exec exit code %d, want 5", code)
		}
		stdout, stderr, _ := c.run(t, "exec", name, "sh", "-c", "echo o; echo e >&2")
		if stdout != "o\n" || stderr != "e\n" {
			t.Errorf("exec streams: stdout %q stderr %q", stdout, stderr)
		}
		if out := c.mustRun(t, "exec", "-u", "1000", "-w", "/tmp", "-e", "X=1", name, "sh", "-c", `echo "$(id -u) $PWD $X"`); out != "1000 /tmp 1\n" {
			t.Errorf("exec -u -w -e = %q, want %q", out, "1000 /tmp 1\n")
		}
		// The exec joined the container: it sees the container's hostname.
		if out := c.mustRun(t, "exec", name, "hostname"); strings.TrimSpace(out) != inspectField(t, name, "{{.Config.Hostname}}") {
			t.Errorf("exec hostname = %q", out)
		}
	})
}

// sleep as PID 1 has no SIGTERM handler, so the kernel ignores SIGTERM: stop
// must kill it after the timeout, which Docker reports as 137.
func TestStopKillsAfterTimeout(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		if out := c.mustRun(t, "stop", "-t", "1", name); out != name+"\n" {
			t.Errorf("stop printed %q, want %q", out, name+"\n")
		}
		if got := inspectField(t, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			t.Errorf("after stop: %q, want %q", got, "exited 137")
		}
		_, row := psRow(t, c, name, "-a")
		if !strings.Contains(row, "Exited (137)") {
			t.Errorf("ps -a row %q, want Exited (137)", row)
		}
	})
}

func TestStopGraceful(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "busybox", "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done")
	mustWarren(t, "stop", name)
	if got := inspectField(t, name, "{{.State.ExitCode}}"); got != "0" {
		t.Errorf("exit code after graceful stop = %s, want 0", got)
	}
}

func TestStartAndRestart(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		c.mustRun(t, "kill", name)
		waitState(t, name, "exited")
		if out := c.mustRun(t, "start", name); out != name+"\n" {
			t.Errorf("start printed %q", out)
		}
		if got := inspectField(t, name, "{{.State.Status}}"); got != "running" {
			t.Fatalf("after start: %s", got)
		}
		before := inspectField(t, name, "{{.State.StartedAt}}")
		pid := inspectField(t, name, "{{.State.Pid}}")
		if out := c.mustRun(t, "restart", "-t", "1", name); out != name+"\n" {
			t.Errorf("restart printed %q", out)
		}
		after := inspectField(t, name, "{{.State.StartedAt}} {{.State.Pid}} {{.State.Status}}")
		fields := strings.Fields(after)
		if len(fields) != 3 || fields[0] <= before || fields[1] == pid || fields[2] != "running" {
			t.Errorf("after restart: %q; before: StartedAt %s Pid %s", after, before, pid)
		}
	})
}

// State.Pid is the host's pid of the container's first process, as Docker
// reports it (the engine runs in a pid namespace of its own): on the host
// it is the container's command, and a signal sent to it from the host
// reaches the container.
func TestInspectPidIsTheHosts(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		script := `trap "exit 7" TERM; sleep 1000 & wait`
		name, _ := runDetached(t, c, "busybox", "sh", "-c", script)
		out := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.State.Pid}}", name))
		pid, err := strconv.Atoi(out)
		if err != nil || pid <= 0 {
			t.Fatalf("State.Pid = %q", out)
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if want := "sh\x00-c\x00" + script + "\x00"; err != nil || string(cmdline) != want {
			t.Fatalf("host's /proc/%d/cmdline = %q, %v; want %q", pid, cmdline, err, want)
		}
		// As pid 1 of its namespace, sh ignores SIGTERM until its trap is set.
		waitFor(t, 30*time.Second, "the container's TERM trap", func() bool { return catchesTERM(t, pid) })
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			t.Fatalf("kill -TERM %d from the host: %v", pid, err)
		}
		waitState(t, name, "exited")
		if got := inspectField(t, name, "{{.State.ExitCode}} {{.State.Pid}}"); got != "7 0" {
			t.Errorf("after the host's SIGTERM: exit code and pid %q, want %q", got, "7 0")
		}
	})
}

// catchesTERM reads the host's /proc/PID/status: is SIGTERM caught?
func catchesTERM(t *testing.T, pid int) bool {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(syscall.SIGTERM-1)) != 0
		}
	}
	return false
}

func TestKill(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		if out := c.mustRun(t, "kill", name); out != name+"\n" {
			t.Errorf("kill printed %q", out)
		}
		waitState(t, name, "exited")
		if got := inspectField(t, name, "{{.State.ExitCode}}"); got != "137" {
			t.Errorf("exit code after kill = %s, want 137", got)
		}
	})
}

func TestWait(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		ctl := t.TempDir()
		name, _ := runDetached(t, c, "-v", ctl+":/ctl", "busybox", "sh", "-c", "while [ ! -e /ctl/go ]; do sleep 0.05; done; exit 7")
		type res struct {
			out  string
			code int
		}
		done := make(chan res, 1)
		go func() {
			out, _, code := c.run(t, "wait", name)
			done <- res{out, code}
		}()
		if err := os.WriteFile(filepath.Join(ctl, "go"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.code != 0 || r.out != "7\n" {
			t.Errorf("wait: exit %d output %q, want exit 0 and %q", r.code, r.out, "7\n")
		}
	})
}

func TestRm(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		c.mustRun(t, "run", "--name", name, "busybox", "true")
		if out := c.mustRun(t, "rm", name); out != name+"\n" {
			t.Errorf("rm printed %q", out)
		}
		if _, stderr, code := c.run(t, "inspect", name); code == 0 || !strings.Contains(stderr, "No such object: "+name) {
			t.Errorf("inspect after rm: exit %d stderr %q", code, stderr)
		}
		// rm -f of a running container.
		running, _ := runDetached(t, c, "busybox", "sleep", "1000")
		if out := c.mustRun(t, "rm", "-f", running); out != running+"\n" {
			t.Errorf("rm -f printed %q", out)
		}
		for _, n := range psNames(t) {
			if n == name || n == running {
				t.Errorf("ps -a still lists %s", n)
			}
		}
	})
}
