package uplink

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/containers/gvisor-tap-vsock/pkg/services/dns"
	"github.com/containers/gvisor-tap-vsock/pkg/services/forwarder"
	"github.com/containers/gvisor-tap-vsock/pkg/types"
	log "github.com/sirupsen/logrus"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// gateway is the netstack behind tap0: gvisor-tap-vsock's TCP/UDP
// forwarders and DNS server over a gVisor stack whose NIC is the tap fd
// itself (gVisor's fdbased link endpoint: readv into pooled buffers, writev
// straight from the packet's views). gvisor-tap-vsock's VirtualNetwork puts
// its switch in between, which copies every outgoing packet into a fresh
// 64 KiB buffer and left the host→namespace direction garbage-collector
// bound; its stack is not reachable from outside, so it is composed here.
type gateway struct {
	stack *stack.Stack
	dns   *dns.Server
	udp   net.PacketConn
	tcp   net.Listener
}

const (
	nicID   = 1
	dnsPort = 53
)

// tcpBufferMax bounds the netstack's TCP buffers; 4 MiB lets one stream
// keep a 64 KiB-MTU pipe full on loopback-like latencies.
const tcpBufferMax = 4 << 20

type gatewayConfig struct {
	addrs Addrs
	mtu   int
	mac   tcpip.LinkAddress
	nat   map[tcpip.Address]tcpip.Address
	// hostAddr, when set, is where the gateway address leads: looked up
	// for each new flow, since a laptop's address changes with its network.
	// Without one, the gateway's TCP and UDP are refused.
	hostAddr func() (netip.Addr, bool)
	closedFn func(tcpip.Error)
}

// startGateway builds the stack on tapFD and starts its services. The fd is
// owned by the stack from here on; on failure the caller still closes it.
func startGateway(c gatewayConfig, tapFD int) (*gateway, error) {
	link, err := fdbased.New(&fdbased.Options{
		FDs:            []int{tapFD},
		MTU:            uint32(c.mtu),
		EthernetHeader: true,
		Address:        c.mac,
		ClosedFunc:     c.closedFn,
		// The kernel checksums what it sends out of tap0 (no offload
		// negotiated), so the stack need not verify it again.
		RXChecksumOffload: true,
	})
	if err != nil {
		return nil, fmt.Errorf("tap link: %w", err)
	}
	s, err := newStack(c, arpFilter(link, c.addrs.Gateway.As4()))
	if err != nil {
		return nil, err
	}
	g := &gateway{stack: s}
	var natLock sync.Mutex
	gw := tcpip.AddrFrom4(c.addrs.Gateway.As4())
	if _, mapped := c.nat[gw]; !mapped && c.hostAddr == nil {
		c.hostAddr = func() (netip.Addr, bool) { return netip.Addr{}, false }
	}
	toHost := func(handle func(stack.TransportEndpointID, *stack.PacketBuffer) bool) func(stack.TransportEndpointID, *stack.PacketBuffer) bool {
		return gatewayToHost(gw, c.hostAddr, c.nat, &natLock, handle)
	}
	// Link-local (169.254.169.254 among it) reaches the host's network, as
	// with slirp4netns and RootlessKit's drivers.
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, toHost(forwarder.TCP(s, c.nat, &natLock, true).HandlePacket))
	s.SetTransportProtocolHandler(udp.ProtocolNumber, toHost(forwarder.UDP(s, c.nat, &natLock, true).HandlePacket))
	if err := g.startDNS(c.addrs); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func newStack(c gatewayConfig, link stack.LinkEndpoint) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
	})
	if err := setTCPOptions(s); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.CreateNIC(nicID, link); err != nil {
		s.Close()
		return nil, fmt.Errorf("create NIC: %s", err)
	}
	gw := tcpip.AddrFrom4(c.addrs.Gateway.As4())
	if err := s.AddProtocolAddress(nicID, tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: gw.WithPrefix(),
	}, stack.AddressProperties{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("add gateway address: %s", err)
	}
	// Accept and answer for every destination: the forwarders turn each
	// connection the namespace opens into a host socket.
	s.SetSpoofing(nicID, true)
	s.SetPromiscuousMode(nicID, true)
	subnet, err := tcpip.NewSubnet(tcpip.AddrFrom4(c.addrs.Subnet.Addr().As4()),
		tcpip.MaskFromBytes(net.CIDRMask(c.addrs.Subnet.Bits(), 32)))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("subnet: %w", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: subnet, NIC: nicID}})
	return s, nil
}

// setTCPOptions turns on what gvisor-tap-vsock leaves at gVisor's defaults:
// SACK, receive-buffer auto-tuning and room for a large window.
func setTCPOptions(s *stack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	send := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: tcpBufferMax}
	recv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: tcpBufferMax}
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &send, &recv} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); err != nil {
			return fmt.Errorf("tcp option %T: %s", opt, err)
		}
	}
	return nil
}

// gatewayToHost points the gateway address at the host's address before a
// new flow to it reaches the forwarder, which dials whatever the NAT table
// says. When hostAddr is nil the NAT table's fixed entry (the host's
// 127.0.0.1) stands. When there is no host address the forwarder does not
// handle the packet: the stack then answers it itself, with a TCP RST or an
// ICMP port unreachable, as a closed port would; without that the gateway
// address would be dialled on the host's own network. DNS on the gateway is
// unaffected: its endpoints take packets before this default handler.
func gatewayToHost(gw tcpip.Address, hostAddr func() (netip.Addr, bool), nat map[tcpip.Address]tcpip.Address, natLock *sync.Mutex,
	handle func(stack.TransportEndpointID, *stack.PacketBuffer) bool) func(stack.TransportEndpointID, *stack.PacketBuffer) bool {
	if hostAddr == nil {
		return handle
	}
	return func(id stack.TransportEndpointID, pkt *stack.PacketBuffer) bool {
		if id.LocalAddress != gw {
			return handle(id, pkt)
		}
		host, ok := hostAddr()
		if !ok {
			return false
		}
		natLock.Lock()
		nat[gw] = tcpip.AddrFrom4(host.As4())
		natLock.Unlock()
		return handle(id, pkt)
	}
}

// startDNS serves DNS on the gateway address, answering from the host's
// resolver (and /etc/hosts), as gvisor-tap-vsock's VirtualNetwork does.
func (g *gateway) startDNS(a Addrs) error {
	addr := tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom4(a.DNS.As4()), Port: dnsPort}
	u, err := gonet.DialUDP(g.stack, &addr, nil, ipv4.ProtocolNumber)
	if err != nil {
		return fmt.Errorf("dns udp: %w", err)
	}
	g.udp = u
	l, err := gonet.ListenTCP(g.stack, addr, ipv4.ProtocolNumber)
	if err != nil {
		return fmt.Errorf("dns tcp: %w", err)
	}
	g.tcp = l
	srv, err := dns.NewWithUpstreamResolver(u, l, dnsZones(a), hostResolver{net.DefaultResolver})
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	g.dns = srv
	go logServeErr(srv.Serve)
	go logServeErr(srv.ServeTCP)
	return nil
}

// HostName is the name of the host (the gateway) in the uplink's DNS, as in
// every container's /etc/hosts, so resolvers that skip /etc/hosts (nslookup,
// dig, musl's getaddrinfo with some configs) find it too.
const HostName = "host.warren.internal"

// dnsZones answers HostName locally, and nothing else of warren.internal.
func dnsZones(a Addrs) []types.Zone {
	zone := types.Zone{Name: "warren.internal."}
	zone.Records = []types.Record{{Name: "host", IP: net.IP(a.Gateway.AsSlice())}}
	return []types.Zone{zone}
}

// logServeErr runs a DNS serve loop; it ends when close closes its socket.
func logServeErr(serve func() error) {
	if err := serve(); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Debugf("uplink dns: %v", err)
	}
}

// close stops the services and the stack; the caller closes the tap fd
// after.
func (g *gateway) close() {
	if g.udp != nil {
		g.udp.Close()
	}
	if g.tcp != nil {
		g.tcp.Close()
	}
	// Removing the NIC detaches the link, which stops its read loop and
	// packet processors; Close alone leaves them polling the fd.
	_ = g.stack.RemoveNIC(nicID)
	g.stack.Close()
	g.stack.Wait()
}

// arpFilter keeps the promiscuous stack from claiming addresses it does not
// own: it drops ARP replies from the gateway about any other address, as
// gvisor-tap-vsock's link endpoint does.
func arpFilter(link stack.LinkEndpoint, gw [4]byte) stack.LinkEndpoint {
	f := &arpFilterEndpoint{gw: gw}
	f.Endpoint.Init(link, f)
	return f
}

type arpFilterEndpoint struct {
	nested.Endpoint
	gw [4]byte
}

func (e *arpFilterEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	var keep stack.PacketBufferList
	dropped := 0
	for _, p := range pkts.AsSlice() {
		if p.NetworkProtocolNumber == header.ARPProtocolNumber && !e.ownReply(p) {
			dropped++
			continue
		}
		keep.PushBack(p)
	}
	if dropped == 0 {
		return e.Endpoint.WritePackets(pkts)
	}
	n, err := e.Endpoint.WritePackets(keep)
	return n + dropped, err
}

func (e *arpFilterEndpoint) ownReply(p *stack.PacketBuffer) bool {
	h := header.ARP(p.NetworkHeader().Slice())
	if !h.IsValid() || h.Op() != header.ARPReply {
		return true
	}
	return [4]byte(h.ProtocolAddressSender()) == e.gw
}
