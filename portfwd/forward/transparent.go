package forward

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// How a container's replies find a transparent socket. The child dials
// the container from the client's own address (IP_TRANSPARENT; a TCP
// connection, or a UDP flow's connected socket); the
// container answers that address through its gateway, the engine's
// namespace, where the address is not local and would be routed out of
// the uplink. So:
//
//   - the dialling socket carries SO_MARK dialMark;
//   - nftables' output hook copies it into the connection as replyMark
//     (ct mark), and prerouting copies a connection's replyMark onto each
//     of its packets (meta mark);
//   - the policy rule "fwmark replyMark lookup routeTable" and the route
//     "local 0.0.0.0/0 dev lo table routeTable" deliver them locally,
//     where the transparent socket takes them.
//
// Two marks, not one: the socket's mark also steers its own route lookup,
// and with replyMark the SYN itself would be "delivered" locally.
const (
	dialMark   = 0x77700001
	replyMark  = 0x77700002
	routeTable = 30583 // 0x7777
	rulePrio   = 100
	nftTable   = "warren-portfwd"
)

// transparency sets up the routing once, on the first client that needs it.
type transparency struct {
	once sync.Once
	err  error
}

// wantTransparent: only IPv4 clients from outside the host's loopback,
// to a container address (not a loopback one), and only once the routing
// is in place. Loopback clients are seen as the gateway, as with Docker.
func (d *Child) wantTransparent(client, target netip.AddrPort) bool {
	if d.NoTransparent {
		return false
	}
	c, t := client.Addr().Unmap(), target.Addr().Unmap()
	if !c.Is4() || c.IsLoopback() || c.IsUnspecified() || !t.Is4() || t.IsLoopback() {
		return false
	}
	d.transparent.once.Do(func() {
		d.transparent.err = setupTransparentRouting()
		if d.transparent.err != nil {
			d.logf("client source addresses will not be kept: %v", d.transparent.err)
		}
	})
	return d.transparent.err == nil
}

func transparentSockopts(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TRANSPARENT, 1); err != nil {
		return fmt.Errorf("IP_TRANSPARENT: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, dialMark); err != nil {
		return fmt.Errorf("SO_MARK: %w", err)
	}
	return nil
}

// setupTransparentRouting installs the route, the rule and the nftables
// table in the current network namespace, all or nothing.
func setupTransparentRouting() (err error) {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	route := localRoute(lo.Attrs().Index)
	if err := netlink.RouteReplace(route); err != nil {
		return fmt.Errorf("add route local 0.0.0.0/0 dev lo table %d: %w", routeTable, err)
	}
	defer func() {
		if err != nil {
			_ = netlink.RouteDel(route)
		}
	}()
	rule := markRule()
	if err := netlink.RuleAdd(rule); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule fwmark %#x lookup %d: %w", replyMark, routeTable, err)
	}
	defer func() {
		if err != nil {
			_ = netlink.RuleDel(rule)
		}
	}()
	return installMarkTable()
}

func localRoute(loIndex int) *netlink.Route {
	return &netlink.Route{
		Table:     routeTable,
		Type:      unix.RTN_LOCAL,
		Scope:     netlink.SCOPE_HOST,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		LinkIndex: loIndex,
	}
}

func markRule() *netlink.Rule {
	r := netlink.NewRule()
	r.Family = unix.AF_INET
	r.Priority = rulePrio
	r.Mark = replyMark
	mask := uint32(0xffffffff)
	r.Mask = &mask
	r.Table = routeTable
	return r
}

var markTable = &nftables.Table{Name: nftTable, Family: nftables.TableFamilyIPv4}

// installMarkTable replaces warren-portfwd's table in one transaction
// (adding an existing table is a no-op, deleting it drops leftovers).
func installMarkTable() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	c.AddTable(markTable)
	c.DelTable(markTable)
	c.AddTable(markTable)
	out := c.AddChain(&nftables.Chain{
		Name: "output", Table: markTable, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityMangle,
	})
	pre := c.AddChain(&nftables.Chain{
		Name: "prerouting", Table: markTable, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityMangle,
	})
	// output: meta mark dialMark ct mark set replyMark
	c.AddRule(&nftables.Rule{Table: markTable, Chain: out, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(dialMark)},
		&expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint32(replyMark)},
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true},
	}})
	// prerouting: ct mark replyMark meta mark set replyMark
	c.AddRule(&nftables.Rule{Table: markTable, Chain: pre, Exprs: []expr.Any{
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(replyMark)},
		&expr.Immediate{Register: 1, Data: binaryutil.NativeEndian.PutUint32(replyMark)},
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1, SourceRegister: true},
	}})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("install nftables table %s: %w", nftTable, err)
	}
	return nil
}
