// Command daemonmain is warren's daemon bootstrap without the rest of warren,
// for the bootstrap's tests: `daemon` runs it in the foreground, `ensure`
// is a CLI's EnsureDaemon, and `__fakeengine` (given as WARREN_ENGINE_CMD)
// stands in for the engine: it serves /_ping and a /debug/info report of the
// namespace it runs in, and starts a "container" process that must die with
// the daemon.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"warren/internal/config"
	"warren/rootless/bootstrap"
)

func main() {
	if bootstrap.IsChild() {
		bootstrap.ChildMain()
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: daemonmain daemon|ensure|__fakeengine")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "daemon":
		// As `warren daemon`: its fatal error in one "warren: " line.
		if err = daemon(); err != nil {
			err = fmt.Errorf("warren: %w", err)
		}
	case "ensure":
		err = ensure() // printed as the CLI prints it: as is
	case "__fakeengine":
		err = fakeEngine(os.Args[2:])
	case "__container":
		time.Sleep(time.Hour)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func daemon() error {
	p, err := config.DefaultPaths()
	if err != nil {
		return err
	}
	return bootstrap.RunDaemon(context.Background(), config.Defaults(p))
}

func ensure() error {
	p, err := config.DefaultPaths()
	if err != nil {
		return err
	}
	if err := bootstrap.EnsureDaemon(p); err != nil {
		return err
	}
	fmt.Println("ok")
	return nil
}

// info is what the fake engine reports about the namespace it runs in.
type info struct {
	Args      []string
	Pid       int
	UIDMap    string
	GIDMap    string
	TapAddrs  []string
	TapMTU    int
	APISocket string
	Hostname  string
}

func fakeEngine(args []string) error {
	fs := flag.NewFlagSet("engine", flag.ContinueOnError)
	encoded := fs.String("config", "", "the daemon's Config, encoded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Decode(*encoded)
	if err != nil {
		return err
	}
	runtimeDir := &cfg.RuntimeDir
	// Like the real engine, catch SIGTERM before anyone can see the socket
	// answer: a test may stop the daemon as soon as it is ready.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	sock := filepath.Join(*runtimeDir, "warren.sock")
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	// A "container": a process of the daemon's pid namespace that must not
	// outlive the daemon. Its argv carries the runtime dir for the test.
	exe, _ := os.Executable()
	ctr := exec.Command(exe, "__container", *runtimeDir)
	if err := ctr.Start(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("OK")) })
	mux.HandleFunc("/debug/info", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(report(args))
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	<-sig
	// As the real engine: stop the containers, remove the socket, exit 0.
	ctr.Process.Kill()
	ctr.Wait()
	srv.Close()
	os.Remove(sock)
	return os.WriteFile(filepath.Join(*runtimeDir, "engine-stopped"), nil, 0o600)
}

func report(args []string) info {
	r := info{Args: args, Pid: os.Getpid(), APISocket: os.Getenv(bootstrap.EnvRootlessKitAPI)}
	b, _ := os.ReadFile("/proc/self/uid_map")
	r.UIDMap = normalize(string(b))
	b, _ = os.ReadFile("/proc/self/gid_map")
	r.GIDMap = normalize(string(b))
	r.Hostname, _ = os.Hostname()
	if ifc, err := net.InterfaceByName("tap0"); err == nil {
		r.TapMTU = ifc.MTU
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			r.TapAddrs = append(r.TapAddrs, a.String())
		}
	}
	return r
}

// normalize squeezes the id map's column padding to single spaces.
func normalize(m string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(m), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}
