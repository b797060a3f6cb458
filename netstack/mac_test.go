package netstack

import (
	"net/netip"
	"testing"

	"warren/internal/config"
)

func TestMACFromIP(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"172.17.0.2", "02:42:ac:11:00:02"},
		{"172.17.255.254", "02:42:ac:11:ff:fe"},
		{"10.88.0.3", "02:42:0a:58:00:03"},
	}
	for _, tt := range tests {
		if got := MACFromIP(netip.MustParseAddr(tt.ip)).String(); got != tt.want {
			t.Errorf("MACFromIP(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
}

func TestHostVethName(t *testing.T) {
	tests := []struct{ id, want string }{
		{"2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e", "veth2f3e4d5"},
		{"abcdef0", "vethabcdef0"},
		{"web", ""},         // hashed
		{"ABCDEF0123", ""},  // not lower hex: hashed
		{"a/b:c d e f", ""}, // would be an invalid ifname: hashed
	}
	for _, tt := range tests {
		got := hostVethName(tt.id)
		if len(got) > 15 || len(got) != len("veth")+7 || got[:4] != "veth" || !isLowerHex(got[4:]) {
			t.Errorf("hostVethName(%q) = %q: not veth + 7 hex", tt.id, got)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("hostVethName(%q) = %q, want %q", tt.id, got, tt.want)
		}
		if again := hostVethName(tt.id); again != got {
			t.Errorf("hostVethName(%q) not stable: %q then %q", tt.id, got, again)
		}
	}
}

func TestHostGateway(t *testing.T) {
	cfg := DefaultConfig()
	if got := HostGateway(cfg); got != netip.MustParseAddr("10.0.2.2") {
		t.Errorf("HostGateway = %s, want 10.0.2.2", got)
	}
	if got := HostGateway(Config{}); got != netip.MustParseAddr("10.0.2.2") {
		t.Errorf("HostGateway of a zero uplink = %s, want 10.0.2.2", got)
	}
	cfg.UplinkGateway = netip.MustParseAddr("10.0.2.1") // RootlessKit's own driver
	if got := HostGateway(cfg); got != cfg.UplinkGateway {
		t.Errorf("HostGateway = %s, want %s", got, cfg.UplinkGateway)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Subnet != testSubnet || cfg.MTU != 65520 || cfg.Uplink != "tap0" {
		t.Errorf("defaults = %+v", cfg)
	}
	if got := cfg.Gateway(); got != netip.MustParseAddr("172.17.0.1") {
		t.Errorf("Gateway = %s, want 172.17.0.1", got)
	}
	for _, bad := range []Config{
		{Subnet: netip.MustParsePrefix("fd00::/64")},
		{Subnet: netip.MustParsePrefix("10.0.0.0/31")},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// testSubnet is the daemon's default bridge subnet.
var testSubnet = netip.MustParsePrefix(config.DefaultSubnet)
