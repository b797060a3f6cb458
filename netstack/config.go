package netstack

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// DefaultUplinkGateway is the uplink's gateway in the namespace's default
// uplink subnet 10.0.2.0/24, as warren's own driver (netstack/uplink) and
// slirp4netns number it. gvisor-tap-vsock serves DNS on the gateway address
// only and maps it to the host's 127.0.0.1 unless host loopback is off, so
// the one address is gateway, DNS and host at once. RootlessKit's bundled
// gvisor-tap-vsock driver puts all three on 10.0.2.1 instead; a bootstrap
// using it sets Config.UplinkGateway.
var DefaultUplinkGateway = netip.MustParseAddr("10.0.2.2")

// Defaults of the containers' network, the same as Docker's docker0.
const (
	DefaultBridge = "warren0"
	DefaultMTU    = 65520
	DefaultUplink = "tap0"
)

// DefaultSubnet is Docker's default bridge subnet.
var DefaultSubnet = netip.MustParsePrefix("172.17.0.0/16")

// Config describes the containers' network. Start from DefaultConfig:
// the zero Config has ICC and HostLoopback off.
type Config struct {
	// Subnet of the bridge; its first address is the bridge's (the
	// containers' gateway). IPv4, at most /30.
	Subnet netip.Prefix
	// MTU of the bridge and the veths; the uplink's (65520) by default.
	MTU int
	// Uplink is the interface the subnet is masqueraded out of.
	Uplink string
	// ICC allows container-to-container traffic on the bridge (Docker's
	// --icc, true by default). When false only AllowLink'ed ports pass.
	ICC bool
	// HostLoopback: the uplink's gateway reaches the host's loopback, so
	// host.warren.internal and host-gateway resolve to it.
	HostLoopback bool
	// UplinkGateway is the uplink driver's gateway, also its DNS server
	// and the host's loopback; DefaultUplinkGateway when zero.
	UplinkGateway netip.Addr
}

// DefaultConfig is the network warren uses unless told otherwise.
func DefaultConfig() Config {
	return Config{
		Subnet:        DefaultSubnet,
		MTU:           DefaultMTU,
		Uplink:        DefaultUplink,
		ICC:           true,
		HostLoopback:  true,
		UplinkGateway: DefaultUplinkGateway,
	}
}

// withDefaults fills the zero fields of cfg and checks the rest.
func (cfg Config) withDefaults() (Config, error) {
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = DefaultSubnet
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.Uplink == "" {
		cfg.Uplink = DefaultUplink
	}
	if !cfg.UplinkGateway.IsValid() {
		cfg.UplinkGateway = DefaultUplinkGateway
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if !cfg.Subnet.Addr().Is4() || cfg.Subnet.Bits() > 30 {
		return cfg, fmt.Errorf("subnet %s: need an IPv4 subnet of at most /30", cfg.Subnet)
	}
	if cfg.MTU < 68 || cfg.MTU > 65535 {
		return cfg, fmt.Errorf("mtu %d: out of range 68-65535", cfg.MTU)
	}
	return cfg, nil
}

// Gateway is the bridge's address, the containers' default gateway: the
// subnet's first host address (172.17.0.1).
func (cfg Config) Gateway() netip.Addr {
	return cfg.Subnet.Masked().Addr().Next()
}

// HostGateway is the address containers use to reach the host's loopback
// (host.warren.internal, --add-host name:host-gateway). It is invalid
// (netip.Addr{}) when host loopback is disabled, which callers must turn
// into an error the way Docker does for an unset host-gateway-ip.
func HostGateway(cfg Config) netip.Addr {
	if !cfg.HostLoopback {
		return netip.Addr{}
	}
	if !cfg.UplinkGateway.IsValid() {
		return DefaultUplinkGateway
	}
	return cfg.UplinkGateway
}

// uplinkDNS is the resolver containers fall back to.
func (cfg Config) uplinkDNS() netip.Addr {
	if !cfg.UplinkGateway.IsValid() {
		return DefaultUplinkGateway
	}
	return cfg.UplinkGateway
}

// UplinkGatewayOf reads the gateway of the default route through uplink,
// so the engine follows whichever uplink driver the daemon runs
// (RootlessKit's numbers it 10.0.2.1, warren's 10.0.2.2).
func UplinkGatewayOf(uplink string) (netip.Addr, error) {
	link, err := netlink.LinkByName(uplink)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("uplink %s: %w", uplink, err)
	}
	routes, err := netlink.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("routes of %s: %w", uplink, err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			if gw, ok := netip.AddrFromSlice(r.Gw.To4()); ok {
				return gw, nil
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("uplink %s has no default route", uplink)
}
