package config

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Defaults(Paths{RuntimeDir: "/r", DataDir: "/d"})
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if ok.HostLoopback {
		t.Error("defaults open the host's loopback to containers")
	}
	for _, tt := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"mtu high", func(c *Config) { c.MTU = 70000 }, "invalid --mtu 70000: want 1280-65520"},
		{"mtu low", func(c *Config) { c.MTU = 576 }, "invalid --mtu 576: want 1280-65520"},
		{"mtu zero", func(c *Config) { c.MTU = 0 }, "invalid --mtu 0: want 1280-65520"},
		{"subnet v6", func(c *Config) { c.Subnet = "fd00::/64" }, `invalid --subnet "fd00::/64": want an IPv4 CIDR such as 172.17.0.0/16`},
		{"subnet small", func(c *Config) { c.Subnet = "10.1.2.0/31" }, `invalid --subnet "10.1.2.0/31": want an IPv4 CIDR such as 172.17.0.0/16`},
		{"subnet form", func(c *Config) { c.Subnet = "10.1.2.3" }, `invalid --subnet "10.1.2.3": want an IPv4 CIDR such as 172.17.0.0/16`},
		{"uplink", func(c *Config) { c.UplinkSubnet = "10.0.2.0/25" }, `invalid uplink subnet "10.0.2.0/25": want an IPv4 network of /24 or larger such as 10.0.2.0/24`},
		{"range", func(c *Config) { c.PortRange = "60000-50000" }, `invalid --port-range "60000-50000": want START-END such as 49153-65535`},
		{"range form", func(c *Config) { c.PortRange = "8080" }, `invalid --port-range "8080": want START-END such as 49153-65535`},
		{"paths", func(c *Config) { c.DataDir = "" }, "daemon paths are not set"},
	} {
		c := ok
		tt.edit(&c)
		if err := c.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	c := Defaults(Paths{RuntimeDir: "/r", DataDir: "/d"})
	c.MTU, c.Subnet, c.ICC, c.HostLoopback, c.PortRange, c.Debug = 1500, "10.10.0.0/16", false, true, "50000-50100", true
	got, err := Decode(c.Encode())
	if err != nil || got != c {
		t.Fatalf("Decode(Encode(c)) = %+v, %v; want %+v", got, err, c)
	}
	if got.BridgeSubnet().String() != "10.10.0.0/16" || got.Uplink().String() != "10.0.2.0/24" || got.Ports().Start != 50000 || got.Ports().End != 50100 {
		t.Errorf("accessors: %s %s %v", got.BridgeSubnet(), got.Uplink(), got.Ports())
	}
	bad := c
	bad.MTU = 1
	if _, err := Decode(bad.Encode()); err == nil || err.Error() != "invalid --mtu 1: want 1280-65520" {
		t.Errorf("Decode of an invalid config: %v", err)
	}
	var se interface{ Unwrap() error }
	if _, err := Decode("{"); err == nil || !errors.As(err, &se) {
		t.Errorf("Decode of bad JSON: %v", err)
	}
}
