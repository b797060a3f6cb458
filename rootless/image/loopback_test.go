package image

import (
	"net/netip"
	"testing"
)

func TestViaLoopback(t *testing.T) {
	via := netip.MustParseAddr("10.0.2.2")
	for addr, want := range map[string]string{
		"127.0.0.1:5000":     "10.0.2.2:5000",
		"127.1.2.3:443":      "10.0.2.2:443",
		"localhost:5000":     "10.0.2.2:5000",
		"[::1]:5000":         "10.0.2.2:5000",
		"registry.test:5000": "registry.test:5000",
		"192.0.2.1:5000":     "192.0.2.1:5000",
		"noport":             "noport",
	} {
		if got := viaLoopback(addr, via); got != want {
			t.Errorf("viaLoopback(%q) = %q, want %q", addr, got, want)
		}
	}
}
