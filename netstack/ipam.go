package netstack

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"sync"
)

// Docker's IPAM errors (libnetwork/ipamapi), kept verbatim because users
// and scripts match on them.
var (
	ErrNoAvailableIPs = errors.New("no available addresses on this pool")
	ErrIPAlreadyInUse = errors.New("Address already in use")
	ErrIPOutOfRange   = errors.New("requested address is out of range")
)

// IPAM hands out the addresses of one IPv4 subnet, never the network,
// gateway (first host) or broadcast address. Like Docker it allocates
// sequentially from where it last stopped and wraps around, so a just
// released address is the last to come back: a stale /etc/hosts line or
// ARP entry then points at nobody rather than at a stranger.
type IPAM struct {
	base netip.Addr // network address
	size uint32     // addresses in the subnet, network and broadcast included

	mu   sync.Mutex
	used []uint64 // bit i set: offset i from base is taken
	byID map[string]uint32
	next uint32 // offset where the next search starts
}

// NewIPAM manages subnet (IPv4, at most /30).
func NewIPAM(subnet netip.Prefix) (*IPAM, error) {
	subnet = subnet.Masked()
	if !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil, fmt.Errorf("subnet %s: need an IPv4 subnet of at most /30", subnet)
	}
	size := uint32(1) << (32 - subnet.Bits())
	m := &IPAM{
		base: subnet.Addr(),
		size: size,
		used: make([]uint64, (size+63)/64),
		byID: make(map[string]uint32),
		next: 2,
	}
	// Network, gateway and broadcast are never handed out.
	for _, off := range []uint32{0, 1, size - 1} {
		m.set(off)
	}
	return m, nil
}

// Allocate gives id the next free address.
func (m *IPAM) Allocate(id string) (netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off, ok := m.byID[id]; ok {
		return netip.Addr{}, fmt.Errorf("endpoint %s already has address %s", id, m.addr(off))
	}
	off, ok := m.findFree(m.next)
	if !ok {
		return netip.Addr{}, ErrNoAvailableIPs
	}
	m.take(id, off)
	m.next = off + 1
	return m.addr(off), nil
}

// Request gives id a chosen address (docker run --ip, or an engine
// restoring its endpoints after a restart).
func (m *IPAM) Request(id string, addr netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off, ok := m.byID[id]; ok {
		return fmt.Errorf("endpoint %s already has address %s", id, m.addr(off))
	}
	off, ok := m.offset(addr)
	if !ok {
		return fmt.Errorf("%s: %w", addr, ErrIPOutOfRange)
	}
	if m.isSet(off) {
		return fmt.Errorf("%s: %w", addr, ErrIPAlreadyInUse)
	}
	m.take(id, off)
	return nil
}

// Release frees id's address; releasing an unknown id does nothing, so
// undo paths may call it unconditionally.
func (m *IPAM) Release(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, ok := m.byID[id]
	if !ok {
		return
	}
	delete(m.byID, id)
	m.used[off/64] &^= 1 << (off % 64)
}

// Lookup returns id's address.
func (m *IPAM) Lookup(id string) (netip.Addr, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off, ok := m.byID[id]
	if !ok {
		return netip.Addr{}, false
	}
	return m.addr(off), true
}

func (m *IPAM) take(id string, off uint32) {
	m.set(off)
	m.byID[id] = off
}

// findFree returns the first clear bit at or after from, wrapping once.
func (m *IPAM) findFree(from uint32) (uint32, bool) {
	if from >= m.size {
		from = 0
	}
	if off, ok := m.scan(from, m.size); ok {
		return off, true
	}
	return m.scan(0, from)
}

// scan looks for a clear bit in [lo, hi), a word at a time.
func (m *IPAM) scan(lo, hi uint32) (uint32, bool) {
	for off := lo; off < hi; {
		word := ^m.used[off/64] >> (off % 64) // free bits from off on
		if word == 0 {
			off = (off/64 + 1) * 64
			continue
		}
		found := off + uint32(bits.TrailingZeros64(word))
		return found, found < hi
	}
	return 0, false
}

func (m *IPAM) set(off uint32)        { m.used[off/64] |= 1 << (off % 64) }
func (m *IPAM) isSet(off uint32) bool { return m.used[off/64]&(1<<(off%64)) != 0 }

func (m *IPAM) addr(off uint32) netip.Addr {
	b := m.base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += off
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (m *IPAM) offset(addr netip.Addr) (uint32, bool) {
	if !addr.Is4() {
		return 0, false
	}
	a, b := addr.As4(), m.base.As4()
	av := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	bv := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if av < bv || av-bv >= m.size {
		return 0, false
	}
	return av - bv, true
}
