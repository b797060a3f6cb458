// Package netstack owns the containers' network inside the engine's
// namespace: the bridge warren0 and its address, the subnet's address
// allocation (IPAM), one veth pair per container (eth0, address, MAC, default
// route), the nftables table that masquerades the subnet out of the uplink
// and enforces --icc=false and --link exceptions, and the files a container
// reads to find its resolver (resolv.conf) and the host (host-gateway).
//
// The uplink itself (tap0 and the gvisor-tap-vsock gateway behind it) is
// brought up by the bootstrap; this package only routes to it. Everything
// here runs in the engine's network namespace and talks to the kernel over
// netlink: no ip, iptables or nft binaries.
//
// The uplink's gateway (DefaultUplinkGateway, 10.0.2.2, as netstack/uplink
// numbers it; RootlessKit's bundled gvisor-tap-vsock driver uses 10.0.2.1)
// is also the DNS server and the host's loopback: gvisor-tap-vsock serves
// DNS on the gateway address only, so slirp4netns' separate 10.0.2.3 does
// not exist there. Containers fall back to it for DNS and reach the host
// through it.
package netstack
