package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// Paths are where one user's daemon keeps its files: RuntimeDir holds what
// dies with the daemon (the API socket, the lock, RootlessKit's state, the
// log), DataDir what outlives it (images, containers).
type Paths struct {
	RuntimeDir string
	DataDir    string
}

// Environment variables that override the default paths. The CLI's global
// flags end up here too, so that a daemon started in the background (and its
// re-executed RootlessKit child) sees the same folders as the command that
// started it.
const (
	EnvRuntimeDir = "WARREN_RUNTIME_DIR"
	EnvDataDir    = "WARREN_DATA_DIR"
)

// DefaultPaths resolves the paths from the environment: $WARREN_RUNTIME_DIR,
// else $XDG_RUNTIME_DIR/warren, else /tmp/warren-$UID; $WARREN_DATA_DIR, else
// $XDG_DATA_HOME/warren, else ~/.local/share/warren.
func DefaultPaths() (Paths, error) {
	return resolvePaths(os.Getenv, os.Getuid(), os.UserHomeDir)
}

// resolvePaths is DefaultPaths over explicit inputs, for tests.
func resolvePaths(getenv func(string) string, uid int, home func() (string, error)) (Paths, error) {
	var p Paths
	switch {
	case getenv(EnvRuntimeDir) != "":
		p.RuntimeDir = getenv(EnvRuntimeDir)
	case getenv("XDG_RUNTIME_DIR") != "":
		p.RuntimeDir = filepath.Join(getenv("XDG_RUNTIME_DIR"), "warren")
	default:
		p.RuntimeDir = fmt.Sprintf("/tmp/warren-%d", uid)
	}
	switch {
	case getenv(EnvDataDir) != "":
		p.DataDir = getenv(EnvDataDir)
	case getenv("XDG_DATA_HOME") != "":
		p.DataDir = filepath.Join(getenv("XDG_DATA_HOME"), "warren")
	default:
		h, err := home()
		if err != nil {
			return Paths{}, fmt.Errorf("find the data folder: %w (set %s)", err, EnvDataDir)
		}
		p.DataDir = filepath.Join(h, ".local", "share", "warren")
	}
	return p.Abs()
}

// Abs makes both paths absolute: the daemon runs them through a re-exec and
// RootlessKit refuses a relative state dir.
func (p Paths) Abs() (Paths, error) {
	var err error
	if p.RuntimeDir, err = filepath.Abs(p.RuntimeDir); err != nil {
		return Paths{}, fmt.Errorf("runtime dir: %w", err)
	}
	if p.DataDir, err = filepath.Abs(p.DataDir); err != nil {
		return Paths{}, fmt.Errorf("data dir: %w", err)
	}
	return p, nil
}

// Socket is the Docker Engine API socket the engine serves.
func (p Paths) Socket() string { return filepath.Join(p.RuntimeDir, "warren.sock") }

// RootlessKitDir is RootlessKit's state dir. parent.Parent removes it when it
// exits, so nothing else may live there.
func (p Paths) RootlessKitDir() string { return filepath.Join(p.RuntimeDir, "rootlesskit") }

// RootlessKitAPISocket is RootlessKit's REST API (ports, info), served by the
// daemon's parent half on the host; the engine adds published ports there.
func (p Paths) RootlessKitAPISocket() string { return filepath.Join(p.RootlessKitDir(), "api.sock") }

// LogFile is where a daemon started in the background writes its stderr.
func (p Paths) LogFile() string { return filepath.Join(p.RuntimeDir, "daemon.log") }

// LockFile is held by the running daemon's parent half for its whole life:
// one daemon per runtime folder.
func (p Paths) LockFile() string { return filepath.Join(p.RuntimeDir, "daemon.lock") }

// DataLockFile is held by the running daemon for its whole life, in the data
// folder itself: one daemon per data folder, whatever its runtime folder.
// Its name differs from LockFile's so that the two folders may be one.
func (p Paths) DataLockFile() string { return filepath.Join(p.DataDir, "data.lock") }

// Env is the environment entries that pin these paths for a re-executed
// warren.
func (p Paths) Env() []string {
	return []string{EnvRuntimeDir + "=" + p.RuntimeDir, EnvDataDir + "=" + p.DataDir}
}

// MakeDirs creates the folders. The runtime dir is 0700: it holds the API
// socket, which is root of the user's containers.
func (p Paths) MakeDirs() error {
	if err := os.MkdirAll(p.RuntimeDir, 0o700); err != nil {
		return fmt.Errorf("create runtime dir: %w", err)
	}
	if err := os.Chmod(p.RuntimeDir, 0o700); err != nil {
		return fmt.Errorf("restrict runtime dir: %w", err)
	}
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	return nil
}
