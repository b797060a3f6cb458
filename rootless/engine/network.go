package engine

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	rkclient "github.com/rootless-containers/rootlesskit/v3/pkg/api/client"

	"warren/netstack"
	"warren/portfwd"
)

// bridgeNetwork adapts netstack's bridge to the engine's Network seam.
type bridgeNetwork struct{ b *netstack.Bridge }

func (n bridgeNetwork) Attach(_ context.Context, id string, pid int) (*Endpoint, error) {
	ep, err := n.b.Attach(id, pid)
	if err != nil {
		return nil, err
	}
	return &Endpoint{IP: ep.IP, PrefixLen: ep.PrefixLen, Gateway: ep.Gateway, MAC: ep.MAC}, nil
}

func (n bridgeNetwork) Detach(id string) error { return n.b.Detach(id) }

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

func (n bridgeNetwork) AllowLink(src, dst netip.Addr, ports []netstack.PortProto) error {
	return n.b.AllowLink(src, dst, ports)
}

// NetworkOptions are the daemon's network flags.
type NetworkOptions struct {
	MTU                 int
	Subnet              string
	DisableHostLoopback bool
	ICC                 bool
	PortRange           string
	// RootlessKitAPI is the socket of RootlessKit's API in the daemon's
	// parent, whose port manager binds published ports on the host.
	RootlessKitAPI string
}

// SetupNetwork builds the containers' bridge in the engine's namespace,
// behind the uplink the daemon gave it, and the port publisher. The
// returned func removes the bridge.
func (e *Engine) SetupNetwork(o NetworkOptions) (func() error, error) {
	cfg := netstack.DefaultConfig()
	cfg.ICC = o.ICC
	cfg.HostLoopback = !o.DisableHostLoopback
	if o.MTU > 0 {
		cfg.MTU = o.MTU
	}
	if o.Subnet != "" {
		p, err := netip.ParsePrefix(o.Subnet)
		if err != nil {
			return nil, fmt.Errorf("--subnet %q: %w", o.Subnet, err)
		}
		cfg.Subnet = p
	}
	rng := portfwd.DefaultRange
	if o.PortRange != "" {
		r, err := portfwd.ParseRange(o.PortRange)
		if err != nil {
			return nil, err
		}
		rng = r
	}
	gw, err := netstack.UplinkGatewayOf(cfg.Uplink)
	if err != nil {
		return nil, err
	}
	cfg.UplinkGateway = gw
	b, err := netstack.Setup(cfg)
	if err != nil {
		return nil, err
	}
	e.Network = bridgeNetwork{b}
	e.HostGateway = netstack.HostGateway(cfg)
	if store, ok := e.images.(interface{ SetHostLoopback(netip.Addr) }); ok && e.HostGateway.IsValid() {
		// Registries on the host's loopback (docker run localhost:5000/x).
		store.SetHostLoopback(e.HostGateway)
	}
	e.resolvConf = b.ResolvConf
	if o.RootlessKitAPI != "" {
		rk, err := rkclient.New(o.RootlessKitAPI)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("RootlessKit API %s: %w", o.RootlessKitAPI, err)
		}
		e.Ports = portfwd.NewPublisher(rk.PortManager(), rng)
	}
	return b.Close, nil
}
