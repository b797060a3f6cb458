package image

import (
	"context"
	"net"
	"net/netip"
)

// DialFunc dials a TCP address, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// SetLoopbackDialer makes pulls from registries on the host's loopback
// (127.0.0.0/8, ::1, localhost) connect through dial: the engine runs in
// its own network namespace, whose loopback is not the host's, and dial
// reaches the host's (the daemon's parent dials for it). That is the
// daemon's own traffic; containers reach the host's loopback only with
// --host-loopback.
func (s *Store) SetLoopbackDialer(dial DialFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopbackDial = dial
}

// onLoopback tells whether host:port addr is on the loopback, and spells
// localhost as 127.0.0.1.
func onLoopback(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), true
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return addr, true
	}
	return "", false
}
