package netstack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Bridge is the containers' network in the engine's namespace: warren0,
// its addresses and its nftables rules. Its methods are safe for concurrent
// use; netlink calls are made without holding its lock.
type Bridge struct {
	cfg     Config
	gateway netip.Addr
	ns      netns.NsHandle  // the engine's network namespace
	nl      *netlink.Handle // netlink bound to ns, whichever thread calls
	link    netlink.Link    // warren0
	fw      *firewall
	ipam    *IPAM

	mu        sync.Mutex
	endpoints map[string]*Endpoint // nil value: an Attach in progress
	// A detached container's veth is deleted in the background; these
	// close when that is done, by container and by its old address.
	unplugging     map[string]chan struct{}
	unpluggingAddr map[netip.Addr]chan struct{}
	unplugs        sync.WaitGroup
}

// ipForwardPath is the namespace's forwarding switch; /proc/sys/net
// follows the net namespace of the thread that opens it.
const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// Setup builds the containers' network in the current network namespace:
// bridge warren0 with the subnet's gateway address, IPv4 forwarding, and
// warren's nftables table. What a crashed engine left (the bridge, its
// veths, the tables) is replaced. On error nothing it made is left.
func Setup(cfg Config) (_ *Bridge, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ipam, err := NewIPAM(cfg.Subnet)
	if err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, gateway: cfg.Gateway(), ipam: ipam, endpoints: make(map[string]*Endpoint),
		unplugging: make(map[string]chan struct{}), unpluggingAddr: make(map[netip.Addr]chan struct{})}
	if b.ns, err = netns.Get(); err != nil {
		return nil, fmt.Errorf("open network namespace: %w", err)
	}
	defer func() {
		if err != nil {
			b.ns.Close()
		}
	}()
	if b.nl, err = netlink.NewHandleAt(b.ns); err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer func() {
		if err != nil {
			b.nl.Close()
		}
	}()
	b.fw = &firewall{nsFd: int(b.ns), subnet: cfg.Subnet, bridge: DefaultBridge, uplink: cfg.Uplink, icc: cfg.ICC}

	if err := b.removeStaleBridge(); err != nil {
		return nil, err
	}
	if err := b.createBridge(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = b.nl.LinkDel(b.link)
		}
	}()
	if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
		return nil, fmt.Errorf("enable IPv4 forwarding: %w", err)
	}
	if err := b.fw.install(); err != nil {
		_ = b.fw.remove() // the transaction is atomic; this only clears a stale table
		return nil, err
	}
	return b, nil
}

// removeStaleBridge deletes a warren0 left by an engine that did not
// Close, with the veths still plugged into it (their containers' peers go
// too: those containers lost their engine anyway).
func (b *Bridge) removeStaleBridge() error {
	old, err := b.nl.LinkByName(DefaultBridge)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", DefaultBridge, err)
	}
	links, err := b.nl.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		if l.Attrs().MasterIndex == old.Attrs().Index {
			if err := b.nl.LinkDel(l); err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) {
				return fmt.Errorf("remove stale %s: %w", l.Attrs().Name, err)
			}
		}
	}
	if err := b.nl.LinkDel(old); err != nil {
		return fmt.Errorf("remove stale %s: %w", DefaultBridge, err)
	}
	return nil
}

func (b *Bridge) createBridge() error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = DefaultBridge
	attrs.MTU = b.cfg.MTU
	// A bridge without an address of its own takes the lowest of its
	// ports' and changes it as veths come and go; a container that had
	// learned the old one then sends its frames to no one, and its open
	// connections stall. Docker gives its bridge a fixed MAC for this.
	attrs.HardwareAddr = MACFromIP(b.gateway)
	br := &netlink.Bridge{LinkAttrs: attrs}
	if err := b.nl.LinkAdd(br); err != nil {
		return fmt.Errorf("create bridge %s: %w", DefaultBridge, err)
	}
	link, err := b.nl.LinkByName(DefaultBridge)
	if err == nil {
		err = b.nl.AddrAdd(link, &netlink.Addr{IPNet: ipNet(b.gateway, b.cfg.Subnet.Bits())})
	}
	if err == nil {
		err = b.nl.LinkSetUp(link)
	}
	if err != nil {
		_ = b.nl.LinkDel(br)
		return fmt.Errorf("configure bridge %s: %w", DefaultBridge, err)
	}
	b.link = link
	return nil
}

// Config is the configuration the bridge runs with, defaults filled in.
func (b *Bridge) Config() Config { return b.cfg }

// Gateway is the bridge's address, every container's default gateway.
func (b *Bridge) Gateway() netip.Addr { return b.gateway }

// AllowLink lets the container at src reach ports of the container at
// dst despite --icc=false (docker run --link). With icc on, everything
// already passes and it does nothing. Detach of either side removes them.
func (b *Bridge) AllowLink(src, dst netip.Addr, ports []PortProto) error {
	if b.cfg.ICC || len(ports) == 0 {
		return nil
	}
	return b.fw.allowLink(src, dst, ports)
}

// Close removes every endpoint's veth, the bridge and warren's tables.
// It returns every error it met, having tried everything.
func (b *Bridge) Close() error {
	b.unplugs.Wait()
	b.mu.Lock()
	eps := b.endpoints
	b.endpoints = make(map[string]*Endpoint)
	b.mu.Unlock()

	var errs []error
	for id, ep := range eps {
		if ep == nil {
			continue // its Attach undoes itself
		}
		if err := b.deleteVeth(ep.HostVeth); err != nil {
			errs = append(errs, err)
		}
		b.ipam.Release(id)
	}
	if err := b.nl.LinkDel(b.link); err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) {
		errs = append(errs, fmt.Errorf("remove bridge %s: %w", DefaultBridge, err))
	}
	if err := b.fw.remove(); err != nil {
		errs = append(errs, err)
	}
	b.nl.Close()
	b.ns.Close()
	return errors.Join(errs...)
}

func ipNet(addr netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(bits, addr.BitLen())}
}
