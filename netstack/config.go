package netstack

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"warren/internal/config"
	"warren/netstack/uplink"
)

// DefaultUplinkGateway is the uplink's gateway in the namespace's default
// uplink subnet, as warren's own driver (netstack/uplink) and slirp4netns
// number it. The uplink serves DNS on the gateway address and leads it to
// the host (its loopback only with --host-loopback), so the one address is
// gateway, DNS and host at once. RootlessKit's bundled gvisor-tap-vsock
// driver puts all three on 10.0.2.1 instead; the engine reads the real one
// from tap0's default route (UplinkGatewayOf) into Config.UplinkGateway.
var DefaultUplinkGateway = netip.MustParseAddr(uplink.GatewayIP)

// Names of the engine's interfaces.
const (
	DefaultBridge = "warren0"
	DefaultUplink = "tap0"
)

// Config describes the containers' network; the daemon's Config
// (internal/config) fills it, validated. Start from DefaultConfig: the zero
// Config has ICC off.
type Config struct {
	// Subnet of the bridge; its first address is the bridge's (the
	// containers' gateway). IPv4, at most /30.
	Subnet netip.Prefix
	// MTU of the bridge and the veths; the uplink's by default.
	MTU int
	// Uplink is the interface the subnet is masqueraded out of.
	Uplink string
	// ICC allows container-to-container traffic on the bridge (Docker's
	// --icc, true by default). When false only AllowLink'ed ports pass.
	ICC bool
	// UplinkGateway is the uplink driver's gateway, also its DNS server
	// and the host (host.warren.internal); DefaultUplinkGateway when zero.
	UplinkGateway netip.Addr
}

// DefaultConfig is the network warren uses unless told otherwise.
func DefaultConfig() Config {
	return Config{
		Subnet:        netip.MustParsePrefix(config.DefaultSubnet),
		MTU:           config.DefaultMTU,
		Uplink:        DefaultUplink,
		ICC:           true,
		UplinkGateway: DefaultUplinkGateway,
	}
}

// withDefaults fills the zero fields of cfg; the daemon's Config validated
// the rest, and a Subnet that is no IPv4 network is refused.
func (cfg Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if !cfg.Subnet.IsValid() {
		cfg.Subnet = def.Subnet
	}
	if cfg.MTU == 0 {
		cfg.MTU = def.MTU
	}
	if cfg.Uplink == "" {
		cfg.Uplink = DefaultUplink
	}
	if !cfg.UplinkGateway.IsValid() {
		cfg.UplinkGateway = DefaultUplinkGateway
	}
	cfg.Subnet = cfg.Subnet.Masked()
	if !cfg.Subnet.Addr().Is4() || cfg.Subnet.Bits() > 30 {
		// Not a user's mistake (config.Validate has the user's text) but
		// a caller's, which the IPAM could not number.
		return cfg, fmt.Errorf("subnet %s: need an IPv4 subnet of at most /30", cfg.Subnet)
	}
	return cfg, nil
}

// Gateway is the bridge's address, the containers' default gateway: the
// subnet's first host address (172.17.0.1).
func (cfg Config) Gateway() netip.Addr {
	return cfg.Subnet.Masked().Addr().Next()
}

// HostGateway is the address containers use to reach the host
// (host.warren.internal, --add-host name:host-gateway): the uplink's
// gateway, which leads to the host's own address, and to its loopback too
// when the daemon runs with --host-loopback.
func HostGateway(cfg Config) netip.Addr {
	return cfg.uplinkDNS()
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
