package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// tableName names warren's nftables tables: one of family ip (NAT and
// routed forwarding) and, with --icc=false, one of family bridge.
const tableName = "warren"

// linkTag starts the UserData of the rules AllowLink adds, so that they
// can be found again and removed when an endpoint goes.
const linkTag = "warren-link "

// PortProto is one port of a linked container: 5432/tcp.
type PortProto struct {
	Port  uint16
	Proto string // "tcp" or "udp"
}

func (p PortProto) String() string { return fmt.Sprintf("%d/%s", p.Port, p.Proto) }

// firewall writes warren's nftables rules in the engine's namespace.
type firewall struct {
	nsFd   int // the engine's network namespace
	subnet netip.Prefix
	bridge string
	uplink string
	icc    bool
}

var (
	natTable    = &nftables.Table{Name: tableName, Family: nftables.TableFamilyIPv4}
	bridgeTable = &nftables.Table{Name: tableName, Family: nftables.TableFamilyBridge}
	// bridgeForward is the --icc=false chain; AllowLink inserts into it.
	bridgeForward = &nftables.Chain{Name: "forward", Table: bridgeTable}
)

func (f *firewall) conn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(f.nsFd))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return c, nil
}

// install replaces warren's tables, left over or not, in one transaction:
// adding an existing table is a no-op and deleting it then removes whatever
// a crashed engine left, so no rule is ever missing in between.
func (f *firewall) install() error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	for _, t := range []*nftables.Table{natTable, bridgeTable} {
		c.AddTable(t)
		c.DelTable(t)
	}
	f.addNAT(c)
	if !f.icc {
		f.addICC(c)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("install nftables table %s: %w", tableName, err)
	}
	return nil
}

// remove deletes warren's tables; missing ones are fine.
func (f *firewall) remove() error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	for _, t := range []*nftables.Table{natTable, bridgeTable} {
		c.AddTable(t)
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove nftables table %s: %w", tableName, err)
	}
	return nil
}

// addNAT: masquerade the subnet out of the uplink (the uplink's gateway
// knows no route back to it), and forward only what the containers start
// plus its replies, as Docker's FORWARD policy does.
func (f *firewall) addNAT(c *nftables.Conn) {
	c.AddTable(natTable)
	post := c.AddChain(&nftables.Chain{
		Name: "postrouting", Table: natTable, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	})
	c.AddRule(&nftables.Rule{Table: natTable, Chain: post, Exprs: concat(
		ipInPrefix(12, f.subnet), // ip saddr
		ifname(expr.MetaKeyOIFNAME, f.uplink, false),
		[]expr.Any{&expr.Masq{}},
	)})

	drop := nftables.ChainPolicyDrop
	fwd := c.AddChain(&nftables.Chain{
		Name: "forward", Table: natTable, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter,
		Policy: &drop,
	})
	c.AddRule(&nftables.Rule{Table: natTable, Chain: fwd, Exprs: concat(
		ctStateIn(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept())})
	c.AddRule(&nftables.Rule{Table: natTable, Chain: fwd, Exprs: concat(
		ifname(expr.MetaKeyIIFNAME, f.bridge, false), accept())})
}

// addICC drops IP between two containers' ports of the bridge. Bridged
// frames never reach the ip family's forward hook without br_netfilter,
// which a rootless engine cannot count on, so the policy lives in the
// bridge family. ARP still passes, as with Docker.
func (f *firewall) addICC(c *nftables.Conn) {
	c.AddTable(bridgeTable)
	accept := nftables.ChainPolicyAccept
	ch := c.AddChain(&nftables.Chain{
		Name: bridgeForward.Name, Table: bridgeTable, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter,
		Policy: &accept,
	})
	for _, proto := range []uint16{unix.ETH_P_IP, unix.ETH_P_IPV6} {
		c.AddRule(&nftables.Rule{Table: bridgeTable, Chain: ch, Exprs: concat(
			ifname(expr.MetaKeyIIFNAME, vethPrefix, true),
			ifname(expr.MetaKeyOIFNAME, vethPrefix, true),
			etherType(proto),
			[]expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}},
		)})
	}
}

// allowLink lets src reach dst's ports through the icc drop, and dst
// answer from them: Docker's two stateless rules per linked port.
func (f *firewall) allowLink(src, dst netip.Addr, ports []PortProto) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	tag := []byte(linkTag + src.String() + " " + dst.String())
	for _, p := range ports {
		proto, err := l4proto(p.Proto)
		if err != nil {
			return err
		}
		// Inserted, so they come before the drop rules.
		c.InsertRule(&nftables.Rule{Table: bridgeTable, Chain: bridgeForward, UserData: tag,
			Exprs: linkRule(src, dst, proto, 2, p.Port)}) // dport
		c.InsertRule(&nftables.Rule{Table: bridgeTable, Chain: bridgeForward, UserData: tag,
			Exprs: linkRule(dst, src, proto, 0, p.Port)}) // sport
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("allow link %s -> %s %v: %w", src, dst, ports, err)
	}
	return nil
}

// removeLinks deletes the link rules that mention addr, either side.
func (f *firewall) removeLinks(addr netip.Addr) error {
	c, err := f.conn()
	if err != nil {
		return err
	}
	rules, err := c.GetRules(bridgeTable, bridgeForward)
	if err != nil {
		return fmt.Errorf("list link rules: %w", err)
	}
	n := 0
	for _, r := range rules {
		if linkMentions(r.UserData, addr) {
			if err := c.DelRule(r); err != nil {
				return fmt.Errorf("remove link rule: %w", err)
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove links of %s: %w", addr, err)
	}
	return nil
}

// linkMentions reports whether a rule's UserData is a link tag naming addr.
func linkMentions(userData []byte, addr netip.Addr) bool {
	rest, ok := strings.CutPrefix(string(userData), linkTag)
	if !ok {
		return false
	}
	for _, f := range strings.Fields(rest) {
		if f == addr.String() {
			return true
		}
	}
	return false
}

func l4proto(name string) (byte, error) {
	switch name {
	case "tcp", "":
		return unix.IPPROTO_TCP, nil
	case "udp":
		return unix.IPPROTO_UDP, nil
	case "sctp":
		return unix.IPPROTO_SCTP, nil
	}
	return 0, fmt.Errorf("invalid proto %q", name)
}

// linkRule: ip saddr from, ip daddr to, l4proto proto, th [s|d]port port accept.
// portOffset is 0 for the source port, 2 for the destination port.
func linkRule(from, to netip.Addr, proto byte, portOffset uint32, port uint16) []expr.Any {
	return concat(
		etherType(unix.ETH_P_IP),
		ifname(expr.MetaKeyIIFNAME, vethPrefix, true),
		payloadEq(expr.PayloadBaseNetworkHeader, 12, from.AsSlice()),
		payloadEq(expr.PayloadBaseNetworkHeader, 16, to.AsSlice()),
		[]expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		},
		payloadEq(expr.PayloadBaseTransportHeader, portOffset, binaryutil.BigEndian.PutUint16(port)),
		accept(),
	)
}

// Expression builders, each the compiled form of one nft match.

func concat(parts ...[]expr.Any) []expr.Any {
	var all []expr.Any
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

func accept() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }

// ifname matches an interface name; with prefix, only its first bytes
// (nft's "veth*").
func ifname(key expr.MetaKey, name string, prefix bool) []expr.Any {
	data := []byte(name)
	if !prefix {
		data = append(data, 0)
	}
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// etherType matches the frame's protocol (nft: meta protocol ip).
func etherType(proto uint16) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(proto)},
	}
}

func payloadEq(base expr.PayloadBase, offset uint32, data []byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: base, Offset: offset, Len: uint32(len(data))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// ipInPrefix matches the IPv4 address at offset (12 saddr, 16 daddr) in p.
func ipInPrefix(offset uint32, p netip.Prefix) []expr.Any {
	mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// ctStateIn matches when the connection state has any of bits.
func ctStateIn(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}
