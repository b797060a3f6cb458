package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	sbin := filepath.Join(dir, "sbin")
	for _, d := range []string{bin, sbin, filepath.Join(bin, "adir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, mode os.FileMode) {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "tool"), 0o755)
	write(filepath.Join(sbin, "tool"), 0o755)
	write(filepath.Join(sbin, "only"), 0o755)
	write(filepath.Join(bin, "noexec"), 0o644)
	t.Setenv("PATH", os.Getenv("PATH"))

	for _, tc := range []struct {
		name    string
		env     []string
		want    string
		wantErr string
	}{
		{"tool", []string{"PATH=" + bin + ":" + sbin}, filepath.Join(bin, "tool"), ""},
		{"tool", []string{"PATH=" + sbin + ":" + bin}, filepath.Join(sbin, "tool"), ""},
		{"only", []string{"PATH=/x", "PATH=" + bin + ":" + sbin}, filepath.Join(sbin, "only"), ""},
		{"nosuch", []string{"PATH=" + bin}, "", `exec: "nosuch": executable file not found in $PATH`},
		{"noexec", []string{"PATH=" + bin}, "", `exec: "noexec": executable file not found in $PATH`},
		{filepath.Join(bin, "tool"), nil, filepath.Join(bin, "tool"), ""},
		{filepath.Join(bin, "adir"), nil, "", fmt.Sprintf(`exec: %q: is a directory`, filepath.Join(bin, "adir"))},
		{"/nosuch", nil, "", `exec: "/nosuch": stat /nosuch: no such file or directory`},
	} {
		got, err := lookPath(tc.name, tc.env)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("lookPath(%q, %v) error = %v, want %q", tc.name, tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("lookPath(%q, %v) = %q, %v; want %q", tc.name, tc.env, got, err, tc.want)
		}
	}
}

func TestWithHome(t *testing.T) {
	if got := withHome([]string{"A=1"}, "/root"); !reflect.DeepEqual(got, []string{"A=1", "HOME=/root"}) {
		t.Errorf("got %v", got)
	}
	if got := withHome([]string{"HOME=/x"}, "/root"); !reflect.DeepEqual(got, []string{"HOME=/x"}) {
		t.Errorf("got %v", got)
	}
	if got := withHome(nil, ""); !reflect.DeepEqual(got, []string{"HOME=/"}) {
		t.Errorf("got %v", got)
	}
}

func TestSecurePath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"run", "usr/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"var":       "/nonexistent/../usr", // absolute: resolved inside root
		"usr/lib64": "lib",                 // relative
		"escape":    "../../../../etc",     // must not leave root
		"loop":      "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"/etc/hosts", "/etc/hosts"},
		{"/var/lib64/x", "/usr/lib/x"},
		{"/escape/passwd", "/etc/passwd"},
		{"/../../etc", "/etc"},
		{"run/./a/../b", "/run/b"},
		{"/", ""},
	} {
		got, err := securePath(root, tc.in)
		if err != nil || got != filepath.Join(root, tc.want) {
			t.Errorf("securePath(%q) = %q, %v; want %q", tc.in, got, err, filepath.Join(root, tc.want))
		}
	}
	if _, err := securePath(root, "/loop/x"); err == nil {
		t.Error("securePath through a symlink loop succeeded")
	}
}
