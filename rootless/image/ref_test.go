package image

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseReference(t *testing.T) {
	const dgst = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		in, full, familiar string
	}{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"},
		{"user/app:v1", "docker.io/user/app:v1", "user/app:v1"},
		{"127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox:latest"},
		{"localhost/x", "localhost/x:latest", "localhost/x:latest"},
		{"localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"},
		{"busybox@" + dgst, "docker.io/library/busybox@" + dgst, "busybox@" + dgst},
		{"quay.io/library/x", "quay.io/library/x:latest", "quay.io/library/x:latest"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ref, err := parseReference(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if ref.String() != tt.full || ref.Familiar() != tt.familiar {
				t.Errorf("got %q / %q, want %q / %q", ref.String(), ref.Familiar(), tt.full, tt.familiar)
			}
		})
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "invalid reference format"},
		{"busy box", "invalid reference format"},
		{"busybox:", "invalid reference format"},
		{"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{"User/App:v1", "invalid reference format: repository name (User/App) must be lowercase"},
		{"0123456789012345678901234567890123456789012345678901234567890123",
			"invalid repository name (0123456789012345678901234567890123456789012345678901234567890123), cannot specify 64-byte hexadecimal strings"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseReference(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%v is not ErrInvalidArgument", err)
			}
		})
	}
}

func TestIsLoopbackRegistry(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1:5000": true, "127.1.2.3": true, "localhost:5000": true, "localhost": true,
		"[::1]:5000": true, "docker.io": false, "10.0.0.1:5000": false, "registry.local:5000": false,
	}
	for host, want := range tests {
		if got := isLoopbackRegistry(host); got != want {
			t.Errorf("isLoopbackRegistry(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestNotFound(t *testing.T) {
	const hex = "0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct{ in, want string }{
		{"nope", "No such image: nope:latest"},
		{"nope:1", "No such image: nope:1"},
		{"127.0.0.1:5000/x", "No such image: 127.0.0.1:5000/x:latest"},
		{"sha256:" + hex, "No such image: sha256:" + hex},
		{hex, "No such image: sha256:" + hex},
		{"abc123", "No such image: abc123:latest"},
	}
	for _, tt := range tests {
		err := notFound(tt.in)
		if err.Error() != tt.want || !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("notFound(%q) = %v, want %q (not found)", tt.in, err, tt.want)
		}
	}
}

// Tag targets (tag, load's RepoTags, import) follow Docker's grammar,
// with the daemon's texts.
func TestParseTagTargetInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"../../x:latest", "invalid reference format"},
		{"../../zz", "invalid reference format"},
		{"a/../b", "invalid reference format"},
		{"a//b", "invalid reference format"},
		{"-x", "invalid reference format"},
		{"x/.hidden", "invalid reference format"},
		{"busybox:..bad", "invalid tag format"},
		{"busybox:-x", "invalid tag format"},
		{"busybox:" + strings.Repeat("t", 129), "invalid tag format"},
		{"Busybox:1", "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{"busybox@sha256:0123456789012345678901234567890123456789012345678901234567890123", "refusing to create a tag with a digest reference"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parseTagTarget(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%v is not ErrInvalidArgument", err)
			}
		})
	}
	for _, ok := range []string{"busybox", "a/b-c__d.e:v1.0_X", "127.0.0.1:5000/x/y:1", "localhost/x"} {
		if _, err := parseTagTarget(ok); err != nil {
			t.Errorf("parseTagTarget(%q): %v", ok, err)
		}
	}
}
