package netstack

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
)

// MACFromIP derives a container's MAC address from its IPv4 address the
// way Docker's bridge does: the locally administered prefix 02:42 followed
// by the four address bytes (172.17.0.2 -> 02:42:ac:11:00:02). Addresses
// are unique on the bridge, so the MACs are too, and a reader of
// `ip neigh` sees which container a MAC belongs to. The bridge gets the
// gateway's, so no container's can equal it.
func MACFromIP(ip netip.Addr) net.HardwareAddr {
	a := ip.As4()
	return net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}
}

// vethPrefix starts every host-side veth name; the icc rules match on it.
const vethPrefix = "veth"

// hostVethName names the host side of id's veth pair: "veth" and seven
// characters, within the kernel's 15. Container ids are hex, so their first
// seven characters are used as is and match `docker ps`'s short id; any
// other id is hashed so the name stays a valid interface name.
func hostVethName(id string) string {
	if len(id) >= 7 && isLowerHex(id[:7]) {
		return vethPrefix + id[:7]
	}
	sum := sha256.Sum256([]byte(id))
	return vethPrefix + hex.EncodeToString(sum[:])[:7]
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
