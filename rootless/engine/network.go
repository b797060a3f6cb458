package engine

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// hostGateway is the network's address of the host; invalid without one.
func (e *Engine) hostGateway() netip.Addr {
	if e.network == nil {
		return netip.Addr{}
	}
	return e.network.HostGateway()
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
