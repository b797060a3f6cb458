package uplink

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"

	"warren/internal/config"
)

func TestAddrsFor(t *testing.T) {
	tests := []struct {
		subnet           string
		gateway, dns, ip string
		err              string
	}{
		{subnet: "10.0.2.0/24", gateway: "10.0.2.2", dns: "10.0.2.2", ip: "10.0.2.100"},
		{subnet: "192.168.100.0/24", gateway: "192.168.100.2", dns: "192.168.100.2", ip: "192.168.100.100"},
		{subnet: "10.8.0.0/16", gateway: "10.8.0.2", dns: "10.8.0.2", ip: "10.8.0.100"},
		{subnet: "10.0.2.0/25", err: "too small"},
		{subnet: "10.0.2.1/24", err: "host bits set (want 10.0.2.0/24)"},
		{subnet: "fd00::/64", err: "must be an IPv4 prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.subnet, func(t *testing.T) {
			a, err := AddrsFor(netip.MustParsePrefix(tt.subnet))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Gateway.String() != tt.gateway || a.DNS.String() != tt.dns || a.Child.String() != tt.ip {
				t.Fatalf("got gateway %s dns %s child %s", a.Gateway, a.DNS, a.Child)
			}
		})
	}
}

// The exported constants are what netstack and the engine use without a
// driver at hand; they must match what the driver derives.
func TestDefaultAddrsMatchConstants(t *testing.T) {
	a := DefaultAddrs()
	for _, c := range []struct{ name, got, want string }{
		{"GatewayIP", a.Gateway.String(), GatewayIP},
		{"DNSIP", a.DNS.String(), DNSIP},
		{"HostLoopbackIP", a.Gateway.String(), HostLoopbackIP},
		{"ChildIP", a.Child.String(), ChildIP},
		{"DefaultUplinkSubnet", a.Subnet.String(), config.DefaultUplinkSubnet},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, derived %s", c.name, c.want, c.got)
		}
	}
}

func TestNewParentDriverOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		mtu  int
		err  string
	}{
		{name: "defaults", mtu: 65520},
		{name: "mtu 1500", opts: Options{MTU: 1500}, mtu: 1500},
		{name: "v6 subnet", opts: Options{Subnet: netip.MustParsePrefix("fd00::/64")}, err: "IPv4"},
		{name: "small subnet", opts: Options{Subnet: netip.MustParsePrefix("10.0.2.0/28")}, err: "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewParentDriver(tt.opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.MTU() != tt.mtu {
				t.Fatalf("MTU() = %d, want %d", d.MTU(), tt.mtu)
			}
		})
	}
}

func TestGatewayConfigHostLoopback(t *testing.T) {
	gw := tcpip.AddrFrom4([4]byte{10, 0, 2, 2})
	for _, open := range []bool{false, true} {
		d, err := NewParentDriver(Options{HostLoopback: open})
		if err != nil {
			t.Fatal(err)
		}
		c := d.(*parentDriver).gatewayConfig()
		if c.addrs != DefaultAddrs() || c.mtu != config.DefaultMTU {
			t.Fatalf("config %+v", c)
		}
		got, mapped := c.nat[gw]
		if mapped != open || (mapped && got.String() != "127.0.0.1") {
			t.Fatalf("open=%v: NAT = %v", open, c.nat)
		}
		// Closed, the gateway leads to the host's own address instead.
		if (c.hostAddr != nil) == open {
			t.Fatalf("open=%v: hostAddr set = %v", open, c.hostAddr != nil)
		}
	}
}

func TestHostResolverReadsHostsFile(t *testing.T) {
	// "localhost." is what gvisor-tap-vsock asks for; the host's /etc/hosts
	// answers it, with no query leaving the machine.
	addrs, err := hostResolver{net.DefaultResolver}.LookupIPAddr(context.Background(), "localhost.")
	if err != nil || len(addrs) == 0 {
		t.Fatalf("LookupIPAddr(localhost.) = %v, %v", addrs, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			t.Errorf("localhost resolved to %v", a.IP)
		}
	}
}
