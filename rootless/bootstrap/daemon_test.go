package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	rkclient "github.com/rootless-containers/rootlesskit/v3/pkg/api/client"

	"warren/internal/nstest"
	"warren/internal/testenv"
	"warren/portfwd/forward"

	"warren/internal/config"
)

// The tests below run the real bootstrap as the unprivileged test user
// (nstest.TestUser, with subordinate ids, as the e2e suite's machine has),
// with a fake engine (testdata/daemonmain) in place of warren's: they need
// root only to switch to that user.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// rig is one daemon's folders and the test binary.
type rig struct {
	bin, run, data string
	uid, gid       uint32
	name           string
	user           nstest.User
}

func newRig(t *testing.T, u nstest.User) *rig {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("/tmp", "wbs-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755)
		builtBin = filepath.Join(dir, "daemonmain")
		out, err := exec.Command("go", "build", "-o", builtBin, "./testdata/daemonmain").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	// A short folder under /tmp: unix socket paths must fit in 108 bytes.
	root, err := os.MkdirTemp("/tmp", "wbs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chown(root, u.Uid, u.Gid); err != nil {
		t.Fatal(err)
	}
	return &rig{bin: builtBin, run: filepath.Join(root, "run"), data: filepath.Join(root, "data"),
		uid: uint32(u.Uid), gid: uint32(u.Gid), name: u.Name, user: u}
}

func (r *rig) paths() config.Paths { return config.Paths{RuntimeDir: r.run, DataDir: r.data} }

// command runs the test binary as the rig's user with its folders.
func (r *rig) command(args ...string) *exec.Cmd {
	cmd := r.user.Command(r.bin, args...)
	cmd.Env = append(cmd.Env,
		"HOME=/tmp", // nobody's home does not exist
		config.EnvRuntimeDir+"="+r.run, config.EnvDataDir+"="+r.data,
		envEngineCmd+"="+r.bin+" __fakeengine",
	)
	return cmd
}

// daemonProc is a foreground daemon a test started.
type daemonProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error
}

func (r *rig) startDaemon(t *testing.T) *daemonProc {
	t.Helper()
	d := &daemonProc{cmd: r.command("daemon"), out: &bytes.Buffer{}, done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	r.waitReady(t, d)
	return d
}

// waitReady polls the API socket, failing early if the daemon exits.
func (r *rig) waitReady(t *testing.T, d *daemonProc) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for ping(r.paths().Socket()) != nil {
		select {
		case <-d.done:
			t.Fatalf("daemon exited (%v):\n%s", d.err, d.out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer on %s:\n%s", r.paths().Socket(), d.out)
		}
	}
}

// stop sends sig and waits for the daemon to exit.
func (d *daemonProc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
		return d.err
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon still running 20s after %v:\n%s", sig, d.out)
		return nil
	}
}

// procsOf lists the live processes running the rig's binary: the daemon's
// parent and child, the fake engine and its "container".
func (r *rig) procsOf() []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != r.bin {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") {
			continue // exited, waiting for its parent (this test) to reap it
		}
		found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}

// waitNoProcs waits until every process of the rig's binary has gone.
func (r *rig) waitNoProcs(t *testing.T, keep int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.procsOf()) > keep {
		if time.Now().After(deadline) {
			t.Fatalf("processes left behind:\n%s", strings.Join(r.procsOf(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeInfo is the fake engine's report (testdata/daemonmain).
type fakeInfo struct {
	Args      []string
	UIDMap    string
	GIDMap    string
	TapAddrs  []string
	TapMTU    int
	APISocket string
}

func (r *rig) info(t *testing.T) fakeInfo {
	t.Helper()
	c := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", r.paths().Socket())
	}}}
	resp, err := c.Get("http://warren/debug/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fi fakeInfo
	if err := json.NewDecoder(resp.Body).Decode(&fi); err != nil {
		t.Fatal(err)
	}
	return fi
}

// wantIDMap is the map RootlessKit must write: the user as root, then the
// whole subordinate range.
func wantIDMap(t *testing.T, id uint32, ranges []idRange, name string) string {
	t.Helper()
	m := fmt.Sprintf("0 %d 1", id)
	next := 1
	for _, rg := range ranges {
		if rg.Owner == name || rg.Owner == strconv.Itoa(int(id)) {
			m += fmt.Sprintf("\n%d %d %d", next, rg.Start, rg.Length)
			next += rg.Length
		}
	}
	return m
}

func TestDaemonLifecycle(t *testing.T) {
	r := newRig(t, nstest.TestUser(t))
	d := r.startDaemon(t)

	fi := r.info(t)
	uids, gids, err := readSubIDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := wantIDMap(t, r.uid, uids, r.name); fi.UIDMap != want {
		t.Errorf("uid_map:\n%s\nwant:\n%s", fi.UIDMap, want)
	}
	if want := wantIDMap(t, r.gid, gids, r.name); fi.GIDMap != want {
		t.Errorf("gid_map:\n%s\nwant:\n%s", fi.GIDMap, want)
	}
	if len(fi.TapAddrs) == 0 || fi.TapAddrs[0] != "10.0.2.100/24" || fi.TapMTU != config.DefaultMTU {
		t.Errorf("tap0: %v mtu %d, want 10.0.2.100/24 mtu %d", fi.TapAddrs, fi.TapMTU, config.DefaultMTU)
	}
	if want := EngineArgs(config.Defaults(r.paths())); strings.Join(fi.Args, " ") != strings.Join(want, " ") {
		t.Errorf("engine args %q, want %q", fi.Args, want)
	}
	if fi.APISocket != r.paths().RootlessKitAPISocket() {
		t.Errorf("%s = %q, want %q", EnvRootlessKitAPI, fi.APISocket, r.paths().RootlessKitAPISocket())
	}
	rk, err := rkclient.New(r.paths().RootlessKitAPISocket())
	if err != nil {
		t.Fatal(err)
	}
	rkInfo, err := rk.Info(context.Background())
	if err != nil || rkInfo.PortDriver == nil || rkInfo.PortDriver.Driver != forward.DriverName {
		t.Errorf("RootlessKit API info: %+v, %v", rkInfo, err)
	}

	// A second daemon for the same user refuses, naming the first.
	out, err := r.command("daemon").CombinedOutput()
	want := fmt.Sprintf("warren: a daemon is already running for this user (pid %d)\n", d.cmd.Process.Pid)
	if err == nil || string(out) != want {
		t.Errorf("second daemon: %v, %q; want exit 1, %q", err, out, want)
	}

	// SIGTERM reaches the engine, which stops; the daemon exits 0 and
	// leaves no socket and no process.
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.out)
	}
	if _, err := os.Stat(filepath.Join(r.run, "engine-stopped")); err != nil {
		t.Errorf("the engine did not get SIGTERM: %v\n%s", err, d.out)
	}
	if _, err := os.Stat(r.paths().Socket()); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	r.waitNoProcs(t, 0)
}

func TestDaemonKilled(t *testing.T) {
	r := newRig(t, nstest.TestUser(t))
	d := r.startDaemon(t)
	if n := len(r.procsOf()); n < 4 {
		t.Fatalf("want parent, child, engine and container running, found:\n%s", strings.Join(r.procsOf(), "\n"))
	}
	d.stop(t, syscall.SIGKILL)
	// The child (pid 1 of the namespace) dies with the parent, and every
	// process of the namespace with it.
	r.waitNoProcs(t, 0)

	// The killed daemon's socket, lock and RootlessKit state do not stop
	// the next one.
	if _, err := os.Stat(r.paths().Socket()); err != nil {
		t.Logf("the killed daemon left no socket (%v); the stale-socket path is not exercised", err)
	}
	d = r.startDaemon(t)
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.out)
	}
}

func TestEnsureDaemonConcurrent(t *testing.T) {
	r := newRig(t, nstest.TestUser(t))
	const callers = 3
	var wg sync.WaitGroup
	outs := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := r.command("ensure").CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	t.Cleanup(func() { r.killByLock(t) })
	for i := range callers {
		if errs[i] != nil || outs[i] != "ok\n" {
			t.Errorf("caller %d: %v, %q", i, errs[i], outs[i])
		}
	}
	// One daemon: parent, child, engine, container.
	r.waitNoProcs(t, 4)
	if err := ping(r.paths().Socket()); err != nil {
		t.Fatalf("daemon not answering after EnsureDaemon: %v", err)
	}
	// A second EnsureDaemon finds it answering.
	if out, err := r.command("ensure").CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Errorf("ensure with a running daemon: %v, %q", err, out)
	}
	r.killByLock(t)
}

// killByLock stops the background daemon whose pid is in the lock.
func (r *rig) killByLock(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(r.paths().LockFile())
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !lockHeld(r.paths()) {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	r.waitNoProcs(t, 0)
}

func TestEnsureDaemonReportsFailure(t *testing.T) {
	r := newRig(t, nstest.LookupUser(t, "nobody"))
	uids, gids, err := readSubIDs()
	if err != nil {
		t.Fatal(err)
	}
	testenv.Require(t, missingSubIDs("nobody", int(r.uid), uids, gids) != "", "user nobody has subordinate ids here")
	out, err := r.command("ensure").CombinedOutput()
	want := "warren: " + missingSubIDs("nobody", int(r.uid), uids, gids) + "\n"
	if err == nil || string(out) != want {
		t.Errorf("got %v, %q\nwant exit 1, %q", err, out, want)
	}
}
