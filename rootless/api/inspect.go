package api

import (
	"net/netip"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// legacyInspect is GET /containers/{id}/json as API < 1.52 shapes it. The
// outer Config and NetworkSettings shadow the embedded ones in JSON.
type legacyInspect struct {
	*container.InspectResponse
	Config          *legacyConfig          `json:",omitempty"`
	NetworkSettings *legacyNetworkSettings `json:",omitempty"`
}

type legacyConfig struct {
	*container.Config
	MacAddress string `json:",omitempty"`
}

// legacyNetworkSettings adds the top-level fields API 1.52 removed (they
// described the default bridge endpoint). SandboxID and SandboxKey are still
// in the embedded struct.
type legacyNetworkSettings struct {
	*container.NetworkSettings
	Bridge                 string
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	SecondaryIPAddresses   []legacyAddress
	SecondaryIPv6Addresses []legacyAddress
	EndpointID             string
	Gateway                string
	GlobalIPv6Address      string
	GlobalIPv6PrefixLen    int
	IPAddress              string
	IPPrefixLen            int
	IPv6Gateway            string
	MacAddress             string
}

// legacyAddress is Docker 28's network.Address, used by the secondary
// address lists (always null: Docker never filled them on the bridge).
type legacyAddress struct {
	Addr      string
	PrefixLen int
}

// shapeInspect returns what to encode for an inspect at the given API
// version: the response itself from 1.52 on, else the response with the
// removed bridge fields restored from the "bridge" endpoint, empty when the
// container has none, exactly as Docker 28 printed them. The 28.2.2 CLI
// always speaks 1.50 and templates like {{.NetworkSettings.IPAddress}} are
// everywhere.
func shapeInspect(resp *container.InspectResponse, version string) any {
	if !versionLess(version, "1.52") || resp == nil {
		return resp
	}
	var ep network.EndpointSettings
	if resp.NetworkSettings != nil {
		if bridge := resp.NetworkSettings.Networks[network.NetworkBridge]; bridge != nil {
			ep = *bridge
		}
	}
	out := &legacyInspect{InspectResponse: resp}
	if resp.Config != nil {
		out.Config = &legacyConfig{Config: resp.Config, MacAddress: ep.MacAddress.String()}
	}
	if resp.NetworkSettings != nil {
		out.NetworkSettings = &legacyNetworkSettings{
			NetworkSettings:     resp.NetworkSettings,
			EndpointID:          ep.EndpointID,
			Gateway:             addrString(ep.Gateway),
			GlobalIPv6Address:   addrString(ep.GlobalIPv6Address),
			GlobalIPv6PrefixLen: ep.GlobalIPv6PrefixLen,
			IPAddress:           addrString(ep.IPAddress),
			IPPrefixLen:         ep.IPPrefixLen,
			IPv6Gateway:         addrString(ep.IPv6Gateway),
			MacAddress:          ep.MacAddress.String(),
		}
	}
	return out
}

// addrString prints an address, the zero address as "" (not "invalid IP").
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
