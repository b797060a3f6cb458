package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultPath is the PATH Docker gives a container whose image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// envValue returns the last value of key in env, as the kernel's getenv
// would see after Docker's merge (later entries win).
func envValue(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

// lookPath finds name along the container's PATH (Docker's default when
// env has none) in the current root, with Go's exec.LookPath rules and
// error texts, which runc reports verbatim: `exec: "x": executable file
// not found in $PATH`. Like runc it accepts results relative to ".".
func lookPath(name string, env []string) (string, error) {
	path, ok := envValue(env, "PATH")
	if !ok {
		path = DefaultPath
	}
	if err := os.Setenv("PATH", path); err != nil {
		return "", err
	}
	found, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		err = nil
	}
	return found, err
}

// withHome adds HOME from the passwd entry when env has none, as runc does.
func withHome(env []string, home string) []string {
	if _, ok := envValue(env, "HOME"); ok {
		return env
	}
	if home == "" {
		home = "/"
	}
	return append(env[:len(env):len(env)], "HOME="+home)
}

// securePath resolves path inside root, following symlinks as if root were
// "/" (an image's /var/run -> /run must land in the container, never on the
// host). Missing components are kept as they are.
func securePath(root, path string) (string, error) {
	const maxLinks = 255
	var resolved []string // components below root, symlink-free
	todo := strings.Split(path, "/")
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(resolved) > 0 {
				resolved = resolved[:len(resolved)-1]
			}
			continue
		}
		next := filepath.Join(root, filepath.Join(resolved...), part)
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			resolved = append(resolved, part)
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s in %s: too many levels of symbolic links", path, root)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("resolve %s in %s: %w", path, root, err)
		}
		if filepath.IsAbs(target) {
			resolved = resolved[:0]
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return filepath.Join(root, filepath.Join(resolved...)), nil
}
