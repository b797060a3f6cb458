package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A 300 MB create body must not grow the engine: the API refuses JSON
// bodies over 4 MiB without buffering them, whether the length is declared
// or the body is chunked. Before the limit, one such request took the engine
// to 1.8 GB RSS for good. The bound is on memory, not time.
func TestHostileBodyRSS(t *testing.T) {
	d := startOwnDaemon(t)
	socket := filepath.Join(d.runDir, "warren.sock")
	before := daemonRSS(t, d.runDir)
	for _, chunked := range []bool{false, true} {
		status, msg := postHuge(t, socket, 300<<20, chunked)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "request body too large") {
			t.Errorf("300 MB body (chunked %v): %d %q, want 413", chunked, status, msg)
		}
	}
	if err := pingSocket(socket); err != nil {
		t.Fatalf("the daemon no longer answers: %v", err)
	}
	after := daemonRSS(t, d.runDir)
	t.Logf("daemon RSS: %.1f MiB before, %.1f MiB after two 300 MB create bodies", mib(before), mib(after))
	if grown := after - before; grown > 32<<20 {
		t.Errorf("the daemon grew by %.1f MiB, want under 32 MiB", mib(grown))
	}
	if n := len(d.mustRun(t, "ps", "-aq")); n != 0 {
		t.Errorf("ps -aq printed %d bytes after refused creates", n)
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// postHuge sends a create whose body is n bytes of one env value.
func postHuge(t *testing.T, socket string, n int64, chunked bool) (int, string) {
	t.Helper()
	prefix := `{"Image":"busybox","Env":["X=`
	gen := func() io.Reader {
		return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatReader('a'), n-int64(len(prefix))))
	}
	return rawHTTP(t, socket, apiCase{Method: "POST", Path: "/containers/create", Chunked: chunked, gen: gen, length: n})
}

// daemonRSS sums VmRSS over the processes of the daemon on runDir: the
// warren binary with that runtime folder in its environment.
func daemonRSS(t *testing.T, runDir string) int64 {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	procs := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err != nil || exe != suite.bin {
			continue
		}
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !bytes.Contains(env, []byte("WARREN_RUNTIME_DIR="+runDir+"\x00")) {
			continue
		}
		total += vmRSS(filepath.Join(dir, "status"))
		procs++
	}
	if procs == 0 {
		t.Fatalf("no daemon process for %s", runDir)
	}
	return total
}

func vmRSS(status string) int64 {
	f, err := os.Open(status)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// A detached run whose start fails behaves as docker 28's: the ID is printed
// (before the start, so the container left behind can be removed), then
// Docker's error, exit 125, and the container stays Created.
func TestRunDetachedStartFailure(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		db := container(t)
		c.mustRun(t, "create", "--name", db, "busybox", "sleep", "100")
		web := container(t)
		stdout, stderr, code := c.run(t, "run", "-d", "--name", web, "--link", db+":x", "busybox", "sleep", "100")
		want := fmt.Sprintf("Error response from daemon: Cannot link to a non running container: /%s AS /%s/x", db, web)
		if code != 125 || !hasErrorLine(stderr, c.name, want) {
			t.Errorf("exit %d stderr %q, want 125 and %q", code, stderr, want)
		}
		if id := inspectField(t, web, "{{.Id}}"); stdout != id+"\n" {
			t.Errorf("stdout %q, want the ID %s", stdout, id)
		}
		if got := inspectField(t, web, "{{.State.Status}}"); got != "created" {
			t.Errorf("%s is %q after the failed start, want created", web, got)
		}
	})
}

// Without cgroups a limit is discarded with Docker's warning, which both
// CLIs print on stderr, and the container runs; --cpus is refused as
// Docker refuses it.
func TestLimitWarnings(t *testing.T) {
	t.Parallel()
	const memWarning = "WARNING: Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."
	bothCLIs(t, func(t *testing.T, c cli) {
		stdout, stderr, code := c.run(t, "run", "--rm", "--memory", "64m", "busybox", "echo", "ran")
		if code != 0 || stdout != "ran\n" || !containsLine(stderr, memWarning) {
			t.Errorf("run --memory 64m: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		name := container(t)
		_, stderr, code = c.run(t, "create", "--name", name, "--pids-limit", "100", "--cpu-shares", "512", "--memory-reservation", "32m", "busybox")
		for _, w := range []string{
			"WARNING: Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.",
			"WARNING: Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
			"WARNING: Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.",
		} {
			if code != 0 || !containsLine(stderr, w) {
				t.Errorf("create: exit %d, stderr %q lacks %q", code, stderr, w)
			}
		}
		if got := inspectField(t, name, "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}} {{json .HostConfig.PidsLimit}}"); got != "0 0 null" {
			t.Errorf("inspect keeps the discarded limits: %q", got)
		}
		name = uniqueName(t)
		_, stderr, code = c.run(t, "create", "--name", name, "--cpus", "1", "busybox")
		if code == 0 || !strings.Contains(stderr, "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted") {
			t.Errorf("create --cpus 1: exit %d, stderr %q", code, stderr)
		}
		if _, _, code := c.run(t, "inspect", name); code == 0 {
			t.Errorf("create --cpus left %s", name)
			c.run(t, "rm", "-f", name)
		}
	})
}

// info says which limits containers get and why; /info's limit fields are
// false and its warnings are Docker's for a rootless daemon without cgroups.
func TestInfoLimits(t *testing.T) {
	t.Parallel()
	stdout, stderr, _ := warren(t, "info")
	if !strings.Contains(stdout, " Resource Limits: none (cgroup v") {
		t.Errorf("warren info has no Resource Limits line:\n%s", stdout)
	}
	if !strings.Contains(stderr, "WARNING: Running in rootless-mode without cgroups.") {
		t.Errorf("warren info stderr %q lacks the rootless warning", stderr)
	}
	requireDocker(t)
	out, derr, code := docker(t, "info", "--format", "{{.MemoryLimit}} {{.SwapLimit}} {{.CPUCfsPeriod}} {{.CPUCfsQuota}} {{.CPUShares}} {{.CPUSet}} {{.PidsLimit}} {{.CgroupDriver}}")
	if code != 0 || strings.TrimSpace(out) != "false false false false false false false none" {
		t.Errorf("docker info fields: exit %d, %q %q", code, out, derr)
	}
	_, derr, _ = docker(t, "info")
	if !strings.Contains(derr, "WARNING: Running in rootless-mode without cgroups.") {
		t.Errorf("docker info stderr %q lacks the rootless warning", derr)
	}
}
