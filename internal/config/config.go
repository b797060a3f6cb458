// Package config is the daemon's configuration: one Config, parsed from
// `warren daemon`'s flags once, checked by one Validate, and handed whole to
// every part — the bootstrap and the uplink in the parent half, and, encoded
// once (Encode, Decode), the engine and its network inside the namespace.
// Every default is defined here and nowhere else.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"warren/portfwd"
)

// Defaults of the daemon's options, Docker's where Docker has one.
const (
	// DefaultMTU is the uplink's (tap0's), and the bridge's unless set:
	// the largest an IPv4 packet through the uplink's netstack can carry.
	DefaultMTU = 65520
	// MinMTU is IPv6's minimum, which the containers' links also carry.
	MinMTU = 1280
	// DefaultSubnet is Docker's docker0 subnet.
	DefaultSubnet = "172.17.0.0/16"
	// DefaultUplinkSubnet is the namespace's uplink network, numbered as
	// slirp4netns does (netstack/uplink: tap0 .100, gateway and DNS .2).
	DefaultUplinkSubnet = "10.0.2.0/24"
	// DefaultPortRange is where -P and ip::port pick host ports.
	DefaultPortRange = "49153-65535"
)

// Config is everything `warren daemon` is told. Start from Defaults: the
// zero Config turns inter-container traffic off and fails Validate.
type Config struct {
	Paths
	// MTU of the uplink tap0, the bridge and the veths.
	MTU int
	// Subnet of the containers' bridge, "172.17.0.0/16" as Docker's.
	Subnet string
	// UplinkSubnet is tap0's network; the parent's netstack is its gateway.
	UplinkSubnet string
	// ICC lets containers on the bridge talk to each other (Docker's --icc).
	ICC bool
	// HostLoopback lets containers reach the host's 127.0.0.1 through the
	// uplink's gateway (host.warren.internal). Off by default, as in
	// rootless Docker: the gateway then reaches only the host's other
	// addresses, as Docker's bridge gateway does.
	HostLoopback bool
	// PortRange is where -P picks host ports, "49153-65535".
	PortRange string
	Debug     bool
}

// Defaults is the configuration of a plain `warren daemon` on folders p.
func Defaults(p Paths) Config {
	return Config{
		Paths:        p,
		MTU:          DefaultMTU,
		Subnet:       DefaultSubnet,
		UplinkSubnet: DefaultUplinkSubnet,
		ICC:          true,
		PortRange:    DefaultPortRange,
	}
}

// Validate checks c, so that a mistake fails in one line before the
// daemon starts, not later inside the namespace. After it the accessors
// below cannot fail.
func (c Config) Validate() error {
	if c.MTU < MinMTU || c.MTU > DefaultMTU {
		return fmt.Errorf("invalid --mtu %d: want %d-%d", c.MTU, MinMTU, DefaultMTU)
	}
	if p, err := netip.ParsePrefix(c.Subnet); err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return fmt.Errorf("invalid --subnet %q: want an IPv4 CIDR such as %s", c.Subnet, DefaultSubnet)
	}
	if p, err := netip.ParsePrefix(c.UplinkSubnet); err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() > 24 {
		return fmt.Errorf("invalid uplink subnet %q: want an IPv4 network of /24 or larger such as %s", c.UplinkSubnet, DefaultUplinkSubnet)
	}
	if _, err := portfwd.ParseRange(c.PortRange); err != nil {
		return fmt.Errorf("invalid --port-range %q: want START-END such as %s", c.PortRange, DefaultPortRange)
	}
	if c.RuntimeDir == "" || c.DataDir == "" {
		return errors.New("daemon paths are not set")
	}
	return nil
}

// BridgeSubnet is Subnet, masked. Call it on a validated Config.
func (c Config) BridgeSubnet() netip.Prefix {
	return netip.MustParsePrefix(c.Subnet).Masked()
}

// Uplink is UplinkSubnet. Call it on a validated Config.
func (c Config) Uplink() netip.Prefix { return netip.MustParsePrefix(c.UplinkSubnet) }

// Ports is PortRange. Call it on a validated Config.
func (c Config) Ports() portfwd.Range {
	r, err := portfwd.ParseRange(c.PortRange)
	if err != nil {
		panic(err)
	}
	return r
}

// Encode is the one form in which the parent half hands c to the engine.
func (c Config) Encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain strings, numbers and booleans always marshal
	}
	return string(b)
}

// Decode reads what Encode wrote and validates it.
func Decode(s string) (Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Config{}, fmt.Errorf("daemon config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
