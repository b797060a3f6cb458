package tests

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// activatedDaemon starts `warren daemon` the way systemd starts a
// socket-activated service: the listening socket at fd 3, LISTEN_FDS=1 and
// LISTEN_PID set to the daemon's own pid (by a shell that then execs it).
func activatedDaemon(t *testing.T, env []string, socket *os.File, logPath string) *daemonProc {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("/bin/sh", "-c", `export LISTEN_PID=$$; exec "$0" daemon`, suite.bin)
	cmd.Env = withEnv(env, "LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{socket}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemonProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { d.err = cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		if !d.exited() {
			if err := d.stop(30 * time.Second); err != nil {
				t.Error(err)
			}
		}
	})
	return d
}

// listenAt binds a listening Unix socket at path, as systemd's socket unit
// does, and returns it as a file to pass on. The listener stays open in the
// test, as systemd keeps it between the daemon's runs.
func listenAt(t *testing.T, path string) *os.File {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	f, err := ul.File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	t.Cleanup(func() { f.Close() })
	return f
}

// The daemon serves the API on the socket systemd passes, leaves it in
// place when it stops (it is systemd's), and serves it again when started
// again: the first API call after a stop reaches the next daemon, and a
// --restart always container runs again.
func TestDaemonSocketActivation(t *testing.T) {
	root, err := os.MkdirTemp("/tmp", "wa-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeAll(root); err != nil {
			t.Log(err)
		}
	})
	runDir, _, env := daemonDirs(root)
	sock := filepath.Join(runDir, "warren.sock")
	passed := listenAt(t, sock)
	logPath := filepath.Join(root, "daemon.log")

	d := activatedDaemon(t, env, passed, logPath)
	waitFor(t, 60*time.Second, "the activated daemon to answer", func() bool { return pingSocket(sock) == nil })
	// The engine logs after it started serving: wait for the line.
	waitFor(t, 30*time.Second, "the engine to say it serves the passed socket", func() bool {
		return strings.Contains(readFile(logPath), "serving on "+sock+", the socket systemd passed")
	})
	r := runCmd(suite.bin, env, nil, "load", "-i", filepath.Join(suite.images, "busybox.tar"))
	if r.code != 0 {
		t.Fatalf("load: exit %d: %s", r.code, r.stderr)
	}
	if r := runCmd(suite.bin, env, nil, "run", "--rm", "busybox", "echo", "activated"); r.code != 0 || r.stdout != "activated\n" {
		t.Fatalf("run: exit %d: %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(suite.bin, env, nil, "run", "-d", "--name", "always", "--restart", "always", "busybox", "sleep", "1000"); r.code != 0 {
		t.Fatalf("run --restart always: exit %d: %s", r.code, r.stderr)
	}
	if err := d.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the daemon removed systemd's socket on stop: %v", err)
	}

	// A connection made while no daemon runs waits in the socket's backlog
	// (systemd would start the daemon for it); the next daemon answers it.
	pinged := make(chan error, 1)
	go func() {
		c := unixClient(sock, 90*time.Second)
		defer c.CloseIdleConnections()
		resp, err := c.Get("http://warren/_ping")
		if err == nil {
			resp.Body.Close()
		}
		pinged <- err
	}()
	activatedDaemon(t, env, passed, logPath)
	if err := <-pinged; err != nil {
		t.Fatalf("the connection made before the daemon started: %v", err)
	}
	if r := runCmd(suite.bin, env, nil, "images", "-q", "busybox"); r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("images after re-activation: exit %d: %q %s", r.code, r.stdout, r.stderr)
	}
	// What a unit started at login gives: the restart policy's container
	// runs again.
	waitFor(t, 30*time.Second, "the --restart always container to run again", func() bool {
		r := runCmd(suite.bin, env, nil, "inspect", "-f", "{{.State.Running}}", "always")
		return r.code == 0 && strings.TrimSpace(r.stdout) == "true"
	})
}

// A socket on another path than warren's is refused, naming both: the
// CLI would not find the daemon there and would start a second one.
func TestDaemonSocketActivationWrongPath(t *testing.T) {
	root := t.TempDir()
	_, _, env := daemonDirs(root)
	other := filepath.Join(root, "other.sock")
	logPath := filepath.Join(root, "daemon.log")
	d := activatedDaemon(t, env, listenAt(t, other), logPath)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon serves a socket on another path")
	}
	if d.err == nil {
		t.Error("the daemon exited 0")
	}
	if log := readFile(logPath); !strings.Contains(log, other) || !strings.Contains(log, filepath.Join(root, "run", "warren.sock")) {
		t.Errorf("the error does not name both paths:\n%s", log)
	}
}
