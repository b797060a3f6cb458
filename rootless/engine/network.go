package engine

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"warren/linker"
	"warren/netstack"
)

// hostInternalName resolves to the host from every container: its own
// addresses, and its loopback only with the daemon's --host-loopback.
const hostInternalName = "host.warren.internal"

// hostsOf is what the container's /etc/hosts holds: host.warren.internal,
// --add-host entries, its links, and its own address while it has one.
func (e *Engine) hostsOf(c *Container, ep *Endpoint, links []linker.LinkHost) linker.Hosts {
	cfg, hc := c.rec.Config, c.rec.HostConfig
	h := linker.Hosts{IPv6: true, Hostname: cfg.Hostname, Domainname: cfg.Domainname, Links: links}
	if gw := e.hostGateway(); gw.IsValid() {
		h.Extra = append(h.Extra, linker.HostsEntry{IP: gw.String(), Names: []string{hostInternalName}})
	}
	for _, x := range hc.ExtraHosts {
		name, ip, err := e.extraHost(x)
		if err == nil {
			h.Extra = append(h.Extra, linker.HostsEntry{IP: ip, Names: []string{name}})
		}
	}
	if ep != nil && ep.IP.IsValid() {
		h.SelfIPs = []string{ep.IP.String()}
	}
	return h
}

// hostGateway is the network's address of the host; invalid without one.
func (e *Engine) hostGateway() netip.Addr {
	if e.network == nil {
		return netip.Addr{}
	}
	return e.network.HostGateway()
}

// extraHost reads one --add-host: "name:ip", "name=ip", or an ip of
// "host-gateway", the host's address (see hostGateway).
func (e *Engine) extraHost(x string) (name, ip string, err error) {
	name, ip, ok := strings.Cut(x, "=")
	if !ok {
		name, ip, ok = strings.Cut(x, ":")
	}
	ip = strings.Trim(ip, "[]")
	if !ok || name == "" {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid extra host: %q", x))
	}
	if ip == "host-gateway" {
		gw := e.hostGateway()
		if !gw.IsValid() {
			return "", "", errdefs.ErrInvalidArgument.WithMessage("unable to derive the IP value for host-gateway")
		}
		return name, gw.String(), nil
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid IP address in add-host: %q", ip))
	}
	return name, ip, nil
}

// resolvConfOf renders the container's resolv.conf from the engine's
// (RootlessKit's child points it at the uplink's DNS) with Docker's rules.
func (e *Engine) resolvConfOf(hc *container.HostConfig) []byte {
	host, _ := os.ReadFile("/etc/resolv.conf") // missing: the uplink's DNS is used
	var dns []string
	for _, a := range hc.DNS {
		dns = append(dns, a.String())
	}
	if e.network != nil {
		return e.network.ResolvConf(host, dns, hc.DNSSearch, hc.DNSOptions)
	}
	return netstack.ResolvConf(host, dns, hc.DNSSearch, hc.DNSOptions)
}

// checkPublishing refuses -p/-P where Docker does, and returns Docker's
// warning where it drops them.
func checkPublishing(cfg *container.Config, hc *container.HostConfig) (warnings []string, err error) {
	publishes := len(hc.PortBindings) > 0 || hc.PublishAllPorts
	switch {
	case hc.NetworkMode.IsContainer() && publishes:
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: port publishing and the container type network mode")
	case hc.NetworkMode.IsContainer() && len(cfg.ExposedPorts) > 0:
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: port exposing and the container type network mode")
	case hc.NetworkMode.IsHost() && publishes:
		return []string{"Published ports are discarded when using host network mode"}, nil
	}
	for p, bs := range hc.PortBindings {
		for _, b := range bs {
			if _, err := network.ParsePortRange(p.Port()); err != nil || !validHostPort(b.HostPort) {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid port specification: %q", b.HostPort))
			}
		}
	}
	return nil, nil
}

func validHostPort(s string) bool {
	if s == "" {
		return true
	}
	_, err := network.ParsePortRange(s + "/tcp")
	return err == nil
}

// publishError wraps a port failure the way Docker reports it on start.
func publishError(name, endpointID string, err error) error {
	return fmt.Errorf("failed to set up container networking: driver failed programming external connectivity on endpoint %s (%s): %w",
		strings.TrimPrefix(name, "/"), endpointID, err)
}

// portSummaries is ps's Ports from the live bindings: every binding, and
// the exposed-only ports without an address.
func portSummaries(ports network.PortMap) []container.PortSummary {
	out := []container.PortSummary{}
	for p, bs := range ports {
		if len(bs) == 0 {
			out = append(out, container.PortSummary{PrivatePort: p.Num(), Type: string(p.Proto())})
			continue
		}
		for _, b := range bs {
			var public uint16
			if n, err := network.ParsePort(b.HostPort + "/tcp"); err == nil {
				public = n.Num()
			}
			out = append(out, container.PortSummary{IP: b.HostIP, PrivatePort: p.Num(), PublicPort: public, Type: string(p.Proto())})
		}
	}
	return out
}
