package image

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"github.com/google/go-containerregistry/pkg/v1/remote"
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

// transport is the HTTP transport pulls use.
func (s *Store) transport() http.RoundTripper {
	s.mu.Lock()
	via := s.loopbackVia
	s.mu.Unlock()
	if !via.IsValid() {
		return remote.DefaultTransport
	}
	base, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return remote.DefaultTransport
	}
	t := base.Clone()
	var d net.Dialer
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, viaLoopback(addr, via))
	}
	return t
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
