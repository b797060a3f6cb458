package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"warren/internal/nstest"
	"warren/internal/testenv"
)

// TestMain lets the test binary stand in for warren when Create and Exec
// re-execute /proc/self/exe.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__init":
			InitMain()
		case "__exec":
			ExecMain()
		}
	}
	os.Exit(m.Run())
}

const lowerEnv = "WARREN_RUNTIME_TEST_LOWER"

// TestUnprivileged runs the runtime as the unprivileged test user in a user
// namespace with its subordinate ids mapped, the way the engine runs,
// against a busybox root built here: the test re-executes itself there.
func TestUnprivileged(t *testing.T) {
	if nstest.Inside(t) {
		inNamespace(t, os.Getenv(lowerEnv))
		return
	}
	u := nstest.TestUser(t)
	for _, bin := range []string{"/usr/bin/busybox", "/usr/bin/unshare", "/usr/bin/newuidmap"} {
		_, err := os.Stat(bin)
		testenv.Requiref(t, err == nil, "needs %s (scripts/setup-root.sh installs it): %v", bin, err)
	}
	dir := u.TempDir(t)
	lower := filepath.Join(dir, "lower")
	buildBusyboxRoot(t, lower)
	bin := filepath.Join(dir, "sandbox.test")
	copyFile(t, os.Args[0], bin, 0o755)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.Uid, u.Gid)
	}); err != nil {
		t.Fatal(err)
	}
	cmd := u.Unshared(bin, t.Name())
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, lowerEnv+"="+lower)
	nstest.Reexec(t, cmd)
}

func buildBusyboxRoot(t *testing.T, root string) {
	t.Helper()
	for _, d := range []string{"bin", "etc", "root", "tmp", "home/u"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/usr/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	list, err := exec.Command("/usr/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(list)) {
		if name != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000:u:/home/u:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
		"etc/group":  "root:x:0:\nwheel:x:10:root\nu:x:1000:\nstaff:x:50:u\nnobody:x:65534:\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// inNamespace is the real run, as uid 0 of a user namespace, as the
// engine runs.
func inNamespace(t *testing.T, lower string) {
	t.Run("run", func(t *testing.T) {
		p := create(t, lower, &Spec{
			Hostname: "0123456789ab",
			Args:     []string{"sh", "-c", `echo $HOSTNAME $(hostname); id; grep -E "NoNewPrivs|CapBnd|CapEff|CapInh" /proc/self/status; ls /dev; echo $HOME; pwd; exit 3`},
			Env:      []string{"PATH=/bin", "HOSTNAME=0123456789ab"},
			Cwd:      "/work/dir",
		})
		out := startAndRead(t, p, p.Stdout)
		if code := wait(t, p); code != 3 {
			t.Errorf("exit code = %d, want 3; output:\n%s", code, out)
		}
		for _, want := range []string{
			"0123456789ab 0123456789ab\n",
			"uid=0(root) gid=0(root) groups=0(root),10(wheel)\n",
			"CapInh:\t0000000000000000\n",
			"CapEff:\t00000000a80425fb\n",
			"CapBnd:\t00000000a80425fb\n",
			"NoNewPrivs:\t1\n",
			"core\nfd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n",
			"/root\n/work/dir\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("user", func(t *testing.T) {
		for _, tc := range []struct{ user, want string }{
			{"u", "uid=1000(u) gid=1000(u) groups=50(staff),1000(u)"},
			{"1234:5678", "uid=1234 gid=5678 groups=5678"},
			{"u:wheel", "uid=1000(u) gid=10(wheel) groups=10(wheel)"},
		} {
			p := create(t, lower, &Spec{Args: []string{"id"}, User: tc.user})
			out := startAndRead(t, p, p.Stdout)
			if got := strings.TrimSpace(out); got != tc.want {
				t.Errorf("-u %s: id = %q, want %q", tc.user, got, tc.want)
			}
			wait(t, p)
		}
	})

	t.Run("missing executable", func(t *testing.T) {
		p := create(t, lower, &Spec{Args: []string{"nosuch"}})
		err := p.Start()
		want := `failed to create task for container: unable to start container process: exec: "nosuch": executable file not found in $PATH`
		if err == nil || err.Error() != want {
			t.Errorf("Start() = %v, want %s", err, want)
		}
		if code := wait(t, p); code != 127 {
			t.Errorf("exit code = %d, want 127", code)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		p := create(t, lower, &Spec{Args: []string{"true"}, User: "nosuch"})
		err := p.Start()
		if err == nil || !strings.HasSuffix(err.Error(), "unable to find user nosuch: no matching entries in passwd file") {
			t.Errorf("Start() = %v", err)
		}
		wait(t, p)
	})

	t.Run("setup failure", func(t *testing.T) {
		dir := t.TempDir()
		spec := &Spec{Args: []string{"true"}, Lowers: []string{lower}, Mounts: []Mount{{Source: "/nonexistent", Destination: "/x"}}}
		spec.Upper, spec.Work, spec.Rootfs = filepath.Join(dir, "u"), filepath.Join(dir, "w"), filepath.Join(dir, "r")
		for _, d := range []string{spec.Upper, spec.Work, spec.Rootfs} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Create(spec)
		want := `failed to create task for container: unable to start container process: error during container init: error mounting "/nonexistent" to rootfs at "/x": stat /nonexistent: no such file or directory`
		if err == nil || err.Error() != want {
			t.Errorf("Create() = %v, want %s", err, want)
		}
		// The mounts lived in the dead init's mount namespace.
		if entries, _ := os.ReadDir(spec.Rootfs); len(entries) != 0 {
			t.Errorf("rootfs left with %d entries", len(entries))
		}
	})

	t.Run("tty", func(t *testing.T) {
		p := create(t, lower, &Spec{Args: []string{"sh", "-c", "tty; stty size; ls -l /dev/console | cut -c1"}, Tty: true})
		if p.Console == nil || p.Stdout != nil {
			t.Fatalf("Console = %v, Stdout = %v", p.Console, p.Stdout)
		}
		if err := p.Resize(33, 101); err != nil {
			t.Fatal(err)
		}
		out := startAndRead(t, p, p.Console)
		if want := "/dev/pts/0\r\n33 101\r\nc\r\n"; out != want {
			t.Errorf("tty output = %q, want %q", out, want)
		}
		if code := wait(t, p); code != 0 {
			t.Errorf("exit code = %d", code)
		}
	})

	t.Run("binds and read-only root", func(t *testing.T) {
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "f"), []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		hosts := filepath.Join(src, "hosts")
		if err := os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := create(t, lower, &Spec{
			Args:           []string{"sh", "-c", "cat /data/f /ro/f /etc/hosts; touch /data/g && echo rw; touch /ro/g || echo ro; touch /x || echo rootro; cat /deep/er/f"},
			Mounts:         []Mount{{Source: src, Destination: "/deep/er"}, {Source: src, Destination: "/data"}, {Source: src, Destination: "/ro", ReadOnly: true}},
			HostsPath:      hosts,
			ReadonlyRootfs: true,
		})
		out := startAndRead(t, p, p.Stdout)
		wait(t, p)
		if want := "hello\nhello\n127.0.0.1\tlocalhost\nrw\nro\nrootro\nhello\n"; out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
		if _, err := os.Stat(filepath.Join(src, "g")); err != nil {
			t.Errorf("write through bind: %v", err)
		}
	})

	t.Run("stdin and masked paths", func(t *testing.T) {
		p := create(t, lower, &Spec{
			Args:      []string{"sh", "-c", "read line; echo got $line; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/hostname || echo sysro; grep -c ' /sys sysfs ro' /proc/mounts"},
			OpenStdin: true,
		})
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		io.WriteString(p.Stdin, "hello\n")
		p.Stdin.Close()
		out := readAll(p.Stdout)
		wait(t, p)
		if want := "got hello\n0\n0\nsysro\n1\n"; out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
	})

	t.Run("shared network namespaces", func(t *testing.T) {
		first := create(t, lower, &Spec{Args: []string{"sleep", "1000"}})
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		netns := fmt.Sprintf("/proc/%d/ns/net", first.Pid)
		want, err := os.Readlink(netns)
		if err != nil {
			t.Fatal(err)
		}
		host, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ netns, want string }{{netns, want}, {"host", host}} {
			p := create(t, lower, &Spec{Args: []string{"readlink", "/proc/self/ns/net"}, NetNS: tc.netns})
			if got := strings.TrimSpace(startAndRead(t, p, p.Stdout)); got != tc.want {
				t.Errorf("NetNS %q: in %s, want %s", tc.netns, got, tc.want)
			}
			wait(t, p)
		}
	})

	t.Run("exec and stop", func(t *testing.T) {
		p := create(t, lower, &Spec{Hostname: "box", Args: []string{"sleep", "1000"}})
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		e, err := Exec(p.Pid, &ExecSpec{Args: []string{"sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; pwd"}, Cwd: "/tmp", Env: []string{"PATH=/bin"}})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(e.Stdout)
		if code := wait(t, e); code != 0 {
			t.Errorf("exec exit code = %d", code)
		}
		if want := "box\nsleep 1000 \n/tmp\n"; string(out) != want {
			t.Errorf("exec output = %q, want %q", out, want)
		}

		_, err = Exec(p.Pid, &ExecSpec{Args: []string{"nosuch"}})
		want := `OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown`
		if err == nil || err.Error() != want {
			t.Errorf("Exec(nosuch) = %v, want %s", err, want)
		}

		e, err = Exec(p.Pid, &ExecSpec{Args: []string{"tty"}, Tty: true})
		if err != nil {
			t.Fatal(err)
		}
		if out := readAll(e.Console); out != "/dev/pts/0\r\n" {
			t.Errorf("exec tty output = %q", out)
		}
		wait(t, e)

		// __exec passes signals on to the command, and takes it along
		// when killed.
		e, err = Exec(p.Pid, &ExecSpec{Args: []string{"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"}})
		if err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(e.Stdout).ReadString('\n'); line != "ready\n" {
			t.Fatalf("exec printed %q, want ready", line)
		}
		if err := e.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := wait(t, e); code != 7 {
			t.Errorf("exec exit code after SIGTERM = %d, want 7 from its trap", code)
		}
		e, err = Exec(p.Pid, &ExecSpec{Args: []string{"sleep", "999"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := wait(t, e); code != 137 {
			t.Errorf("exec exit code after SIGKILL = %d, want 137", code)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ps, err := Exec(p.Pid, &ExecSpec{Args: []string{"ps", "-o", "args"}})
			if err != nil {
				t.Fatal(err)
			}
			out := readAll(ps.Stdout)
			wait(t, ps)
			if !strings.Contains(out, "sleep 999") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the command of a killed __exec lives on:\n%s", out)
			}
		}
		// Its zombie went to the reaper of __exec's pid namespace, the
		// host's init for the engine and this test here; the container's
		// init cannot finish dying while it is unreaped.
		reapZombies(t, "sleep")

		// sleep as PID 1 has no SIGTERM handler, so the kernel drops it.
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 1)
		go func() { c, _ := p.Wait(); done <- c }()
		select {
		case c := <-done:
			t.Fatalf("PID 1 died of SIGTERM with %d", c)
		case <-time.After(200 * time.Millisecond):
		}
		if err := p.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if c := <-done; c != 137 {
			t.Errorf("exit code after SIGKILL = %d, want 137", c)
		}
	})
}

// create makes a container from the busybox lower layer with its own upper,
// work and root folders.
func create(t *testing.T, lower string, spec *Spec) *Process {
	t.Helper()
	dir := t.TempDir()
	spec.Lowers = []string{lower}
	spec.Upper, spec.Work, spec.Rootfs = filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "rootfs")
	for _, d := range []string{spec.Upper, spec.Work, spec.Rootfs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	p, err := Create(spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Logf("create took %v", time.Since(start))
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		p.Wait()
	})
	return p
}

func startAndRead(t *testing.T, p *Process, r io.Reader) string {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return readAll(r)
}

// readAll reads until EOF, or EIO, which is how a pty master reports that
// the last slave closed.
func readAll(r io.Reader) string {
	var b bytes.Buffer
	io.Copy(&b, r)
	return b.String()
}

// reapZombies waits for this process's zombie children named comm.
func reapZombies(t *testing.T, comm string) {
	t.Helper()
	names, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(b))
		if len(fields) > 3 && fields[1] == "("+comm+")" && fields[2] == "Z" && fields[3] == strconv.Itoa(os.Getpid()) {
			pid, _ := strconv.Atoi(fields[0])
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
				t.Errorf("reap %d: %v", pid, err)
			}
		}
	}
}

func wait(t *testing.T, p *Process) int {
	t.Helper()
	code, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// BenchmarkRunTrue is `run --rm true` as far as the runtime goes: create,
// start, wait. Run it inside a user namespace with
// WARREN_RUNTIME_TEST_LOWER set to a busybox root, as TestUnprivileged runs.
func BenchmarkRunTrue(b *testing.B) {
	lower := os.Getenv(lowerEnv)
	if lower == "" {
		b.Skip("needs " + lowerEnv + " inside a user namespace")
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		spec := &Spec{Args: []string{"true"}, Lowers: []string{lower}, Upper: dir + "/u", Work: dir + "/w", Rootfs: dir + "/r"}
		for _, d := range []string{spec.Upper, spec.Work, spec.Rootfs} {
			if err := os.Mkdir(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		p, err := Create(spec)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Start(); err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, p.Stdout)
		if code, err := p.Wait(); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{syscall.WaitStatus(3 << 8), 3},
		{syscall.WaitStatus(0), 0},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
		{syscall.WaitStatus(syscall.SIGTERM), 143},
	} {
		if got := exitCode(tc.ws); got != tc.want {
			t.Errorf("exitCode(%#x) = %d, want %d", uint32(tc.ws), got, tc.want)
		}
	}
}

// The init and the engine are the same binary built at the same time, but
// the request still has to survive JSON: check every field does.
func TestSpecJSON(t *testing.T) {
	spec := &Spec{
		ID: "abc", Hostname: "abc", Lowers: []string{"/l2", "/l1"}, Upper: "/u", Work: "/w", Rootfs: "/r",
		Args: []string{"sh", "-c", "echo"}, Env: []string{"A=1"}, Cwd: "/app", User: "1:2",
		Tty: true, OpenStdin: true, Mounts: []Mount{{Source: "/s", Destination: "/d", ReadOnly: true}},
		HostsPath: "/h", HostnamePath: "/hn", ResolvConfPath: "/rc", NetNS: "/proc/1/ns/net",
		CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"ALL"}, Privileged: true, ReadonlyRootfs: true,
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var got Spec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, spec) {
		t.Errorf("round trip = %+v, want %+v", got, *spec)
	}
	req := execRequest{Pid: 42, Spec: &ExecSpec{Args: []string{"ls"}, Env: []string{"B=2"}, Cwd: "/", User: "u", Tty: true, CapDrop: []string{"KILL"}}}
	if b, err = json.Marshal(req); err != nil {
		t.Fatal(err)
	}
	var gotReq execRequest
	if err := json.Unmarshal(b, &gotReq); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotReq, req) {
		t.Errorf("exec round trip = %+v, want %+v", gotReq, req)
	}
}
