package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

var procprobeOnce sync.Once
var procprobeErr error

// useProcprobe loads the warren/procprobe image into the suite's daemon once.
func useProcprobe(t testing.TB) {
	t.Helper()
	procprobeOnce.Do(func() {
		r := runCmd(suite.bin, suite.env, nil, "load", "-i", filepath.Join(suite.images, "procprobe.tar"))
		if r.code != 0 {
			procprobeErr = fmt.Errorf("load procprobe.tar: exit %d: %s", r.code, r.stderr)
		}
	})
	if procprobeErr != nil {
		t.Fatal(procprobeErr)
	}
}

// An exec'd process must never be visible in the container with more than
// the container's privileges: a container that may ptrace polls /proc and
// tries to reach the host through /proc/PID/root and cwd of every process
// that appears while 50 execs run.
func TestExecConfinedFromPtrace(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{{"--cap-add", "SYS_PTRACE"}, {"--privileged"}} {
		t.Run(strings.TrimLeft(flags[0], "-"), func(t *testing.T) {
			t.Parallel()
			useProcprobe(t)
			canary := t.TempDir()
			const content = "host canary\n"
			if err := os.WriteFile(filepath.Join(canary, "canary"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			hostHostname, _ := os.ReadFile("/etc/hostname")
			args := append(append([]string{}, flags...), "warren/procprobe", "/procprobe", canary)
			name, _ := runDetached(t, warrenCLI, args...)
			waitLogs(t, name, "ready")
			for i := 0; i < 50; i++ {
				mustWarren(t, "exec", name, "/bin/true")
			}
			mustWarren(t, "stop", "-t", "10", name)
			logs, stderr, _ := warren(t, "logs", name)
			t.Logf("probe: %s", logs[strings.LastIndex(strings.TrimSpace(logs), "\n")+1:])
			if strings.Contains(logs, "ESCAPE") {
				t.Errorf("the container reached the host through an exec'd process:\n%s", tail(logs, 20))
			}
			if !strings.Contains(logs, "looked at") {
				t.Errorf("the probe did not finish cleanly:\n%s%s", tail(logs, 20), stderr)
			}
			if h := strings.TrimSpace(string(hostHostname)); h != "" && strings.Contains(logs, fmt.Sprintf("%q", h)) {
				t.Errorf("the probe read the host's hostname %q", h)
			}
			entries, err := os.ReadDir(canary)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "canary" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("host canary folder now holds %v, want only canary", names)
			}
			if b, err := os.ReadFile(filepath.Join(canary, "canary")); err != nil || string(b) != content {
				t.Errorf("host canary file = %q (%v), want %q", b, err, content)
			}
		})
	}
}

// exec joins the container's mount namespace, as docker exec does: it sees
// the container's root and binds, and mounts the container made after it
// started.
func TestExecMountNamespace(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		script := "while [ ! -e /tmp/go ]; do sleep 0.05; done; mkdir -p /mnt; mount -t tmpfs none /mnt && echo later > /mnt/f; touch /tmp/done; sleep 1000"
		name, _ := runDetached(t, c, "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", script)
		mounts := c.mustRun(t, "exec", name, "cat", "/proc/self/mountinfo")
		if !hasMount(mounts, "/", "overlay") {
			t.Errorf("exec's mountinfo has no overlay root:\n%s", mounts)
		}
		if !hasMount(mounts, "/etc/hosts", "") {
			t.Errorf("exec's mountinfo has no /etc/hosts bind:\n%s", mounts)
		}
		if out := c.mustRun(t, "exec", name, "mount"); !strings.Contains(out, "overlay on / type overlay") {
			t.Errorf("exec mount = %q, want the overlay root", out)
		}
		if out := c.mustRun(t, "exec", name, "df", "/"); !strings.Contains(out, "overlay") {
			t.Errorf("exec df / = %q, want the overlay root", out)
		}
		// The container mounts a tmpfs after the first execs ran.
		c.mustRun(t, "exec", name, "touch", "/tmp/go")
		waitFor(t, 30*time.Second, "the container to mount its tmpfs", func() bool {
			_, _, code := c.run(t, "exec", name, "test", "-e", "/tmp/done")
			return code == 0
		})
		if out := c.mustRun(t, "exec", name, "cat", "/mnt/f"); out != "later\n" {
			t.Errorf("a file on the container's later tmpfs reads %q, want %q", out, "later\n")
		}
		if out := c.mustRun(t, "exec", name, "df", "/mnt"); !strings.Contains(out, "none") || !strings.Contains(out, "/mnt") {
			t.Errorf("exec df /mnt = %q, want the tmpfs", out)
		}
		// And what an exec mounts, the container's init sees: one namespace.
		c.mustRun(t, "exec", name, "sh", "-c", "mkdir -p /mnt2 && mount -t tmpfs none /mnt2")
		if out := c.mustRun(t, "exec", name, "cat", "/proc/1/mountinfo"); !hasMount(out, "/mnt2", "tmpfs") {
			t.Errorf("init's mountinfo has no /mnt2 tmpfs:\n%s", out)
		}
	})
}

// hasMount reports whether a mountinfo text has a mount at point, of
// fstype when fstype is not "".
func hasMount(mountinfo, point, fstype string) bool {
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || fields[4] != point {
			continue
		}
		if fstype == "" {
			return true
		}
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == fstype {
				return true
			}
		}
	}
	return false
}

// What the confined exec keeps: Docker's failure texts and codes, the
// container's capabilities (all of them with --privileged) and a
// tty that follows resizes and exits with the shell's code.
func TestExecBehaviour(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		// Docker's CLI prints these on stdout: they arrive on the hijacked stream.
		const prefix = "OCI runtime exec failed: exec failed: unable to start container process: "
		for _, f := range []struct {
			args []string
			code int // 0: any failure
			want string
		}{
			{[]string{name, "nosuch"}, 127, prefix + `exec: "nosuch": executable file not found in $PATH: unknown`},
			{[]string{name, "/etc/passwd"}, 126, prefix + `exec: "/etc/passwd": permission denied: unknown`},
			{[]string{"-u", "nosuch", name, "true"}, 0, prefix + "error during container init: unable to find user nosuch: no matching entries in passwd file: unknown"},
			{[]string{"-w", "/nosuch", name, "true"}, 0, prefix + `chdir to cwd ("/nosuch") set in config.json failed: no such file or directory: unknown`},
		} {
			stdout, stderr, code := c.run(t, append([]string{"exec"}, f.args...)...)
			if code == 0 || f.code != 0 && code != f.code || !strings.Contains(stdout+stderr, f.want) {
				t.Errorf("exec %v: exit %d, output %q; want exit %d and %q", f.args, code, stdout+stderr, f.code, f.want)
			}
		}
		if out := c.mustRun(t, "exec", name, "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, "00000000a80425fb") {
			t.Errorf("exec's capabilities: %q, want Docker's default set", out)
		}
		if out, want := c.mustRun(t, "exec", "--privileged", name, "grep", "CapEff", "/proc/self/status"), allCaps(t); !strings.Contains(out, want) {
			t.Errorf("exec --privileged capabilities: %q, want all (%s)", out, want)
		}
		if out := c.mustRun(t, "exec", name, "grep", "NoNewPrivs", "/proc/self/status"); !strings.Contains(out, "1") {
			t.Errorf("exec's no_new_privs: %q, want 1", out)
		}
		// The command is the container's: its parent is outside (ppid 0).
		if out := c.mustRun(t, "exec", name, "sh", "-c", "grep PPid /proc/$$/status"); strings.Fields(out)[1] != "0" {
			t.Errorf("exec's parent inside the container: %q", out)
		}
		term := startTerminal(t, c, 30, 100, "exec", "-it", name, "sh")
		mark := term.expect(0, "# ")
		term.send("stty size\r")
		mark = term.expect(mark, "30 100\r\n")
		if err := pty.Setsize(term.tty, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the exec's resize to be seen by stty", func() bool {
			term.send("stty size\r")
			return strings.Contains(term.output()[mark:], "40 120\r\n")
		})
		term.send("exit 3\r")
		if code := term.exit(); code != 3 {
			t.Errorf("exec -it exit code %d, want 3; output:\n%s", code, term.output())
		}
	})
}

// allCaps is the CapEff mask of every capability this kernel knows.
func allCaps(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%016x", uint64(1)<<(last+1)-1)
}

// exec inspect's Pid is the command's on the host, as in Docker, not that
// of `warren __exec`, which waits for it outside the container.
func TestExecInspectPid(t *testing.T) {
	t.Parallel()
	name, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	client := unixClient(suite.socket, cmdTimeout)
	post := func(path, body string, answer any) {
		t.Helper()
		resp, err := client.Post("http://warren"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
		if answer != nil {
			if err := json.NewDecoder(resp.Body).Decode(answer); err != nil {
				t.Fatalf("POST %s: %v", path, err)
			}
		}
	}
	var created struct{ Id string }
	post("/containers/"+name+"/exec", `{"Cmd":["sleep","999"]}`, &created)
	post("/exec/"+created.Id+"/start", `{"Detach":true}`, nil)
	resp, err := client.Get("http://warren/exec/" + created.Id + "/json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var inspect struct {
		Running bool
		Pid     int
	}
	if err := json.NewDecoder(resp.Body).Decode(&inspect); err != nil {
		t.Fatal(err)
	}
	if !inspect.Running || inspect.Pid <= 0 {
		t.Fatalf("exec inspect: %+v, want running with a pid", inspect)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", inspect.Pid))
	if want := "sleep\x00999\x00"; err != nil || string(cmdline) != want {
		t.Errorf("host's /proc/%d/cmdline = %q, %v; want %q", inspect.Pid, cmdline, err, want)
	}
}
