package uplink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/api"
	"github.com/rootless-containers/rootlesskit/v3/pkg/messages"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network"
	"gvisor.dev/gvisor/pkg/tcpip"

	"warren/internal/config"
)

// DriverName is what RootlessKit's API reports as the network driver.
const DriverName = "warren-uplink"

// gatewayMAC is a fixed locally administered address, the one RootlessKit's
// gvisor-tap-vsock driver uses, so the namespace's ARP cache and captures
// look the same across restarts.
const gatewayMAC = "5a:94:ef:e4:0c:dd"

// Options configure the parent driver. Zero MTU and Subnet take the
// daemon's defaults (internal/config); the daemon validated its own.
type Options struct {
	MTU    int          // tap0's MTU
	Subnet netip.Prefix // the uplink's IPv4 network
	// HostLoopback maps the gateway address to the host's 127.0.0.1. Without
	// it (the default, like slirp4netns --disable-host-loopback) the gateway
	// leads to the host's own non-loopback address (HostAddr), as Docker's
	// bridge gateway does; DNS works either way.
	HostLoopback bool
	Logger       io.Writer // the driver's own messages; default discarded
}

// NewParentDriver returns the driver half that runs in the parent, on the
// host, and owns the netstack.
func NewParentDriver(opts Options) (network.ParentDriver, error) {
	if opts.MTU == 0 {
		opts.MTU = config.DefaultMTU
	}
	if !opts.Subnet.IsValid() {
		opts.Subnet = netip.MustParsePrefix(config.DefaultUplinkSubnet)
	}
	addrs, err := AddrsFor(opts.Subnet)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = io.Discard
	}
	return &parentDriver{opts: opts, addrs: addrs}, nil
}

type parentDriver struct {
	opts  Options
	addrs Addrs
}

func (d *parentDriver) MTU() int { return d.opts.MTU }

func (d *parentDriver) Info(context.Context) (*api.NetworkDriverInfo, error) {
	return &api.NetworkDriverInfo{
		Driver:  DriverName,
		DNS:     []net.IP{net.IP(d.addrs.DNS.AsSlice())},
		ChildIP: net.IP(d.addrs.Child.AsSlice()),
	}, nil
}

// ConfigureNetwork opens the socket the child hands tap0 over; the netstack
// starts when the fd arrives. The tap itself is created by the child, so
// childPID and detachedNetNSPath are not needed here. It also serves the
// engine's own dials to the host's loopback (LoopbackSocket).
func (d *parentDriver) ConfigureNetwork(_ int, stateDir, _ string) (*messages.ParentInitNetworkDriverCompleted, func() error, error) {
	srv, err := listen(filepath.Join(stateDir, "uplink"), d.gatewayConfig(), d.opts.Logger)
	if err != nil {
		return nil, nil, err
	}
	srv.start()
	return d.childMessage(srv.sockPath), srv.close, nil
}

// gatewayConfig is the netstack's configuration: the gateway address leads
// to the host's loopback when that is open, else to the host's address.
func (d *parentDriver) gatewayConfig() gatewayConfig {
	mac, _ := net.ParseMAC(gatewayMAC)
	c := gatewayConfig{
		addrs: d.addrs,
		mtu:   d.opts.MTU,
		mac:   tcpip.LinkAddress(mac),
		nat:   map[tcpip.Address]tcpip.Address{},
	}
	gw := tcpip.AddrFrom4(d.addrs.Gateway.As4())
	if d.opts.HostLoopback {
		c.nat[gw] = tcpip.AddrFrom4([4]byte{127, 0, 0, 1})
	} else {
		c.hostAddr = HostAddr
	}
	return c
}

func (d *parentDriver) childMessage(sock string) *messages.ParentInitNetworkDriverCompleted {
	return &messages.ParentInitNetworkDriverCompleted{
		Dev:                 DeviceName,
		IP:                  d.addrs.Child.String(),
		Netmask:             d.addrs.Subnet.Bits(),
		Gateway:             d.addrs.Gateway.String(),
		DNS:                 []string{d.addrs.DNS.String()},
		MTU:                 d.opts.MTU,
		NetworkDriverOpaque: map[string]string{opaqueSocketPath: sock},
	}
}

// server takes tap fds from the child and attaches them to the netstack.
type server struct {
	dir      string
	sockPath string
	ln       *net.UnixListener
	lo       *net.UnixListener // the engine's dials to the host's loopback
	config   gatewayConfig
	log      io.Writer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	gateways []*attached // stopped by close
}

// attached is one tap fd and the netstack on it.
type attached struct {
	gw  *gateway
	tap *os.File
}

func listen(dir string, config gatewayConfig, log io.Writer) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("uplink: %w", err)
	}
	sock := filepath.Join(dir, "tap.sock")
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("uplink: remove stale socket: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("uplink: listen: %w", err)
	}
	lo, err := listenLoopback(filepath.Join(dir, loopbackSock))
	if err != nil {
		ln.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &server{dir: dir, sockPath: sock, ln: ln, lo: lo, config: config, log: log, ctx: ctx, cancel: cancel}, nil
}

func (s *server) start() {
	s.wg.Add(2)
	go s.serve()
	go func() {
		defer s.wg.Done()
		serveLoopback(s.ctx, s.lo, s.log)
	}()
}

func (s *server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(s.log, "uplink: accept: %v\n", err)
			}
			return
		}
		if err := s.attach(conn); err != nil {
			fmt.Fprintf(s.log, "uplink: %v\n", err)
		}
	}
}

// attach receives one tap fd, starts the netstack on it and tells the
// child how it went.
func (s *server) attach(conn *net.UnixConn) error {
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(handoffTimeout)); err != nil {
		return err
	}
	err := s.adopt(conn)
	reply := byte(replyOK)
	if err != nil {
		reply = replyFail
	}
	if _, werr := conn.Write([]byte{reply}); werr != nil && err == nil {
		err = fmt.Errorf("answer child: %w", werr)
	}
	return err
}

// adopt receives the fd and starts a netstack on it that close will stop.
func (s *server) adopt(conn *net.UnixConn) error {
	fd, err := recvFD(conn)
	if err != nil {
		return err
	}
	// os.File owns the fd so that exactly one Close releases it; the link
	// endpoint uses the raw fd number.
	tap := os.NewFile(uintptr(fd), DeviceName)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		tap.Close()
		return errors.New("driver is shutting down")
	}
	gw, err := startGateway(s.config, fd)
	if err != nil {
		tap.Close()
		return fmt.Errorf("start netstack on %s: %w", DeviceName, err)
	}
	s.gateways = append(s.gateways, &attached{gw: gw, tap: tap})
	return nil
}

// close stops accepting, stops every netstack, closes the taps and removes
// the socket.
func (s *server) close() error {
	s.cancel()
	err := errors.Join(s.ln.Close(), s.lo.Close())
	s.mu.Lock()
	for _, a := range s.gateways {
		a.gw.close()
		_ = a.tap.Close()
	}
	s.gateways = nil
	s.mu.Unlock()
	s.wg.Wait()
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
