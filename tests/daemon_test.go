package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "version")
		for _, want := range []string{"Client:", "Server:", "Engine:", "API version:"} {
			if !strings.Contains(out, want) {
				t.Errorf("version lacks %q:\n%s", want, out)
			}
		}
		api := strings.TrimSpace(c.mustRun(t, "version", "--format", "{{.Server.APIVersion}}"))
		if !regexp.MustCompile(`^1\.\d+$`).MatchString(api) {
			t.Errorf("server API version = %q", api)
		}
	})
}

func TestInfo(t *testing.T) {
	t.Parallel()
	// warren info reports the rootless prerequisites, one line each.
	out := mustWarren(t, "info")
	for _, want := range []string{"newuidmap", "newgidmap", "/etc/subuid", "/dev/net/tun"} {
		if !strings.Contains(out, want) {
			t.Errorf("warren info lacks a %s line:\n%s", want, out)
		}
	}
	if suite.docker != "" {
		out, _, _ := docker(t, "info")
		for _, want := range []string{"Containers:", "Server Version:"} {
			if !strings.Contains(out, want) {
				t.Errorf("docker info lacks %q:\n%s", want, out)
			}
		}
	}
}

// TestInfoMissingPrerequisite: warren info's exit status is the one
// prerequisite check the scripts and this suite use, so a missing one (no
// ip, nsenter or newuidmap on PATH) makes it exit 1, with the fix, even
// with the daemon answering.
func TestInfoMissingPrerequisite(t *testing.T) {
	t.Parallel()
	r := runCmd(suite.bin, withEnv(suite.env, "PATH="+t.TempDir()), nil, "info")
	if r.code != 1 {
		t.Errorf("info without ip and newuidmap on PATH: exit %d, want 1\n%s", r.code, r.stdout)
	}
	for _, want := range []string{
		" ip:", "MISSING  not found in $PATH", "Fix: install the iproute2 package",
		"Server:\n Containers:", // the daemon itself answered
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("info lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	r := runCmd(suite.bin, suite.env, nil, "daemon")
	if r.code == 0 || strings.TrimSpace(r.stderr) == "" {
		t.Errorf("a second daemon on the same folders: exit %d stderr %q; want a refusal", r.code, r.stderr)
	}
	mustWarren(t, "version") // the first one still serves
	if !fileExists(suite.socket) {
		t.Error("the refused daemon removed the first one's socket")
	}
}

// One daemon per data folder: a second daemon with another runtime folder
// but the same data folder is refused in one line that names the first,
// and the first one's running container is untouched. (Before, it marked
// the container exited, started it again on the same overlay folders and
// deleted it.) --disable-host-loopback is still accepted.
func TestDaemonDataFolderLocked(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t)
	name, _ := runDetached(t, d.cli(), "busybox", "sleep", "1000")
	const state = "{{.State.Status}} {{.State.Pid}} {{.State.StartedAt}}"
	before := d.mustRun(t, "inspect", "-f", state, name)

	root, err := os.MkdirTemp("/tmp", "wd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(root) })
	dataDir := envValue(d.env, "WARREN_DATA_DIR")
	env := withEnv(d.env, "WARREN_RUNTIME_DIR="+root)
	r := runCmd(suite.bin, env, nil, "daemon", "--disable-host-loopback")
	want := fmt.Sprintf("warren: the data folder %s is in use by another warren daemon (pid %d, socket %s)\n",
		dataDir, d.proc.cmd.Process.Pid, filepath.Join(d.runDir, "warren.sock"))
	if r.code != 1 || r.stderr != want {
		t.Errorf("second daemon on the same data folder: exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
	if fileExists(filepath.Join(root, "warren.sock")) {
		t.Error("the refused daemon left a socket behind")
	}
	if after := d.mustRun(t, "inspect", "-f", state, name); after != before {
		t.Errorf("the first daemon's container changed: %q, was %q", after, before)
	}
	if out := d.mustRun(t, "exec", name, "echo", "alive"); out != "alive\n" {
		t.Errorf("exec in the first daemon's container: %q", out)
	}
}

// descendants counts the processes below pid (the daemon's tree, including
// the namespaced engine and every container process).
func descendants(pid int) int { return len(processTree(pid)) }

// processTree lists every process below pid.
func processTree(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fields := procStat(p); len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	var tree []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			tree = append(tree, c)
			walk(c)
		}
	}
	walk(pid)
	return tree
}

// procStat is /proc/pid/stat's fields after the command, which is in
// parentheses and may hold spaces: state, ppid, ...; nil once pid is gone.
func procStat(pid int) []string {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
}

// exited tells whether pid has closed its files: it is gone or a zombie.
// An exiting process loses /proc/pid/exe before it closes its files, so
// that is no sign.
func exited(pid int) bool {
	fields := procStat(pid)
	return len(fields) == 0 || fields[0] == "Z" || fields[0] == "X"
}

// rm -f leaves no process behind: not the container's init, not its
// children. Not parallel: it counts the whole tree.
func TestNoStrayProcessesAfterRmForce(t *testing.T) {
	pid := suite.daemon.cmd.Process.Pid
	waitFor(t, 30*time.Second, "the daemon's tree to settle", func() bool { return descendants(pid) > 0 })
	before := descendants(pid)
	name, _ := runDetached(t, warrenCLI, "busybox", "sh", "-c", "sleep 1000 & sleep 1000 & wait")
	mustWarren(t, "exec", "-d", name, "sleep", "1000")
	waitFor(t, 30*time.Second, "the container's processes", func() bool { return descendants(pid) >= before+4 })
	mustWarren(t, "rm", "-f", name)
	waitFor(t, 30*time.Second, "the daemon's tree to return to its size", func() bool { return descendants(pid) == before })
}

// daemonsFor finds the top `warren daemon` processes serving runDir (the
// CLI's auto-start gives us no handle on them).
func daemonsFor(runDir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	match := func(p string) bool {
		exe, err := os.Readlink(filepath.Join("/proc", p, "exe"))
		if err != nil || exe != suite.bin {
			return false
		}
		env, err := os.ReadFile(filepath.Join("/proc", p, "environ"))
		return err == nil && bytes.Contains(env, []byte("WARREN_RUNTIME_DIR="+runDir+"\x00"))
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || !match(e.Name()) {
			continue
		}
		if fields := procStat(p); len(fields) > 1 && !match(fields[1]) {
			pids = append(pids, p)
		}
	}
	return pids
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// A daemon killed with SIGKILL leaves a stale socket; the next command must
// start a new daemon that serves the old state. It uses its own daemon (own
// folders) so the shared one is not disturbed.
func TestDaemonRestartsAfterSIGKILL(t *testing.T) {
	root, err := os.MkdirTemp("/tmp", "wk-")
	if err != nil {
		t.Fatal(err)
	}
	runDir, _, env := daemonDirs(root)
	t.Cleanup(func() {
		for _, pid := range daemonsFor(runDir) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			waitFor(t, 30*time.Second, "the daemon to stop", func() bool { return !alive(pid) })
		}
		if err := removeAll(root); err != nil {
			t.Log(err)
		}
	})
	own := func(args ...string) result {
		t.Helper()
		r := runCmd(suite.bin, env, nil, args...)
		t.Logf("$ warren %s → %d", strings.Join(args, " "), r.code)
		if r.code != 0 {
			t.Fatalf("warren %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		return r
	}
	// Auto-start on first use.
	own("load", "-i", filepath.Join(suite.images, "busybox.tar"))
	own("create", "--name", "survivor", "busybox", "true")
	pids := daemonsFor(runDir)
	if len(pids) != 1 {
		t.Fatalf("found daemons %v for %s, want exactly one", pids, runDir)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the killed daemon to go", func() bool { return !alive(pids[0]) })
	if !fileExists(filepath.Join(runDir, "warren.sock")) {
		t.Log("note: the killed daemon's socket is gone; the test still checks auto-start")
	}
	if out := own("ps", "-a", "--format", "{{.Names}}").stdout; !containsLine(out, "survivor") {
		t.Errorf("after restart ps -a = %q, want the survivor container", out)
	}
	if out := own("run", "--rm", "busybox", "echo", "alive").stdout; out != "alive\n" {
		t.Errorf("run after restart printed %q", out)
	}
	if pids := daemonsFor(runDir); len(pids) != 1 {
		t.Errorf("daemons after restart: %v, want exactly one", pids)
	}
}
