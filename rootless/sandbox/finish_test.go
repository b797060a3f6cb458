package sandbox

import (
	"errors"
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
