package tests

// Container process and mount options Docker honours and warren once
// accepted and ignored (issue 15): tmpfs mounts, /dev/shm's size, missing
// -v sources, ulimits.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountLine is /proc/mounts' line for dst in out, split into its fields.
func mountLine(out, dst string) []string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[1] == dst {
			return f
		}
	}
	return nil
}

func hasOption(opts string, want ...string) bool {
	have := strings.Split(opts, ",")
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestTmpfsMounts: --tmpfs and --mount type=tmpfs are tmpfs mounts with
// their size and mode and Docker's noexec,nosuid,nodev, writable under
// --read-only while the root is not.
func TestTmpfsMounts(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--read-only", "--tmpfs", "/run:size=1m,mode=1770",
			"--mount", "type=tmpfs,dst=/scratch,tmpfs-size=2m,tmpfs-mode=700", "--mount", "type=tmpfs,target=/frozen,readonly",
			"busybox", "sh", "-c",
			"cat /proc/mounts; touch /run/a /scratch/b && echo wrote; touch /frozen/c 2>/dev/null || echo frozen-ro; touch /etc/x 2>/dev/null || echo root-ro; stat -c 'mode %a' /run /scratch")
		for _, tt := range []struct {
			dst  string
			opts []string
		}{
			{"/run", []string{"rw", "nosuid", "nodev", "noexec", "size=1024k", "mode=1770"}},
			{"/scratch", []string{"rw", "nosuid", "nodev", "noexec", "size=2048k", "mode=700"}},
			{"/frozen", []string{"ro", "nosuid", "nodev", "noexec"}},
		} {
			f := mountLine(out, tt.dst)
			if f == nil || f[2] != "tmpfs" || !hasOption(f[3], tt.opts...) {
				t.Errorf("mount at %s: %q, want tmpfs with %v\n%s", tt.dst, f, tt.opts, out)
			}
		}
		for _, want := range []string{"wrote", "frozen-ro", "root-ro", "mode 1770", "mode 700"} {
			if !containsLine(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestTmpfsInspect: inspect shows --tmpfs in HostConfig.Tmpfs only and
// --mount type=tmpfs in HostConfig.Mounts and Mounts, as Docker does.
func TestTmpfsInspect(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		c.mustRun(t, "create", "--name", name, "--tmpfs", "/run:size=1m", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m", "busybox")
		for tmpl, want := range map[string]string{
			"{{json .HostConfig.Tmpfs}}":  `{"/run":"size=1m"}`,
			"{{json .HostConfig.Mounts}}": `[{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576}}]`,
			"{{json .Mounts}}":            `[{"Type":"tmpfs","Source":"","Destination":"/t","Mode":"","RW":true,"Propagation":""}]`,
		} {
			if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", tmpl, name)); got != want {
				t.Errorf("%s = %s, want %s", tmpl, got, want)
			}
		}
	})
}

// TestTmpfsBadInput: Docker's texts, and nothing is left behind.
func TestTmpfsBadInput(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--tmpfs", "relative"}, "invalid mount path: 'relative' mount path must be absolute"},
			{[]string{"--tmpfs", "/x:size=1m,bogus"}, `Invalid tmpfs option ["bogus"]`},
			{[]string{"--tmpfs", "/x", "-v", "/tmp:/x"}, "Duplicate mount point: /x"},
			{[]string{"--mount", "type=tmpfs,src=/s,dst=/x"}, `invalid mount config for type "tmpfs": field Source must not be specified`},
		} {
			name := container(t)
			_, stderr, code := c.run(t, append(append([]string{"create", "--name", name}, tt.args...), "busybox")...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("create %v: exit %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
			}
			if _, _, code := c.run(t, "inspect", name); code == 0 {
				t.Errorf("create %v failed but left %s", tt.args, name)
			}
		}
	})
}

// TestShmSize: /dev/shm is 64 MiB by default and --shm-size sets it.
func TestShmSize(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{nil, "size=65536k"},
			{[]string{"--shm-size", "16m"}, "size=16384k"},
		} {
			out := c.mustRun(t, append(append([]string{"run", "--rm"}, tt.args...), "busybox", "cat", "/proc/mounts")...)
			if f := mountLine(out, "/dev/shm"); f == nil || !hasOption(f[3], tt.want) {
				t.Errorf("run %v: /dev/shm %q, want %s", tt.args, f, tt.want)
			}
		}
		_, stderr, code := c.run(t, "run", "--rm", "--shm-size", "big", "busybox", "true")
		if code != 125 || !strings.Contains(stderr, `invalid argument "big" for "--shm-size" flag: invalid size: 'big'`) {
			t.Errorf("--shm-size big: exit %d, stderr %q", code, stderr)
		}
	})
}

// TestBindMissingSource: -v creates a missing host folder at start, as
// Docker does; --mount type=bind refuses it at create.
func TestBindMissingSource(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		src := filepath.Join(t.TempDir(), "not", "yet")
		c.mustRun(t, "run", "--rm", "-v", src+":/data", "busybox", "touch", "/data/made")
		if fi, err := os.Stat(filepath.Join(src, "made")); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("the container's file is not in the created source: %v", err)
		}
		other := filepath.Join(t.TempDir(), "missing")
		_, stderr, code := c.run(t, "run", "--rm", "--mount", "type=bind,src="+other+",dst=/data", "busybox", "true")
		want := `invalid mount config for type "bind": bind source path does not exist: ` + other
		if code != 125 || !strings.Contains(stderr, want) {
			t.Errorf("--mount of a missing source: exit %d, stderr %q; want %q", code, stderr, want)
		}
		if _, err := os.Stat(other); !os.IsNotExist(err) {
			t.Errorf("--mount created its missing source: %v", err)
		}
	})
}

// TestUlimit: --ulimit sets the command's limits; a hard limit above the
// engine user's own is refused plainly at start, and bad values by the CLI.
func TestUlimit(t *testing.T) {
	var own syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &own); err != nil {
		t.Fatal(err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--ulimit", "nofile=100:200", "--ulimit", "core=0", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c")
		if got := strings.Fields(out); strings.Join(got, " ") != "100 200 0" {
			t.Errorf("limits %q, want 100 200 0", out)
		}
		name, _ := runDetached(t, c, "--ulimit", "nofile=100:200", "busybox", "sleep", "1000")
		if out := c.mustRun(t, "exec", name, "sh", "-c", "ulimit -n; ulimit -Hn"); strings.Join(strings.Fields(out), " ") != "100 200" {
			t.Errorf("exec limits %q, want the container's 100 200", out)
		}
		above := fmt.Sprintf("nofile=%d", own.Max+1)
		_, stderr, code := c.run(t, "run", "--rm", "--ulimit", above, "busybox", "true")
		if code == 0 || !strings.Contains(stderr, "error setting rlimit nofile: hard limit") {
			t.Errorf("--ulimit %s: exit %d, stderr %q", above, code, stderr)
		}
		for _, tt := range []struct{ arg, want string }{
			{"nofiles=1", `invalid argument "nofiles=1" for "--ulimit" flag: invalid ulimit type: nofiles`},
			{"nofile=2:1", `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1`},
		} {
			_, stderr, code := c.run(t, "run", "--rm", "--ulimit", tt.arg, "busybox", "true")
			if code != 125 || !strings.Contains(stderr, tt.want) {
				t.Errorf("--ulimit %s: exit %d, stderr %q; want %q", tt.arg, code, stderr, tt.want)
			}
		}
	})
}

// TestInitProcess: with --init, PID 1 is docker-init and the command its
// child; without, the command is PID 1.
func TestInitProcess(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--init", "busybox", "sh", "-c", `echo "cmd $$ parent $PPID"; tr '\0' ' ' </proc/1/cmdline`)
		if !strings.Contains(out, "parent 1") || strings.Contains(out, "cmd 1 ") || !strings.Contains(out, "/sbin/docker-init -- sh -c") {
			t.Errorf("--init: %q, want the command a child of /sbin/docker-init", out)
		}
		out = c.mustRun(t, "run", "--rm", "busybox", "sh", "-c", `echo "cmd $$"`)
		if strings.TrimSpace(out) != "cmd 1" {
			t.Errorf("without --init: %q, want the command as PID 1", out)
		}
		// A missing command fails the start as it does without --init.
		_, _, code := c.run(t, "run", "--rm", "--init", "busybox", "nosuchcommand")
		if code != 127 {
			t.Errorf("--init with a missing command: exit %d, want 127", code)
		}
	})
}

// TestInitReapsZombies: an orphan reparented to PID 1 is reaped by
// docker-init; a PID 1 that never waits (sleep) would leave it a zombie.
func TestInitReapsZombies(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--init", "busybox", "sleep", "1000")
		// The exec's shell exits at once; its child usleep becomes PID 1's.
		c.mustRun(t, "exec", name, "sh", "-c", "usleep 200000 & exit 0")
		orphan := func() string {
			for _, l := range strings.Split(c.mustRun(t, "exec", name, "ps", "-o", "stat,comm"), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[1] == "usleep" {
					return f[0]
				}
			}
			return "gone"
		}
		var state string
		waitFor(t, 20*time.Second, "the orphan to end", func() bool {
			state = orphan()
			return state == "gone" || strings.HasPrefix(state, "Z")
		})
		if state != "gone" {
			t.Errorf("the orphan is left in state %s, want reaped", state)
		}
	})
}

// TestInitForwardsStop: stop's SIGTERM goes through docker-init to the
// command, whose exit code becomes the container's.
func TestInitForwardsStop(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--init", "busybox", "sh", "-c", `trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done`)
		waitFor(t, 20*time.Second, "the trap", func() bool {
			out, _, _ := c.run(t, "logs", name)
			return strings.Contains(out, "ready")
		})
		c.mustRun(t, "stop", "-t", "60", name)
		if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.State.ExitCode}} {{.HostConfig.Init}}", name)); got != "7 true" {
			t.Errorf("after stop: exit code and Init %q, want 7 true", got)
		}
	})
}

// TestSysctl: net.* keys are set in the container's own network
// namespace; keys of no namespace of its own are refused with runc's text.
func TestSysctl(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "--sysctl", "net.ipv4.ping_group_range=0 0",
			"--sysctl", "net.core.somaxconn=1000",
			"busybox", "sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range /proc/sys/net/core/somaxconn")
		if got := strings.Join(strings.Fields(out), " "); got != "80 0 0 1000" {
			t.Errorf("sysctls read back %q, want 80 0 0 1000", got)
		}
		name := container(t)
		c.mustRun(t, "create", "--name", name, "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "busybox")
		if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{json .HostConfig.Sysctls}}", name)); got != `{"net.ipv4.ip_unprivileged_port_start":"80"}` {
			t.Errorf("HostConfig.Sysctls = %s", got)
		}
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--sysctl", "kernel.panic=1"}, `invalid argument "kernel.panic=1" for "--sysctl" flag: sysctl 'kernel.panic=1' is not allowed`},
			{[]string{"--sysctl", "vm.max_map_count=262144"}, `invalid argument "vm.max_map_count=262144" for "--sysctl" flag: sysctl 'vm.max_map_count=262144' is not allowed`},
			{[]string{"--sysctl", "net./../../kernel/panic=1"}, `sysctl "net./../../kernel/panic" is not in a separate kernel namespace`},
			{[]string{"--network", "host", "--sysctl", "net.core.somaxconn=1"}, `sysctl "net.core.somaxconn" is not allowed in the hosts network namespace`},
		} {
			_, stderr, code := c.run(t, append(append([]string{"run", "--rm"}, tt.args...), "busybox", "true")...)
			if code != 125 || !strings.Contains(stderr, tt.want) {
				t.Errorf("run %v: exit %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
			}
		}
	})
}

// TestGroupAdd: --group-add names (from the container's /etc/group) and
// ids become supplementary groups.
func TestGroupAdd(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--group-add", "nobody", "--group-add", "1234", "-u", "1000:1000", "busybox", "id", "-G")
		if got := strings.Fields(out); strings.Join(got, " ") != "1000 1234 65534" {
			t.Errorf("id -G = %q, want 1000 1234 65534", out)
		}
		name, _ := runDetached(t, c, "--group-add", "nobody", "-u", "1000:1000", "busybox", "sleep", "1000")
		if out := c.mustRun(t, "exec", name, "id", "-G"); strings.Join(strings.Fields(out), " ") != "1000 65534" {
			t.Errorf("exec id -G = %q, want the container's groups 1000 65534", out)
		}
		_, stderr, code := c.run(t, "run", "--rm", "--group-add", "nosuchgroup", "busybox", "true")
		if want := "Unable to find group nosuchgroup: no matching entries in group file"; code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("--group-add nosuchgroup: exit %d, stderr %q; want %q", code, stderr, want)
		}
	})
}

// TestOomScoreAdj: raising works; lowering below the engine's is refused
// plainly; out-of-range values get Docker's text.
func TestOomScoreAdj(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--oom-score-adj", "500", "busybox", "cat", "/proc/self/oom_score_adj")
		if strings.TrimSpace(out) != "500" {
			t.Errorf("oom_score_adj %q, want 500", out)
		}
		for _, tt := range []struct{ val, want string }{
			{"-500", "oom_score_adj -500 is below the engine's"},
			{"2000", "Invalid value 2000, range for oom score adj is [-1000, 1000]"},
		} {
			_, stderr, code := c.run(t, "run", "--rm", "--oom-score-adj", tt.val, "busybox", "true")
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("--oom-score-adj %s: exit %d, stderr %q; want %q", tt.val, code, stderr, tt.want)
			}
		}
	})
}

// TestNamespaceHostRefused: the engine's pid, ipc and uts namespaces are
// not the host's, so "host" is refused rather than quietly not shared.
func TestNamespaceHostRefused(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, ns := range []string{"pid", "ipc", "uts"} {
			_, stderr, code := c.run(t, "run", "--rm", "--"+ns, "host", "busybox", "true")
			want := "--" + ns + "=host is not supported by warren"
			if code != 125 || !strings.Contains(stderr, want) {
				t.Errorf("--%s host: exit %d, stderr %q; want %q", ns, code, stderr, want)
			}
		}
	})
}

// TestDevice: --device binds the host's node at the given path, read-only
// without w; a missing node gets Docker's error.
func TestDevice(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "--device", "/dev/net/tun", "--device", "/dev/net/tun:/dev/tun-ro:r", "busybox", "sh", "-c",
			"stat -c '%F %t:%T' /dev/net/tun /dev/tun-ro; cat /dev/net/tun 2>&1; grep tun-ro /proc/mounts")
		if strings.Count(out, "character special file a:c8") != 2 {
			t.Errorf("devices in the container:\n%s\nwant two character nodes 10:200", out)
		}
		if !strings.Contains(out, "File descriptor in bad state") {
			t.Errorf("/dev/net/tun could not be opened:\n%s", out)
		}
		if f := mountLine(out, "/dev/tun-ro"); f == nil || !hasOption(f[3], "ro") {
			t.Errorf("/dev/tun-ro is not read-only: %q", f)
		}
		_, stderr, code := c.run(t, "run", "--rm", "--device", "/dev/nope", "busybox", "true")
		if want := `error gathering device information while adding custom device "/dev/nope": no such file or directory`; code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("--device /dev/nope: exit %d, stderr %q; want %q", code, stderr, want)
		}
	})
}

// TestNamespaceJoin: --pid and --ipc container:NAME join the running
// container's namespaces; ipc needs a shareable donor, as in Docker.
func TestNamespaceJoin(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		donor, _ := runDetached(t, c, "--ipc", "shareable", "busybox", "sleep", "1000")
		want := strings.TrimSpace(c.mustRun(t, "exec", donor, "sh", "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid"))
		out := c.mustRun(t, "run", "--rm", "--pid", "container:"+donor, "--ipc", "container:"+donor, "busybox", "sh", "-c",
			"readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; ps -o pid,args")
		if !strings.HasPrefix(out, want+"\n") || !strings.Contains(out, "sleep 1000") {
			t.Errorf("joined container sees:\n%s\nwant the donor's namespaces %q and its sleep", out, want)
		}
		private, _ := runDetached(t, c, "busybox", "sleep", "1000")
		_, stderr, code := c.run(t, "run", "--rm", "--ipc", "container:"+private, "busybox", "true")
		if code == 0 || !strings.Contains(stderr, "non-shareable IPC (hint: use IpcMode:shareable for the donor container)") {
			t.Errorf("--ipc of a private donor: exit %d, stderr %q", code, stderr)
		}
		stopped := container(t)
		c.mustRun(t, "create", "--name", stopped, "busybox")
		_, stderr, code = c.run(t, "run", "--rm", "--pid", "container:"+stopped, "busybox", "true")
		if code == 0 || !strings.Contains(stderr, "container "+stopped+" is not running") {
			t.Errorf("--pid of a stopped container: exit %d, stderr %q", code, stderr)
		}
	})
}
