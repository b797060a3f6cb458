package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"warren/internal/testenv"
)

// suite is the shared state TestMain prepares for every test.
var suite struct {
	bin      string   // the warren binary under test
	images   string   // folder of image tarballs (tests/images/out)
	root     string   // private temp folder holding everything below
	env      []string // environment for CLI runs: this suite's daemon dirs
	runDir   string   // WARREN_RUNTIME_DIR
	dataDir  string   // WARREN_DATA_DIR
	socket   string   // the API socket
	daemon   *daemonProc
	registry string // host:port of the test registry
	docker   string // path of the docker CLI, "" if absent
}

const cmdTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv("WARREN_E2E") != "1" {
		fmt.Println("warren e2e tests skipped: they need a prepared machine; run `make test` (or set WARREN_E2E=1)")
		os.Exit(0)
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) (code int) {
	if os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "e2e: run the suite as an unprivileged user (make test does this)")
		return 1
	}
	if err := setupSuite(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		teardownSuite()
		return 1
	}
	code = m.Run()
	if code != 0 && suite.daemon != nil {
		// The daemon's side of a failure is lost with its folder otherwise.
		fmt.Fprintf(os.Stderr, "e2e: the suite daemon's log, last 80 lines:\n%s\n", tail(readFile(suite.daemon.log), 80))
	}
	if err := teardownSuite(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e teardown:", err)
		code = 1
	}
	return code
}

func setupSuite() error {
	var err error
	if suite.bin, err = filepath.Abs(envOr("WARREN_BIN", "../bin/warren")); err != nil {
		return err
	}
	if _, err := os.Stat(suite.bin); err != nil {
		return fmt.Errorf("warren binary: %w (run make build)", err)
	}
	if suite.images, err = filepath.Abs(envOr("WARREN_IMAGES", "images/out")); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(suite.images, "busybox.tar")); err != nil {
		return fmt.Errorf("test images: %w (run make images)", err)
	}
	suite.docker, _ = exec.LookPath("docker")
	// A short root under /tmp: unix socket paths must fit in 108 bytes.
	if suite.root, err = os.MkdirTemp("/tmp", "we-"); err != nil {
		return err
	}
	suite.runDir, suite.dataDir, suite.env = daemonDirs(suite.root)
	suite.socket = filepath.Join(suite.runDir, "warren.sock")
	if suite.daemon, err = startDaemon(suite.env, suite.socket, filepath.Join(suite.root, "daemon.log")); err != nil {
		return err
	}
	if err := checkPrerequisites(); err != nil {
		return err
	}
	for _, tarball := range []string{"busybox.tar", "webapp.tar", "db.tar"} {
		r := runCmd(suite.bin, suite.env, nil, "load", "-i", filepath.Join(suite.images, tarball))
		if r.code != 0 {
			return fmt.Errorf("load %s: exit %d: %s", tarball, r.code, r.stderr)
		}
	}
	return startRegistry()
}

// checkPrerequisites is the machine check, the same as the scripts': `warren
// info` exits non-zero when the user lacks something warren needs, and
// says how to fix it. It runs on the suite's folders once the daemon
// answers, so it starts no daemon of its own.
func checkPrerequisites() error {
	r := runCmd(suite.bin, suite.env, nil, "info")
	if r.code != 0 {
		return fmt.Errorf("warren info exited %d: this machine lacks what warren needs (scripts/setup-root.sh prepares it, as root):\n%s%s", r.code, r.stdout, r.stderr)
	}
	return nil
}

// daemonDirs makes a runtime and a data folder under root and returns the
// environment that points warren at them.
func daemonDirs(root string) (runDir, dataDir string, env []string) {
	runDir, dataDir = filepath.Join(root, "run"), filepath.Join(root, "data")
	for _, d := range []string{runDir, dataDir, filepath.Join(root, "docker")} {
		_ = os.MkdirAll(d, 0o700)
	}
	env = withEnv(os.Environ(),
		"WARREN_RUNTIME_DIR="+runDir,
		"WARREN_DATA_DIR="+dataDir,
		"DOCKER_HOST=unix://"+filepath.Join(runDir, "warren.sock"),
		"DOCKER_CONFIG="+filepath.Join(root, "docker"),
		"DOCKER_CONTEXT=",
		"DOCKER_API_VERSION=",
		"DOCKER_CLI_HINTS=false",
	)
	return runDir, dataDir, env
}

func teardownSuite() error {
	var errs []error
	if suite.daemon != nil {
		if err := suite.daemon.stop(30 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if suite.root != "" {
		if err := removeAll(suite.root); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeAll deletes a daemon's folders. Image layers keep their owners from
// the image, which on the host are the user's subordinate ids; when plain
// removal fails for that reason, it retries inside a user namespace that maps
// them.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	out, err := exec.Command("unshare", "--user", "--map-auto", "--map-root-user", "rm", "-rf", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("remove %s: %v: %s", dir, err, out)
	}
	return nil
}

// daemonProc is a `warren daemon` this suite started.
type daemonProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid after done
}

// startDaemon starts `warren daemon flags...` on env's folders, logging to
// logPath, and waits until its API answers on socket. It pings the socket
// itself: a `warren` command run first would auto-start a daemon of its own
// without the flags, which would take the lock and leave the flags unused.
func startDaemon(env []string, socket, logPath string, flags ...string) (*daemonProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(suite.bin, append([]string{"daemon"}, flags...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start warren daemon: %w", err)
	}
	d := &daemonProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.done:
			return nil, fmt.Errorf("warren daemon %v exited early (%v):\n%s", flags, d.err, readFile(logPath))
		case <-deadline:
			_ = d.stop(10 * time.Second)
			return nil, fmt.Errorf("warren daemon %v: no answer on %s after 60s:\n%s", flags, socket, readFile(logPath))
		case <-tick.C:
			if pingSocket(socket) == nil {
				return d, nil
			}
		}
	}
}

// pingSocket asks the API on socket for GET /_ping.
func pingSocket(socket string) error {
	client := unixClient(socket, time.Second)
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://warren/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping %s: %s", socket, resp.Status)
	}
	return nil
}

// unixClient is an HTTP client of the Engine API on socket; the URL's host
// is ignored.
func unixClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
}

// exited reports whether the process has ended (a test may kill it).
func (d *daemonProc) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within timeout.
func (d *daemonProc) stop(timeout time.Duration) error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(timeout):
		_ = d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("warren daemon did not exit within %s of SIGTERM:\n%s", timeout, tail(readFile(d.log), 40))
	}
	if d.err != nil {
		return fmt.Errorf("warren daemon exited uncleanly after SIGTERM (%v):\n%s", d.err, tail(readFile(d.log), 40))
	}
	return nil
}

// ownDaemon is a `warren daemon` of one test, on folders of its own: for a
// daemon flag (--subnet, --icc=false) or for a test that kills it. When the
// test ends it is stopped, with any daemon a command auto-started after it
// was killed, and its folders are removed.
type ownDaemon struct {
	proc   *daemonProc
	env    []string
	runDir string
}

// startOwnDaemon starts a daemon with flags and loads busybox and webapp
// into it.
func startOwnDaemon(t *testing.T, flags ...string) *ownDaemon {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "wn-")
	if err != nil {
		t.Fatal(err)
	}
	runDir, _, env := daemonDirs(root)
	d := &ownDaemon{env: env, runDir: runDir}
	logPath := filepath.Join(root, "daemon.log")
	t.Cleanup(func() { d.cleanup(t, root, logPath) })
	if d.proc, err = startDaemon(env, filepath.Join(runDir, "warren.sock"), logPath, flags...); err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"busybox.tar", "webapp.tar"} {
		d.mustRun(t, "load", "-i", filepath.Join(suite.images, image))
	}
	return d
}

// cleanup stops the daemon, which must exit cleanly unless the test killed
// it, then removes root.
func (d *ownDaemon) cleanup(t *testing.T, root, logPath string) {
	if d.proc != nil && !d.proc.exited() {
		if err := d.proc.stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	}
	for _, pid := range daemonsFor(d.runDir) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		waitFor(t, 30*time.Second, "the own daemon to stop", func() bool { return !alive(pid) })
	}
	if t.Failed() {
		t.Logf("own daemon's log:\n%s", tail(readFile(logPath), 60))
	}
	if err := removeAll(root); err != nil {
		t.Log(err)
	}
}

func (d *ownDaemon) run(t testing.TB, args ...string) result {
	t.Helper()
	r := runCmd(suite.bin, d.env, nil, args...)
	t.Logf("$ warren %s → %d (own daemon)", strings.Join(args, " "), r.code)
	return r
}

// cli is a client of this daemon: the warren CLI on its folders.
func (d *ownDaemon) cli() cli {
	return cli{"warren", func(t testing.TB, args ...string) (string, string, int) {
		t.Helper()
		r := d.run(t, args...)
		return r.stdout, r.stderr, r.code
	}}
}

func (d *ownDaemon) mustRun(t testing.TB, args ...string) string {
	t.Helper()
	return d.cli().mustRun(t, args...)
}

// ip is the container's bridge address on this daemon.
func (d *ownDaemon) ip(t testing.TB, name string) string {
	t.Helper()
	ip := strings.TrimSpace(d.mustRun(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name))
	if ip == "" {
		t.Fatalf("%s has no bridge address", name)
	}
	return ip
}

// result is what a finished command printed and its exit code (-1 when it
// could not run or timed out).
type result struct {
	stdout, stderr string
	code           int
}

func runCmd(bin string, env []string, stdin []byte, args ...string) result {
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	return runCmdFrom(bin, env, in, args...)
}

// runCmdFrom is runCmd with stdin read from r (nil: none).
func runCmdFrom(bin string, env []string, stdin io.Reader, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.code = exit.ExitCode()
	default:
		r.code = -1
		r.stderr += fmt.Sprintf("\n[e2e: %s %v: %v]", bin, args, err)
	}
	return r
}

// warren runs the warren CLI against the suite's daemon.
func warren(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	r := runCmd(suite.bin, suite.env, nil, args...)
	t.Logf("$ warren %s → %d", strings.Join(args, " "), r.code)
	return r.stdout, r.stderr, r.code
}

// docker runs the real docker CLI against the suite's daemon; tests are
// skipped where it is not installed.
func docker(t testing.TB, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	requireDocker(t)
	r := runCmd(suite.docker, suite.env, nil, args...)
	t.Logf("$ docker %s → %d", strings.Join(args, " "), r.code)
	return r.stdout, r.stderr, r.code
}

// requireDocker skips a test of the docker CLI where it is not installed,
// and fails it under CI=true.
func requireDocker(t testing.TB) {
	t.Helper()
	testenv.Require(t, suite.docker != "", "docker CLI not installed")
}

// cli is one of the two command-line clients that drive the same daemon.
type cli struct {
	name string
	run  func(t testing.TB, args ...string) (string, string, int)
}

var warrenCLI = cli{"warren", warren}
var dockerCLI = cli{"docker", docker}

// bothCLIs runs f once with each client, as parallel subtests.
func bothCLIs(t *testing.T, f func(t *testing.T, c cli)) {
	t.Helper()
	for _, c := range []cli{warrenCLI, dockerCLI} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.name == "docker" {
				requireDocker(t)
			}
			f(t, c)
		})
	}
}

// mustRun runs the client and fails the test unless it exits 0; it returns
// stdout.
func (c cli) mustRun(t testing.TB, args ...string) string {
	t.Helper()
	stdout, stderr, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", c.name, strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

func mustWarren(t testing.TB, args ...string) string {
	t.Helper()
	return warrenCLI.mustRun(t, args...)
}

var nameSeq atomic.Int64

// uniqueName derives a valid, unique container name from the test's name.
func uniqueName(t testing.TB) string {
	t.Helper()
	n := strings.ToLower(t.Name())
	n = regexp.MustCompile(`[^a-z0-9_.-]+`).ReplaceAllString(n, "-")
	n = strings.Trim(n, "-_.")
	if len(n) > 40 {
		n = n[len(n)-40:]
		n = strings.TrimLeft(n, "-_.")
	}
	return fmt.Sprintf("%s-%d-%d", n, os.Getpid()%10000, nameSeq.Add(1))
}

// container reserves a unique name and removes the container when the test
// ends, whatever state it is in.
func container(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() { runCmd(suite.bin, suite.env, nil, "rm", "-f", name) })
	return name
}

// runDetached starts `run -d --name <new> busybox args...` and returns the
// name and the full ID the CLI printed.
func runDetached(t testing.TB, c cli, args ...string) (name, id string) {
	t.Helper()
	name = container(t)
	out := c.mustRun(t, append([]string{"run", "-d", "--name", name}, args...)...)
	id = strings.TrimSpace(out)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want a 64-hex container ID", out)
	}
	return name, id
}

// inspectField is `inspect -f <template> <name>`, trimmed.
func inspectField(t testing.TB, name, template string) string {
	t.Helper()
	return strings.TrimSpace(mustWarren(t, "inspect", "-f", template, name))
}

// waitFor polls cond until it holds, failing the test after timeout. It is
// for state that changes asynchronously (a container exiting); it never
// sleeps a fixed time when the condition already holds.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for delay := 10 * time.Millisecond; !cond(); delay = min(delay*2, 250*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(delay)
	}
}

// waitState waits until the container's .State.Status is want.
func waitState(t testing.TB, name, want string) {
	t.Helper()
	waitFor(t, 30*time.Second, name+" to be "+want, func() bool {
		out, _, code := warren(t, "inspect", "-f", "{{.State.Status}}", name)
		return code == 0 && strings.TrimSpace(out) == want
	})
}

// psNames lists the names `ps -a` shows.
func psNames(t testing.TB) []string {
	t.Helper()
	return strings.Fields(mustWarren(t, "ps", "-a", "--format", "{{.Names}}"))
}

func containsLine(out, line string) bool {
	for l := range strings.Lines(out) {
		if strings.TrimRight(l, "\r\n") == line {
			return true
		}
	}
	return false
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// withEnv returns env with each KEY=value set, replacing earlier values.
func withEnv(env []string, kvs ...string) []string {
	out := make([]string, 0, len(env)+len(kvs))
	set := map[string]bool{}
	for _, kv := range kvs {
		set[strings.SplitN(kv, "=", 2)[0]] = true
	}
	for _, kv := range env {
		if !set[strings.SplitN(kv, "=", 2)[0]] {
			out = append(out, kv)
		}
	}
	return append(out, kvs...)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
