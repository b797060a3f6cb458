package uplink

import (
	"context"
	"net"
	"strings"
)

// hostResolver answers the uplink's DNS from the host, the way programs on
// the host resolve: gvisor-tap-vsock asks for fully qualified names
// ("localhost."), and Go's resolver skips /etc/hosts for those and asks the
// host's nameserver instead, so names only the host's /etc/hosts knows
// failed and queries for them left the machine. Address lookups go without
// the trailing dot; the rest is the plain resolver's.
type hostResolver struct{ *net.Resolver }

func (r hostResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return r.Resolver.LookupIPAddr(ctx, strings.TrimSuffix(host, "."))
}

func (r hostResolver) LookupCNAME(ctx context.Context, host string) (string, error) {
	return r.Resolver.LookupCNAME(ctx, strings.TrimSuffix(host, "."))
}
