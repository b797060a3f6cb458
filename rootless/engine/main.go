package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"warren/rootless/api"
	"warren/rootless/hostproc"
)

// shutdownStopCap bounds how long the engine waits for each container on
// SIGTERM, so a service manager's own stop timeout is not exceeded.
const shutdownStopCap = 10 * time.Second

// Main is `warren __engine`: it serves the API until SIGTERM, then stops the
// containers and removes the socket.
func Main(args []string) error {
	hostproc.Take() // before any process is started: none may inherit it
	fs := flag.NewFlagSet("__engine", flag.ContinueOnError)
	runtimeDir := fs.String("runtime-dir", "", "folder of the API socket")
	dataDir := fs.String("data-dir", "", "folder of images and containers")
	var netOpts NetworkOptions
	fs.IntVar(&netOpts.MTU, "mtu", 0, "MTU of the bridge and veths")
	fs.StringVar(&netOpts.Subnet, "subnet", "", "the bridge's subnet")
	fs.BoolVar(&netOpts.DisableHostLoopback, "disable-host-loopback", false, "no host.warren.internal")
	fs.BoolVar(&netOpts.ICC, "icc", true, "inter-container traffic")
	fs.StringVar(&netOpts.PortRange, "port-range", "", "host ports for -P")
	fs.Bool("debug", false, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runtimeDir == "" || *dataDir == "" {
		return errors.New("__engine needs --runtime-dir and --data-dir")
	}

	e, err := New(*dataDir)
	if err != nil {
		return err
	}
	netOpts.RootlessKitAPI = os.Getenv("WARREN_ROOTLESSKIT_API")
	closeNetwork, err := e.SetupNetwork(netOpts)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	defer closeNetwork()
	sock := filepath.Join(*runtimeDir, "warren.sock")
	l, err := listen(sock)
	if err != nil {
		return err
	}
	defer os.Remove(sock)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := &http.Server{Handler: api.NewHandler(e), ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Printf("engine: serving on %s", sock)

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve %s: %w", sock, err)
	}
	log.Printf("engine: stopping containers")
	e.Shutdown(context.Background(), shutdownStopCap)
	// Hijacked attach connections are not tracked by Shutdown; their
	// containers have stopped, so closing is all that is left.
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		srv.Close()
	}
	return nil
}

// listen binds the API socket, replacing a stale one left by an engine that
// died, with mode 0600: the socket is the user's root-equivalent.
func listen(sock string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return nil, fmt.Errorf("create runtime folder: %w", err)
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	old := syscall.Umask(0o177) // no window in which others could connect
	l, err := net.Listen("unix", sock)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod %s: %w", sock, err)
	}
	return l, nil
}
