package api

import (
	"strings"
	"testing"
)

func TestJoinReference(t *testing.T) {
	dgst := "sha256:" + strings.Repeat("a", 64)
	tests := []struct{ repo, tag, want string }{
		{"docker.io/library/busybox", "latest", "docker.io/library/busybox:latest"},
		{"127.0.0.1:5000/busybox", "", "127.0.0.1:5000/busybox"},
		{"busybox", dgst, "busybox@" + dgst},
		{"", "latest", ""},
	}
	for _, tt := range tests {
		if got := joinReference(tt.repo, tt.tag); got != tt.want {
			t.Errorf("joinReference(%q, %q) = %q, want %q", tt.repo, tt.tag, got, tt.want)
		}
	}
}
