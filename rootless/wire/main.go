// Package wire is `warren __engine`, the daemon's half inside its
// namespaces: it builds the engine's parts from the daemon's Config — the
// containers' bridge (netstack), the port publisher (portfwd, through
// RootlessKit's API in the parent), the image store — hands them to
// engine.New, and serves the Docker Engine API until SIGTERM. It is the
// one place that knows every concrete type; the engine sees interfaces.
package wire

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	rkclient "github.com/rootless-containers/rootlesskit/v3/pkg/api/client"

	"warren/internal/config"
	"warren/internal/sdactivation"
	"warren/netstack"
	"warren/netstack/uplink"
	"warren/portfwd"
	"warren/rootless/api"
	"warren/rootless/engine"
	"warren/rootless/events"
	"warren/rootless/hostproc"
	"warren/rootless/image"
)

// shutdownStopCap bounds how long the engine waits for each container on
// SIGTERM, so a service manager's own stop timeout is not exceeded.
const shutdownStopCap = 10 * time.Second

// Main is `warren __engine --config <Config.Encode()>`: it serves the API
// until SIGTERM, then stops the containers and removes the socket.
func Main(args []string) error {
	hostproc.Take() // before any process is started: none may inherit it
	// Likewise systemd's socket, passed on by RootlessKit's activation helper.
	passed, err := sdactivation.Listener()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("__engine", flag.ContinueOnError)
	encoded := fs.String("config", "", "the daemon's configuration, as config.Encode writes it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *encoded == "" {
		return errors.New("__engine needs --config")
	}
	cfg, err := config.Decode(*encoded)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return serve(ctx, cfg, passed)
}

// Serve builds the engine from cfg and serves its API on cfg's socket
// until ctx ends.
func Serve(ctx context.Context, cfg config.Config) error {
	return serve(ctx, cfg, nil)
}

// serve is Serve on the listener systemd passed, when not nil.
func serve(ctx context.Context, cfg config.Config, passed net.Listener) error {
	store, err := image.Open(filepath.Join(cfg.DataDir, "images"))
	if err != nil {
		return fmt.Errorf("open image store: %w", err)
	}
	// Registries on the host's loopback (docker run localhost:5000/x) are
	// dialled by the parent, on the host: this is the daemon's own traffic,
	// and it works whether or not containers may reach the host's loopback.
	loopback := uplink.LoopbackSocket(cfg.RootlessKitDir())
	store.SetLoopbackDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		return uplink.DialHostLoopback(ctx, loopback, network, addr)
	})
	b, err := setupBridge(cfg)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	defer b.Close()
	rk, err := rkclient.New(cfg.RootlessKitAPISocket())
	if err != nil {
		return fmt.Errorf("RootlessKit API %s: %w", cfg.RootlessKitAPISocket(), err)
	}
	e, err := engine.New(cfg, engine.Deps{
		Images:  store,
		Network: bridgeNetwork{b},
		Ports:   portfwd.NewPublisher(rk.PortManager(), cfg.Ports()),
		Events:  events.New(),
	})
	if err != nil {
		return err
	}
	return serveAPI(ctx, cfg.Socket(), passed, e, cfg.Debug)
}

// setupBridge builds the containers' bridge in the engine's namespace,
// behind the uplink the daemon gave it.
func setupBridge(cfg config.Config) (*netstack.Bridge, error) {
	nc := netstack.DefaultConfig()
	nc.Subnet = cfg.BridgeSubnet()
	nc.MTU = cfg.MTU
	nc.ICC = cfg.ICC
	gw, err := netstack.UplinkGatewayOf(nc.Uplink)
	if err != nil {
		return nil, err
	}
	nc.UplinkGateway = gw
	return netstack.Setup(nc)
}

// serveAPI serves e on sock until ctx ends, then stops the containers.
// Failed requests are logged, and with debug every request.
func serveAPI(ctx context.Context, sock string, passed net.Listener, e *engine.Engine, debug bool) error {
	l, how := passed, "the socket systemd passed"
	if l == nil {
		var err error
		if l, err = listen(sock); err != nil {
			return err
		}
		// A socket systemd passed is systemd's: it outlives the engine.
		defer os.Remove(sock)
		how = "its own socket"
	}
	srv := &http.Server{Handler: api.LogRequests(api.NewHandler(e), debug, log.Default()), ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	log.Printf("engine: serving on %s, %s", sock, how)
	// The network is wired and the API answers: restart policies apply.
	e.RestartAtStartup(ctx)

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

// bridgeNetwork adapts netstack's bridge to the engine's Network.
type bridgeNetwork struct{ b *netstack.Bridge }

var _ engine.Network = bridgeNetwork{}

func (n bridgeNetwork) Attach(_ context.Context, id string, pid int) (*engine.Endpoint, error) {
	ep, err := n.b.Attach(id, pid)
	if err != nil {
		return nil, err
	}
	return &engine.Endpoint{IP: ep.IP, PrefixLen: ep.PrefixLen, Gateway: ep.Gateway, MAC: ep.MAC}, nil
}

func (n bridgeNetwork) Detach(id string) error { return n.b.Detach(id) }

func (n bridgeNetwork) AllowLink(src, dst netip.Addr, ports []netstack.PortProto) error {
	return n.b.AllowLink(src, dst, ports)
}

func (n bridgeNetwork) HostGateway() netip.Addr { return netstack.HostGateway(n.b.Config()) }

func (n bridgeNetwork) ResolvConf(host []byte, dns, search, options []string) []byte {
	return n.b.ResolvConf(host, dns, search, options)
}
