package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"warren/rootless/seccomp"
)

// forkExec without namespaces: the child runs the command with the given
// arguments and environment, no signal blocked or ignored (even one the
// parent ignores), in a session of its own; the parent reaps it.
func TestForkExec(t *testing.T) {
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	out := filepath.Join(t.TempDir(), "out")
	script := `echo "$0 $1 $X" > "$OUT"; grep -E '^Sig(Blk|Ign)' /proc/$$/status >> "$OUT"; cut -d' ' -f6 /proc/$$/stat >> "$OUT"; echo $$ >> "$OUT"`
	pid, err := forkExec("/bin/sh", []string{"sh", "-c", script, "a", "b"}, []string{"X=1", "OUT=" + out}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := waitChild(pid); code != 0 {
		t.Fatalf("child exit code %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 {
		t.Fatalf("child wrote %q", b)
	}
	if lines[0] != "a b 1" {
		t.Errorf("args and env: %q, want %q", lines[0], "a b 1")
	}
	if lines[1] != "SigBlk:\t0000000000000000" {
		t.Errorf("child's blocked signals: %q", lines[1])
	}
	if lines[2] != "SigIgn:\t0000000000000000" {
		t.Errorf("child's ignored signals: %q, want none", lines[2])
	}
	if lines[3] != lines[4] {
		t.Errorf("child's session %s, want its own (%s)", lines[3], lines[4])
	}
}

func TestForkExecErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte{0x7f, 'E', 'L', 'F', 0, 0}, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
		code int
	}{
		{filepath.Join(dir, "missing"), syscall.ENOENT, 127},
		{plain, syscall.EACCES, 126},
		{garbage, syscall.ENOEXEC, 126},
		{dir, syscall.EACCES, 126},
	} {
		pid, err := forkExec(tc.path, []string{"x"}, nil, nil, nil)
		var pe *os.PathError
		if !errors.As(err, &pe) || pe.Op != "exec" || pe.Path != tc.path || !errors.Is(err, tc.want) {
			t.Errorf("forkExec(%s) = %d, %v; want exec %s: %v", tc.path, pid, err, tc.path, tc.want)
			continue
		}
		if code := failureCode(err); code != tc.code {
			t.Errorf("failureCode(%v) = %d, want %d", err, code, tc.code)
		}
		// The failed child was reaped.
		if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
			t.Errorf("a child is left after forkExec(%s): %v", tc.path, err)
		}
	}
	if _, err := forkExec("/bin/true", []string{"true", "a\x00b"}, nil, nil, nil); !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("forkExec with a NUL in an argument = %v, want EINVAL", err)
	}
}

// The child installs the filter right before execve: execve is the first
// call it sees, and the parent stays unfiltered.
func TestForkExecSeccomp(t *testing.T) {
	eperm := uint(syscall.EPERM)
	denyExec, err := seccomp.Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"execve"}, Action: specs.ActErrno, ErrnoRet: &eperm}},
	})
	if err != nil {
		t.Fatal(err)
	}
	badFlags := &seccomp.Program{Filter: denyExec.Filter, Flags: 1 << 30}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A filter needs no_new_privs without CAP_SYS_ADMIN; it is set on
		// this thread only, which is never unlocked.
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			t.Error(err)
			return
		}
		for _, tc := range []struct {
			filter *seccomp.Program
			want   string
		}{
			{denyExec, "exec /bin/true: operation not permitted"},
			{denyExec, "exec /bin/true: operation not permitted"}, // this thread is still unfiltered
			{badFlags, "error during container init: install seccomp filter: invalid argument"},
		} {
			if _, err := forkExec("/bin/true", []string{"true"}, nil, nil, tc.filter); err == nil || err.Error() != tc.want {
				t.Errorf("forkExec under a filter = %v, want %s", err, tc.want)
			}
		}
		pid, err := forkExec("/bin/true", []string{"true"}, nil, nil, nil)
		if err != nil {
			t.Errorf("forkExec after the filtered ones: %v", err)
			return
		}
		if code := waitChild(pid); code != 0 {
			t.Errorf("true exit code %d", code)
		}
	}()
	<-done
}
