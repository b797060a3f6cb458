package netstack

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// containerIfname is the container side of its veth, as in Docker.
const containerIfname = "eth0"

// Endpoint is one container's place on the bridge.
type Endpoint struct {
	IP        netip.Addr
	PrefixLen int
	Gateway   netip.Addr
	MAC       net.HardwareAddr
	HostVeth  string // the host side, plugged into warren0
}

// Attach plugs the container whose init is pid into the bridge: a veth
// pair whose host side joins warren0 and whose other side is created
// directly in the container's namespace as eth0, with the next free
// address, a MAC derived from it, and a default route via the bridge.
// The container's lo is brought up too. On error nothing is left.
func (b *Bridge) Attach(id string, pid int) (_ *Endpoint, err error) {
	b.waitUnplugged(id) // a restart: its previous veth (same name) first
	if err := b.reserve(id); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			b.unreserve(id)
		}
	}()
	ip, err := b.ipam.Allocate(id)
	if err != nil {
		return nil, fmt.Errorf("allocate address for %s: %w", id, err)
	}
	// The address's previous owner may still have its veth on the bridge,
	// with the same MAC: wait until it is gone.
	b.waitUnpluggedAddr(ip)
	defer func() {
		if err != nil {
			b.ipam.Release(id)
		}
	}()
	ep := &Endpoint{
		IP:        ip,
		PrefixLen: b.cfg.Subnet.Bits(),
		Gateway:   b.gateway,
		MAC:       MACFromIP(ip),
		HostVeth:  hostVethName(id),
	}
	if err := b.plug(ep, pid); err != nil {
		return nil, fmt.Errorf("attach %s to %s: %w", id, DefaultBridge, err)
	}
	b.mu.Lock()
	b.endpoints[id] = ep
	b.mu.Unlock()
	return ep, nil
}

// Endpoint returns id's endpoint, if attached.
func (b *Bridge) Endpoint(id string) (*Endpoint, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ep := b.endpoints[id]
	return ep, ep != nil
}

// Detach unplugs id, for a container whose process has ended. Link rules
// naming its address go first (a rule left behind would let the
// address's next owner through, so if that fails the address stays
// taken); then the address is released at once, as Docker does, so a full
// pool has room again when stop returns. Deleting the host veth (which
// takes the container's eth0 with it) waits for the kernel's RCU grace
// period, 10-20 ms here, which a container's exit and `run --rm` need not
// wait for: it runs in the background, and an Attach reusing the name or
// the address waits for it. Detaching an unknown id does nothing.
func (b *Bridge) Detach(id string) error {
	b.mu.Lock()
	ep := b.endpoints[id]
	if ep == nil {
		b.mu.Unlock()
		return nil
	}
	delete(b.endpoints, id)
	done := make(chan struct{})
	b.unplugging[id], b.unpluggingAddr[ep.IP] = done, done
	b.unplugs.Add(1)
	b.mu.Unlock()

	var err error
	if !b.cfg.ICC {
		err = b.fw.removeLinks(ep.IP)
	}
	if err == nil {
		b.ipam.Release(id)
	}
	go func() {
		defer b.unplugs.Done()
		if err := b.deleteVeth(ep.HostVeth); err != nil {
			log.Printf("netstack: detach %s: %v", id, err)
		}
		b.mu.Lock()
		delete(b.unplugging, id)
		if b.unpluggingAddr[ep.IP] == done {
			delete(b.unpluggingAddr, ep.IP)
		}
		b.mu.Unlock()
		close(done)
	}()
	if err != nil {
		return fmt.Errorf("detach %s: %w", id, err)
	}
	return nil
}

// waitUnplugged waits for a Detach of id still deleting its veth.
func (b *Bridge) waitUnplugged(id string) {
	b.mu.Lock()
	done := b.unplugging[id]
	b.mu.Unlock()
	if done != nil {
		<-done
	}
}

// waitUnpluggedAddr waits for the veth of addr's previous owner to go.
func (b *Bridge) waitUnpluggedAddr(addr netip.Addr) {
	b.mu.Lock()
	done := b.unpluggingAddr[addr]
	b.mu.Unlock()
	if done != nil {
		<-done
	}
}

// WaitUnplugged waits until every Detach so far has finished.
func (b *Bridge) WaitUnplugged() { b.unplugs.Wait() }

// reserve marks id as being attached so two Attach calls cannot race.
func (b *Bridge) reserve(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.endpoints[id]; ok {
		return fmt.Errorf("endpoint with name %s already exists in network bridge", id)
	}
	b.endpoints[id] = nil
	return nil
}

func (b *Bridge) unreserve(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.endpoints, id)
}

// plug creates ep's veth pair and configures both sides.
func (b *Bridge) plug(ep *Endpoint, pid int) (err error) {
	target, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer target.Close()

	attrs := netlink.NewLinkAttrs()
	attrs.Name = ep.HostVeth
	attrs.MTU = b.cfg.MTU
	veth := &netlink.Veth{
		LinkAttrs:        attrs,
		PeerName:         containerIfname,
		PeerHardwareAddr: ep.MAC,
		PeerNamespace:    netlink.NsFd(target),
	}
	if err := b.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.HostVeth, err)
	}
	defer func() {
		if err != nil {
			_ = b.nl.LinkDel(veth)
		}
	}()
	if err := b.nl.LinkSetMaster(veth, b.link); err != nil {
		return fmt.Errorf("plug %s into %s: %w", ep.HostVeth, DefaultBridge, err)
	}
	if err := b.nl.LinkSetUp(veth); err != nil {
		return fmt.Errorf("set %s up: %w", ep.HostVeth, err)
	}
	if err := configureContainerSide(target, ep); err != nil {
		return err
	}
	waitOperUp(func() (netlink.Link, error) { return b.nl.LinkByName(ep.HostVeth) })
	return nil
}

// waitOperUp waits, for at most a second, until the kernel's link watcher
// has seen a veth's carrier come up. It does that in the background, and
// until then the bridge drops the port's frames and eth0 sends nothing: a
// container started sooner lost its first ARP request and waited a second
// for the retry (3-4 % of runs with both cores busy; none in 400 since).
// Past the second it gives up: the container still gets there, late.
func waitOperUp(get func() (netlink.Link, error)) {
	deadline := time.Now().Add(time.Second)
	for delay := 20 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Millisecond) {
		l, err := get()
		if err != nil || l.Attrs().OperState == netlink.OperUp {
			return
		}
		time.Sleep(delay)
	}
}

// configureContainerSide gives eth0 its address and default route, and
// brings eth0 and lo up, through netlink bound to the container's
// namespace (no thread ever enters it).
func configureContainerSide(target netns.NsHandle, ep *Endpoint) error {
	h, err := netlink.NewHandleAt(target)
	if err != nil {
		return fmt.Errorf("netlink in container: %w", err)
	}
	defer h.Close()

	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("container lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set container lo up: %w", err)
	}
	eth, err := h.LinkByName(containerIfname)
	if err != nil {
		return fmt.Errorf("container %s: %w", containerIfname, err)
	}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(ep.IP, ep.PrefixLen)}); err != nil {
		return fmt.Errorf("add %s/%d to container %s: %w", ep.IP, ep.PrefixLen, containerIfname, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("set container %s up: %w", containerIfname, err)
	}
	route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: ep.Gateway.AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("add default route via %s: %w", ep.Gateway, err)
	}
	waitOperUp(func() (netlink.Link, error) { return h.LinkByName(containerIfname) })
	return nil
}

// deleteVeth removes a host veth; one already gone (its container's
// namespace died, taking the pair) is not an error.
func (b *Bridge) deleteVeth(name string) error {
	link, err := b.nl.LinkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err == nil {
		err = b.nl.LinkDel(link)
	}
	// ENODEV: the namespace died between the lookup and the delete.
	if err != nil && !errors.As(err, new(netlink.LinkNotFoundError)) && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("remove veth %s: %w", name, err)
	}
	return nil
}
