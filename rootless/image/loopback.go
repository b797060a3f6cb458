package image

import (
	"net"
	"net/netip"
)

// SetHostLoopback makes pulls from registries on the host's loopback
// (127.0.0.0/8, ::1, localhost) dial via instead: the engine runs in its own
// network namespace, whose loopback is not the host's, and via is the
// uplink address that maps to the host's 127.0.0.1.
func (s *Store) SetHostLoopback(via netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopbackVia = via
}

// viaLoopback rewrites a loopback host:port to via:port.
func viaLoopback(addr string, via netip.Addr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "localhost" {
		return net.JoinHostPort(via.String(), port)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return net.JoinHostPort(via.String(), port)
	}
	return addr
}
