package api

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestShapeInspect(t *testing.T) {
	bridged := func() *container.InspectResponse {
		return &container.InspectResponse{
			Name:   "/web",
			Config: &container.Config{Image: "busybox"},
			NetworkSettings: &container.NetworkSettings{SandboxKey: "/run/netns/x", Networks: map[string]*network.EndpointSettings{"bridge": {
				IPAddress: netip.MustParseAddr("172.17.0.2"), Gateway: netip.MustParseAddr("172.17.0.1"), IPPrefixLen: 16,
				MacAddress: network.HardwareAddr{2, 0x42, 0xac, 0x11, 0, 2}, EndpointID: "ep",
			}}},
		}
	}
	noNet := func() *container.InspectResponse {
		return &container.InspectResponse{Name: "/x", Config: &container.Config{}, NetworkSettings: &container.NetworkSettings{}}
	}
	tests := []struct {
		name    string
		resp    *container.InspectResponse
		version string
		// want are NetworkSettings fields; nil means the key must be absent.
		want       map[string]any
		wantConfig map[string]any
	}{
		{
			name: "1.50 bridged", resp: bridged(), version: "1.50",
			want: map[string]any{
				"IPAddress": "172.17.0.2", "Gateway": "172.17.0.1", "IPPrefixLen": 16.0,
				"MacAddress": "02:42:ac:11:00:02", "EndpointID": "ep", "Bridge": "",
				"GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0.0, "IPv6Gateway": "",
				"HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0.0,
				"SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil,
				"SandboxKey": "/run/netns/x",
			},
			wantConfig: map[string]any{"MacAddress": "02:42:ac:11:00:02", "Image": "busybox"},
		},
		{
			name: "1.50 without bridge endpoint prints empty values", resp: noNet(), version: "1.50",
			want: map[string]any{"IPAddress": "", "Gateway": "", "IPPrefixLen": 0.0, "MacAddress": "", "EndpointID": ""},
		},
		{
			name: "1.52 has no legacy fields", resp: bridged(), version: "1.52",
			want: map[string]any{"SandboxKey": "/run/netns/x"},
		},
	}
	for _, tt := range tests {
		b, err := json.Marshal(shapeInspect(tt.resp, tt.version))
		if err != nil {
			t.Fatalf("%s: marshal: %v", tt.name, err)
		}
		var got struct {
			Name            string
			Config          map[string]any
			NetworkSettings map[string]any
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Name != tt.resp.Name {
			t.Errorf("%s: Name = %q, embedded fields lost", tt.name, got.Name)
		}
		for k, v := range tt.want {
			gv, ok := got.NetworkSettings[k]
			if !ok || !reflect.DeepEqual(gv, v) {
				t.Errorf("%s: NetworkSettings.%s = %#v (present %v), want %#v", tt.name, k, gv, ok, v)
			}
		}
		if !versionLess(tt.version, "1.52") {
			for _, k := range []string{"IPAddress", "Gateway", "MacAddress", "Bridge"} {
				if _, ok := got.NetworkSettings[k]; ok {
					t.Errorf("%s: NetworkSettings.%s present at %s", tt.name, k, tt.version)
				}
			}
			if _, ok := got.Config["MacAddress"]; ok {
				t.Errorf("%s: Config.MacAddress present at %s", tt.name, tt.version)
			}
		}
		for k, v := range tt.wantConfig {
			if gv := got.Config[k]; !reflect.DeepEqual(gv, v) {
				t.Errorf("%s: Config.%s = %#v, want %#v", tt.name, k, gv, v)
			}
		}
	}
}
