package main

import (
	"bytes"
	"testing"

	"warren/rootless/bootstrap"
)

// TestWriteChecks: one missing prerequisite is what makes `warren info`
// exit 1 (the scripts' and the e2e suite's one machine check).
func TestWriteChecks(t *testing.T) {
	ok := bootstrap.Check{Name: "ip", OK: true, Detail: "/usr/sbin/ip"}
	tun := bootstrap.Check{Name: "/dev/net/tun", Detail: "cannot open /dev/net/tun: permission denied", Fix: "sudo chmod 0666 /dev/net/tun"}
	for _, tc := range []struct {
		name   string
		checks []bootstrap.Check
		wantOK bool
		want   string
	}{
		{"all present", []bootstrap.Check{ok}, true, "Prerequisites:\n ip:  OK       /usr/sbin/ip\n"},
		{"one missing", []bootstrap.Check{ok, tun}, false, "Prerequisites:\n" +
			" ip:            OK       /usr/sbin/ip\n" +
			" /dev/net/tun:  MISSING  cannot open /dev/net/tun: permission denied\n" +
			"   Fix: sudo chmod 0666 /dev/net/tun\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := writeChecks(&b, tc.checks); got != tc.wantOK {
				t.Errorf("writeChecks = %v, want %v", got, tc.wantOK)
			}
			if b.String() != tc.want {
				t.Errorf("output:\n%q\nwant:\n%q", b.String(), tc.want)
			}
		})
	}
}
