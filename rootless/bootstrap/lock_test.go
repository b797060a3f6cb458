package bootstrap

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"warren/internal/config"
)

func TestLockDaemon(t *testing.T) {
	p := config.Paths{RuntimeDir: t.TempDir(), DataDir: t.TempDir()}
	if lockHeld(p) {
		t.Fatal("lock held before anyone took it")
	}
	first, err := lockDaemon(p)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files, so a second open in this process
	// conflicts just as another daemon would.
	want := fmt.Sprintf("a daemon is already running for this user (pid %d)", os.Getpid())
	if _, err := lockDaemon(p); err == nil || err.Error() != want {
		t.Fatalf("second lock: %v, want %s", err, want)
	}
	if !lockHeld(p) {
		t.Error("lockHeld = false while locked")
	}
	first.Close()
	if lockHeld(p) {
		t.Error("lockHeld = true after the daemon exited")
	}
	again, err := lockDaemon(p)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

// A second daemon on the same data folder, whatever its runtime folder,
// is refused in one line that names the first.
func TestLockData(t *testing.T) {
	data := t.TempDir()
	p := config.Paths{RuntimeDir: t.TempDir(), DataDir: data}
	first, err := lockData(p)
	if err != nil {
		t.Fatal(err)
	}
	other := config.Paths{RuntimeDir: t.TempDir(), DataDir: data}
	want := fmt.Sprintf("the data folder %s is in use by another warren daemon (pid %d, socket %s)", data, os.Getpid(), p.Socket())
	if _, err := lockData(other); err == nil || err.Error() != want {
		t.Fatalf("second lock: %v, want %s", err, want)
	}
	first.Close()
	again, err := lockData(other)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

// The runtime folder may be the data folder: the two locks are two files.
func TestLocksInOneFolder(t *testing.T) {
	dir := t.TempDir()
	p := config.Paths{RuntimeDir: dir, DataDir: dir}
	run, err := lockDaemon(p)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	data, err := lockData(p)
	if err != nil {
		t.Fatalf("data lock in the runtime folder: %v", err)
	}
	data.Close()
}

func TestEnsureDaemonAnswering(t *testing.T) {
	// A daemon already answering: EnsureDaemon starts nothing.
	p := config.Paths{RuntimeDir: t.TempDir(), DataDir: t.TempDir()}
	l, err := net.Listen("unix", p.Socket())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("OK"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	if err := EnsureDaemon(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.LogFile()); !os.IsNotExist(err) {
		t.Errorf("a daemon was started (log: %v)", err)
	}
	if err := ping(filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Error("ping of a missing socket succeeded")
	}
}
