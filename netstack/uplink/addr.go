package uplink

import (
	"fmt"
	"net/netip"

	"warren/internal/config"
)

// The addresses of the default subnet, 10.0.2.0/24, as slirp4netns and
// rootless Docker use them.
//
// gvisor-tap-vsock binds its DNS server to the gateway address only (its
// virtualnetwork listens on GatewayIP:53), and any other address of the
// subnet is forwarded to the host as is, so DNS is served by the gateway,
// not by slirp4netns' separate 10.0.2.3.
const (
	DeviceName = "tap0"

	GatewayIP      = "10.0.2.2"
	DNSIP          = GatewayIP
	HostLoopbackIP = GatewayIP
	ChildIP        = "10.0.2.100"
)

// Host offsets inside the subnet, as in slirp4netns.
const (
	gatewayHost = 2
	childHost   = 100
)

// Addrs are the uplink's addresses in one subnet.
type Addrs struct {
	Subnet  netip.Prefix
	Gateway netip.Addr // the netstack; also DNS and, unless disabled, the host's loopback
	DNS     netip.Addr
	Child   netip.Addr // tap0 in the namespace
}

// AddrsFor derives the uplink's addresses from an IPv4 subnet: the gateway is
// its .2, the namespace its .100.
func AddrsFor(subnet netip.Prefix) (Addrs, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return Addrs{}, fmt.Errorf("uplink subnet %s: must be an IPv4 prefix", subnet)
	}
	if subnet.Masked() != subnet {
		return Addrs{}, fmt.Errorf("uplink subnet %s: host bits set (want %s)", subnet, subnet.Masked())
	}
	if subnet.Bits() > 24 {
		return Addrs{}, fmt.Errorf("uplink subnet %s: too small, need at least a /24", subnet)
	}
	gw := nthAddr(subnet.Addr(), gatewayHost)
	return Addrs{
		Subnet:  subnet,
		Gateway: gw,
		DNS:     gw,
		Child:   nthAddr(subnet.Addr(), childHost),
	}, nil
}

// DefaultAddrs are the addresses in the daemon's default uplink subnet.
func DefaultAddrs() Addrs {
	a, err := AddrsFor(netip.MustParsePrefix(config.DefaultUplinkSubnet))
	if err != nil {
		panic(err) // a constant
	}
	return a
}

func nthAddr(base netip.Addr, n uint32) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
