package uplink

import (
	"encoding/binary"
	"testing"
)

// ipv4Frame builds an Ethernet frame with an IPv4 header (ihl 5) and the
// first four bytes of a transport header (the ports).
func ipv4Frame(proto byte, dst [4]byte, dstPort uint16, fragOff uint16) []byte {
	f := make([]byte, ethHeaderLen+20+8)
	binary.BigEndian.PutUint16(f[ethTypeOff:], ethTypeIPv4)
	ip := f[ethHeaderLen:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[ipFlagsFragOff:], fragOff)
	ip[ipProtoOff] = proto
	copy(ip[ipDstOff:], dst[:])
	binary.BigEndian.PutUint16(ip[20+2:], dstPort)
	return f
}

func TestToGatewayExceptDNS(t *testing.T) {
	gw := [4]byte{10, 0, 2, 2}
	other := [4]byte{10, 0, 2, 3}
	arp := make([]byte, 60)
	binary.BigEndian.PutUint16(arp[ethTypeOff:], 0x0806)
	tests := []struct {
		name  string
		frame []byte
		drop  bool
	}{
		{"tcp to gateway", ipv4Frame(protoTCP, gw, 5201, 0), true},
		{"udp to gateway", ipv4Frame(protoUDP, gw, 9999, 0), true},
		{"first fragment to gateway", ipv4Frame(protoUDP, gw, 9999, 0x2000), true},
		{"udp dns to gateway", ipv4Frame(protoUDP, gw, 53, 0), false},
		{"tcp dns to gateway", ipv4Frame(protoTCP, gw, 53, 0), false},
		{"later fragment to gateway", ipv4Frame(protoUDP, gw, 9999, 0x2010), false},
		{"icmp to gateway", ipv4Frame(1, gw, 0, 0), false},
		{"tcp elsewhere", ipv4Frame(protoTCP, other, 5201, 0), false},
		{"arp", arp, false},
		{"runt", make([]byte, 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := toGatewayExceptDNS(tt.frame, gw); got != tt.drop {
				t.Fatalf("drop = %v, want %v", got, tt.drop)
			}
		})
	}
}
