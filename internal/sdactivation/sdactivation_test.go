package sdactivation

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const helperEnv = "SDACTIVATION_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		helper()
		return
	}
	os.Exit(m.Run())
}

// helper is the activated service: it reports what Listener found and
// serves one connection on it.
func helper() {
	inspected, _ := Inspect()
	l, err := Listener()
	switch {
	case err != nil:
		fmt.Println("error:", err)
	case l == nil:
		fmt.Println("none")
	default:
		fmt.Printf("listening on %s (inspected %s), LISTEN_FDS=%q\n", Path(l), inspected, os.Getenv("LISTEN_FDS"))
		c, err := l.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			os.Exit(1)
		}
		c.Write([]byte("hello\n"))
		c.Close()
	}
}

// activate starts the helper as systemd does: fd at 3, LISTEN_FDS, and
// LISTEN_PID set to the helper's own pid (pid says "self"), through a shell
// that sets it and execs. It returns the helper's first output line.
func activate(t *testing.T, fd *os.File, fds, pid string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	set := "LISTEN_PID=$$"
	if pid != "self" {
		set = "LISTEN_PID=" + pid
	}
	cmd := exec.Command("/bin/sh", "-c", "export "+set+"; exec \"$0\"", exe)
	cmd.Env = append(os.Environ(), helperEnv+"=1", "LISTEN_FDS="+fds)
	if fd != nil {
		cmd.ExtraFiles = []*os.File{fd}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

func firstLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read the helper's report: %v", err)
	}
	return strings.TrimSpace(line)
}

// A listening Unix socket at fd 3 with LISTEN_FDS=1 is served, and the
// variables are gone for the processes the service starts.
func TestListenerServesThePassedSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, out := activate(t, f, "1", "self")
	if got, want := firstLine(t, out), fmt.Sprintf("listening on %s (inspected %s), LISTEN_FDS=\"\"", path, path); got != want {
		t.Fatalf("helper: %q, want %q", got, want)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := bufio.NewReader(c).ReadString('\n'); err != nil || got != "hello\n" {
		t.Fatalf("read from the passed socket: %q, %v", got, err)
	}
}

// socketFile makes a socket of typ, bound to a path and listening if
// listen, as an *os.File.
func socketFile(t *testing.T, typ int, listen bool) *os.File {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(t.TempDir(), "s")}); err != nil {
		t.Fatal(err)
	}
	if listen {
		if err := unix.Listen(fd, 1); err != nil {
			t.Fatal(err)
		}
	}
	f := os.NewFile(uintptr(fd), "socket")
	t.Cleanup(func() { f.Close() })
	return f
}

func TestListenerRefuses(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	tests := []struct {
		name     string
		fd       *os.File
		fds, pid string
		want     string
	}{
		{"another process's", socketFile(t, unix.SOCK_STREAM, true), "1", "1", "none"},
		{"two sockets", socketFile(t, unix.SOCK_STREAM, true), "2", "self", "error: systemd passed LISTEN_FDS=2 sockets"},
		{"a pipe", pr, "1", "self", "error: the socket systemd passed (fd 3): not a socket"},
		{"a datagram socket", socketFile(t, unix.SOCK_DGRAM, false), "1", "self", "error: the socket systemd passed (fd 3): not a stream socket"},
		{"a socket not listening", socketFile(t, unix.SOCK_STREAM, false), "1", "self", "error: the socket systemd passed (fd 3): not listening"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out := activate(t, tt.fd, tt.fds, tt.pid)
			if got := firstLine(t, out); !strings.HasPrefix(got, tt.want) {
				t.Errorf("helper: %q, want %q…", got, tt.want)
			}
		})
	}
}

// Without the variables, nothing was passed.
func TestListenerNone(t *testing.T) {
	t.Setenv("LISTEN_PID", "")
	t.Setenv("LISTEN_FDS", "")
	if Passed() {
		t.Fatal("Passed without LISTEN_PID")
	}
	if l, err := Listener(); l != nil || err != nil {
		t.Fatalf("Listener() = %v, %v", l, err)
	}
}
