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

	"github.com/containers/gvisor-tap-vsock/pkg/types"
	"github.com/containers/gvisor-tap-vsock/pkg/virtualnetwork"
	"github.com/rootless-containers/rootlesskit/v3/pkg/api"
	"github.com/rootless-containers/rootlesskit/v3/pkg/messages"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network"
	"golang.org/x/sys/unix"
)

// DriverName is what RootlessKit's API reports as the network driver.
const DriverName = "warren-uplink"

// gatewayMAC is a fixed locally administered address, the one RootlessKit's
// gvisor-tap-vsock driver uses, so the namespace's ARP cache and captures
// look the same across restarts.
const gatewayMAC = "5a:94:ef:e4:0c:dd"

// hostLoopback is where the gateway address leads on the host.
const hostLoopback = "127.0.0.1"

// Options configure the parent driver. Zero values take the defaults.
type Options struct {
	MTU    int    // tap0's MTU; default DefaultMTU
	Subnet string // IPv4 CIDR of the uplink; default DefaultSubnet
	// DisableHostLoopback stops the gateway address from reaching the host's
	// 127.0.0.1 (like slirp4netns --disable-host-loopback); DNS still works.
	DisableHostLoopback bool
	Logger              io.Writer // the driver's own messages; default discarded
}

// NewParentDriver returns the driver half that runs in the parent, on the
// host, and owns the netstack.
func NewParentDriver(opts Options) (network.ParentDriver, error) {
	if opts.MTU == 0 {
		opts.MTU = DefaultMTU
	}
	// 65521 and up cannot be carried: the switch reads frames into 128 KiB
	// and an IPv4 packet is at most 65535 bytes.
	if opts.MTU < 68 || opts.MTU > DefaultMTU {
		return nil, fmt.Errorf("uplink: mtu %d out of range 68-%d", opts.MTU, DefaultMTU)
	}
	if opts.Subnet == "" {
		opts.Subnet = DefaultSubnet
	}
	subnet, err := netip.ParsePrefix(opts.Subnet)
	if err != nil {
		return nil, fmt.Errorf("uplink: subnet: %w", err)
	}
	addrs, err := AddrsFor(subnet)
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

// ConfigureNetwork starts the netstack and the socket the child hands tap0
// over. The tap itself is created by the child, so childPID and
// detachedNetNSPath are not needed here.
func (d *parentDriver) ConfigureNetwork(_ int, stateDir, _ string) (*messages.ParentInitNetworkDriverCompleted, func() error, error) {
	vn, err := virtualnetwork.New(d.vnConfig())
	if err != nil {
		return nil, nil, fmt.Errorf("uplink: start netstack: %w", err)
	}
	srv, err := listen(filepath.Join(stateDir, "uplink"), vn, d.dropFunc(), d.opts.Logger)
	if err != nil {
		return nil, nil, err
	}
	srv.start()
	return d.childMessage(vn, srv.sockPath), srv.close, nil
}

// vnConfig is the gvisor-tap-vsock configuration: the netstack is the
// gateway, and the gateway address leads to the host's loopback unless
// disabled.
func (d *parentDriver) vnConfig() *types.Configuration {
	gw := d.addrs.Gateway.String()
	c := &types.Configuration{
		MTU:               d.opts.MTU,
		Subnet:            d.addrs.Subnet.String(),
		GatewayIP:         gw,
		GatewayMacAddress: gatewayMAC,
		DHCPStaticLeases:  map[string]string{},
		NAT:               map[string]string{},
		// 169.254.169.254 and the rest of link-local reach the host's
		// network, as with slirp4netns and RootlessKit's drivers.
		Ec2MetadataAccess: true,
	}
	if !d.opts.DisableHostLoopback {
		c.NAT[gw] = hostLoopback
	}
	return c
}

// dropFunc filters the namespace's frames to the gateway when the host's
// loopback is disabled; nil (no per-frame check) otherwise.
func (d *parentDriver) dropFunc() func([]byte) bool {
	if !d.opts.DisableHostLoopback {
		return nil
	}
	gw := d.addrs.Gateway.As4()
	return func(frame []byte) bool { return toGatewayExceptDNS(frame, gw) }
}

func (d *parentDriver) childMessage(vn *virtualnetwork.VirtualNetwork, sock string) *messages.ParentInitNetworkDriverCompleted {
	return &messages.ParentInitNetworkDriverCompleted{
		// The port drivers that need the netstack (gvisor-tap-vsock's) find
		// it here, as with RootlessKit's own driver.
		Network:             vn,
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
	vn       *virtualnetwork.VirtualNetwork
	drop     func([]byte) bool
	log      io.Writer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	taps []*frameConn // closed by close, which ends their switch loops
}

func listen(dir string, vn *virtualnetwork.VirtualNetwork, drop func([]byte) bool, log io.Writer) (*server, error) {
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
	ctx, cancel := context.WithCancel(context.Background())
	return &server{dir: dir, sockPath: sock, ln: ln, vn: vn, drop: drop, log: log, ctx: ctx, cancel: cancel}, nil
}

func (s *server) start() {
	s.wg.Add(1)
	go s.serve()
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

// attach receives one tap fd, starts the netstack's loop on it and tells
// the child how it went.
func (s *server) attach(conn *net.UnixConn) error {
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(handoffTimeout)); err != nil {
		return err
	}
	tap, err := s.adopt(conn)
	reply := byte(replyOK)
	if err != nil {
		reply = replyFail
	}
	if _, werr := conn.Write([]byte{reply}); werr != nil && err == nil {
		err = fmt.Errorf("answer child: %w", werr)
	}
	if tap == nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Returns when the tap is closed (cleanup, or the namespace is gone).
		_ = s.vn.AcceptVfkit(s.ctx, tap)
	}()
	return err
}

// adopt turns the received fd into a frame conn the server will close.
func (s *server) adopt(conn *net.UnixConn) (*frameConn, error) {
	fd, err := recvFD(conn)
	if err != nil {
		return nil, err
	}
	// Non-blocking before os.NewFile, so reads and writes use the poller and
	// Close interrupts a blocked Read.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap fd: %w", err)
	}
	tap := newFrameConn(os.NewFile(uintptr(fd), DeviceName), DeviceName, s.drop)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		tap.Close()
		return nil, errors.New("driver is shutting down")
	}
	s.taps = append(s.taps, tap)
	return tap, nil
}

// close stops accepting, detaches every tap and removes the socket. The
// netstack itself has no Close in gvisor-tap-vsock; it stays idle.
func (s *server) close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for _, t := range s.taps {
		_ = t.Close()
	}
	s.taps = nil
	s.mu.Unlock()
	s.wg.Wait()
	if rerr := os.RemoveAll(s.dir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
