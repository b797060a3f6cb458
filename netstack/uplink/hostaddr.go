package uplink

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// HostAddr is the host's own address that the uplink's gateway leads to
// while the host's loopback is closed to containers: the source address of
// the host's default route, else the first global IPv4 address of an
// interface that is up. A server listening there or on 0.0.0.0 is
// reachable as host.warren.internal; one on 127.0.0.1 only is not, as
// with Docker's bridge gateway.
func HostAddr() (netip.Addr, bool) {
	if a, ok := defaultRouteSrc(); ok {
		return a, true
	}
	ifcs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, ifc := range ifcs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := globalIPv4(ipn.IP); ok {
					return ip, true
				}
			}
		}
	}
	return netip.Addr{}, false
}

// defaultRouteSrc is the address the host sends from on its default route.
func defaultRouteSrc() (netip.Addr, bool) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, r := range routes {
		if r.Dst != nil && !r.Dst.IP.IsUnspecified() {
			continue
		}
		if ip, ok := globalIPv4(r.Src); ok {
			return ip, true
		}
		link, err := netlink.LinkByIndex(r.LinkIndex)
		if err != nil {
			continue
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ip, ok := globalIPv4(a.IP); ok {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func globalIPv4(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip.To4())
	if !ok || !a.IsGlobalUnicast() {
		return netip.Addr{}, false
	}
	return a, true
}
