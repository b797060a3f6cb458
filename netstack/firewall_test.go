package netstack

import (
	"net/netip"
	"testing"
)

func TestLinkMentions(t *testing.T) {
	a, b, c := netip.MustParseAddr("172.17.0.2"), netip.MustParseAddr("172.17.0.3"), netip.MustParseAddr("172.17.0.20")
	tag := []byte(linkTag + "172.17.0.2 172.17.0.3")
	if !linkMentions(tag, a) || !linkMentions(tag, b) {
		t.Error("link tag does not mention its own addresses")
	}
	if linkMentions(tag, c) || linkMentions([]byte("other 172.17.0.2"), a) || linkMentions(nil, a) {
		t.Error("linkMentions matched what it should not")
	}
}

func TestL4Proto(t *testing.T) {
	tests := []struct {
		in   string
		want byte
		ok   bool
	}{{"tcp", 6, true}, {"", 6, true}, {"udp", 17, true}, {"sctp", 132, true}, {"icmp", 0, false}}
	for _, tt := range tests {
		got, err := l4proto(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("l4proto(%q) = %d, %v", tt.in, got, err)
		}
	}
}
