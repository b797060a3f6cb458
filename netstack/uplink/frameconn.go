package uplink

import (
	"encoding/binary"
	"net"
	"os"
	"time"
)

// frameConn presents a tap device as the datagram-style net.Conn that
// gvisor-tap-vsock's switch accepts (its vfkit protocol): each Read returns
// one whole Ethernet frame and each Write sends one, because a tap fd has
// exactly those semantics. Reads and writes go through the Go poller on the
// fd itself, without buffers or allocations of their own.
type frameConn struct {
	f    *os.File
	addr tapAddr
	// drop, if set, discards frames from the namespace before the netstack
	// sees them (see toGatewayExceptDNS).
	drop func(frame []byte) bool
}

func newFrameConn(f *os.File, name string, drop func([]byte) bool) *frameConn {
	return &frameConn{f: f, addr: tapAddr(name), drop: drop}
}

func (c *frameConn) Read(b []byte) (int, error) {
	for {
		n, err := c.f.Read(b)
		if err != nil || c.drop == nil || !c.drop(b[:n]) {
			return n, err
		}
	}
}

func (c *frameConn) Write(b []byte) (int, error) { return c.f.Write(b) }
func (c *frameConn) Close() error                { return c.f.Close() }

// The switch logs both addresses of every connection, so neither may be nil.
func (c *frameConn) LocalAddr() net.Addr                { return c.addr }
func (c *frameConn) RemoteAddr() net.Addr               { return c.addr }
func (c *frameConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *frameConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *frameConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

type tapAddr string

func (a tapAddr) Network() string { return "tap" }
func (a tapAddr) String() string  { return string(a) }

// Ethernet and IPv4 header offsets used by toGatewayExceptDNS.
const (
	ethHeaderLen   = 14
	ethTypeOff     = 12
	ethTypeIPv4    = 0x0800
	ipProtoOff     = 9
	ipDstOff       = 16
	ipFlagsFragOff = 6
	protoTCP       = 6
	protoUDP       = 17
	dnsPort        = 53
)

// toGatewayExceptDNS reports whether frame is IPv4 TCP or UDP to gw on any
// port but DNS. With the host's loopback disabled the netstack would forward
// such traffic to the gateway address on the host's own network (no NAT entry
// rewrites it), so it is dropped instead, as a firewall would.
func toGatewayExceptDNS(frame []byte, gw [4]byte) bool {
	if len(frame) < ethHeaderLen+20 || binary.BigEndian.Uint16(frame[ethTypeOff:]) != ethTypeIPv4 {
		return false
	}
	ip := frame[ethHeaderLen:]
	if [4]byte(ip[ipDstOff:ipDstOff+4]) != gw {
		return false
	}
	proto := ip[ipProtoOff]
	if proto != protoTCP && proto != protoUDP {
		return false
	}
	ihl := int(ip[0]&0x0f) * 4
	// A non-first fragment carries no ports; dropping the first one is
	// enough, since without it the netstack never reassembles the datagram.
	if binary.BigEndian.Uint16(ip[ipFlagsFragOff:])&0x1fff != 0 {
		return false
	}
	if ihl < 20 || len(ip) < ihl+4 {
		return true
	}
	return binary.BigEndian.Uint16(ip[ihl+2:]) != dnsPort
}
