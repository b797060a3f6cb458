package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

func TestFailureCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&exec.Error{Name: "x", Err: exec.ErrNotFound}, 127},
		{&exec.Error{Name: "/x", Err: &fs.PathError{Op: "stat", Path: "/x", Err: syscall.ENOENT}}, 127},
		{&exec.Error{Name: "/etc", Err: syscall.EISDIR}, 126},
		{&os.PathError{Op: "exec", Path: "/x", Err: syscall.EACCES}, 126},
		{errors.New("error during container init: setuid"), 128},
	} {
		if got := failureCode(tc.err); got != tc.want {
			t.Errorf("failureCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// The child's code travels in the sync message and comes out of the
// parent's error as a typed field, through the wrapping Exec adds.
func TestStartErrorCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error // as the child failed
		want int
	}{
		{"not found", &exec.Error{Name: "nosuch", Err: exec.ErrNotFound}, 127},
		{"missing path", &exec.Error{Name: "/nonexistent", Err: &fs.PathError{Op: "stat", Path: "/nonexistent", Err: syscall.ENOENT}}, 127},
		{"directory", &os.PathError{Op: "exec", Path: "/etc", Err: syscall.EISDIR}, 126},
		{"not executable", &os.PathError{Op: "exec", Path: "/etc/passwd", Err: syscall.EACCES}, 126},
		{"setup", errors.New("error during container init: mount proc: operation not permitted"), 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := json.Marshal(syncMsg{Type: msgError, Error: tc.err.Error(), Code: failureCode(tc.err)})
			if err != nil {
				t.Fatal(err)
			}
			var m syncMsg
			if err := json.Unmarshal(wire, &m); err != nil {
				t.Fatal(err)
			}
			got := childError(createPrefix, m, nil, nil)
			if code := ExitCode(got); code != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", got, code, tc.want)
			}
			if code := ExitCode(fmt.Errorf("%w: unknown", got)); code != tc.want {
				t.Errorf("ExitCode of the wrapped exec error = %d, want %d", code, tc.want)
			}
			if got.Error() != createPrefix+tc.err.Error() {
				t.Errorf("text = %q, want %q", got, createPrefix+tc.err.Error())
			}
		})
	}
	// Errors the engine makes itself (links, ports) are Docker's exitUnknown.
	if code := ExitCode(errors.New("Cannot link to a non running container: /db AS /web/db")); code != 128 {
		t.Errorf("ExitCode of a plain error = %d, want 128", code)
	}
	if code := ExitCode(&StartError{Msg: "no code sent"}); code != 128 {
		t.Errorf("ExitCode without a code = %d, want 128", code)
	}
}
