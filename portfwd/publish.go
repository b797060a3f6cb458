package portfwd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/network"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
)

// Range is an inclusive range of host ports.
type Range struct{ Start, End uint16 }

// ParseRange parses "49153-65535".
func ParseRange(s string) (Range, error) {
	lo, hi, ok := strings.Cut(s, "-")
	start, err1 := strconv.ParseUint(lo, 10, 16)
	end, err2 := strconv.ParseUint(hi, 10, 16)
	if !ok || err1 != nil || err2 != nil || start == 0 || start > end {
		return Range{}, fmt.Errorf("invalid port range %q: want START-END within 1-65535", s)
	}
	return Range{uint16(start), uint16(end)}, nil
}

// Publisher binds containers' published ports on the host through a port
// manager (RootlessKit's, whose listeners live in the daemon's parent on the
// host) and remembers which container holds which host port.
type Publisher struct {
	mgr  port.Manager
	rng  Range
	mu   sync.Mutex
	held map[hostPort]string // → owner
	ipv6 bool                // the host can listen on IPv6; cleared on the first refusal
}

type hostPort struct {
	proto string // "tcp" or "udp"
	ip    string // "0.0.0.0", "::", "127.0.0.1"
	port  uint16
}

// NewPublisher publishes through mgr, picking random host ports in rng.
func NewPublisher(mgr port.Manager, rng Range) *Publisher {
	return &Publisher{mgr: mgr, rng: rng, held: map[hostPort]string{}, ipv6: true}
}

// Published is what one container holds: the manager's port IDs and the
// bindings as `inspect` shows them (.NetworkSettings.Ports).
type Published struct {
	owner string
	ids   []int
	held  []hostPort
	Ports network.PortMap
}

// Publish binds every exposed port that has a binding (or all of them with
// publishAll) and returns the real bindings. On error nothing stays bound.
// Errors are Docker's texts after "driver failed programming external
// connectivity on endpoint …: ".
func (p *Publisher) Publish(ctx context.Context, owner string, containerIP netip.Addr, exposed network.PortSet, bindings network.PortMap, publishAll bool) (_ *Published, err error) {
	pub := &Published{owner: owner, Ports: network.PortMap{}}
	defer func() {
		if err != nil {
			p.Unpublish(context.WithoutCancel(ctx), pub)
		}
	}()
	for _, req := range bindOrder(exposed, bindings, publishAll) {
		if req.binding == nil {
			pub.Ports[req.port] = nil
			continue
		}
		if req.port.Proto() == network.SCTP {
			// RootlessKit's forwarder has no SCTP; Docker rootless drops it too.
			pub.Ports[req.port] = nil
			continue
		}
		got, err := p.bind(ctx, pub, containerIP, req.port, *req.binding)
		if err != nil {
			return nil, err
		}
		pub.Ports[req.port] = append(pub.Ports[req.port], got...)
	}
	return pub, nil
}

// Unpublish releases everything pub holds.
func (p *Publisher) Unpublish(ctx context.Context, pub *Published) {
	if pub == nil {
		return
	}
	for _, id := range pub.ids {
		_ = p.mgr.RemovePort(ctx, id) // the listener is gone with the daemon anyway
	}
	p.mu.Lock()
	for _, h := range pub.held {
		if p.held[h] == pub.owner {
			delete(p.held, h)
		}
	}
	p.mu.Unlock()
	pub.ids, pub.held = nil, nil
}

type bindRequest struct {
	port    network.Port
	binding *network.PortBinding // nil: exposed, not published
}

// bindOrder lists the bindings in Docker's processing order: exact host
// ports first, then ranges and random ports; each by container port, then
// protocol.
func bindOrder(exposed network.PortSet, bindings network.PortMap, publishAll bool) []bindRequest {
	var reqs []bindRequest
	for prt := range exposed {
		bs := bindings[prt]
		if len(bs) == 0 && publishAll {
			bs = []network.PortBinding{{}}
		}
		if len(bs) == 0 {
			reqs = append(reqs, bindRequest{port: prt})
		}
		for i := range bs {
			reqs = append(reqs, bindRequest{port: prt, binding: &bs[i]})
		}
	}
	exact := func(r bindRequest) int {
		if r.binding != nil && r.binding.HostPort != "" && !strings.Contains(r.binding.HostPort, "-") {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(reqs, func(a, b bindRequest) int {
		return cmp.Or(
			cmp.Compare(exact(a), exact(b)),
			cmp.Compare(a.port.Num(), b.port.Num()),
			cmp.Compare(protoRank(a.port.Proto()), protoRank(b.port.Proto())),
		)
	})
	return reqs
}

func protoRank(p network.IPProtocol) int {
	return slices.Index([]network.IPProtocol{network.TCP, network.UDP, network.SCTP}, p)
}

// bind binds one requested binding: an empty host IP means 0.0.0.0 and ::
// on the same port, as Docker does.
func (p *Publisher) bind(ctx context.Context, pub *Published, containerIP netip.Addr, prt network.Port, b network.PortBinding) ([]network.PortBinding, error) {
	ips := []string{"0.0.0.0", "::"}
	if b.HostIP.IsValid() {
		ips = []string{b.HostIP.String()}
	}
	first, last, random, err := hostPortChoice(b.HostPort, p.rng)
	if err != nil {
		return nil, err
	}
	proto := string(prt.Proto())
	const randomTries = 64
	tries := int(last-first) + 1
	if random {
		tries = randomTries
	}
	var lastErr error
	for i := 0; i < tries; i++ {
		hp := first + uint16(i)
		if random {
			hp = first + uint16(rand.IntN(int(last-first)+1))
		}
		got, err := p.bindAll(ctx, pub, containerIP, prt, proto, ips, hp)
		if err == nil {
			return got, nil
		}
		lastErr = err
		single := !random && first == last
		if single || !errors.Is(err, errInUse) {
			return nil, err
		}
	}
	if random || lastErr == nil {
		return nil, errors.New("all ports are allocated")
	}
	return nil, lastErr
}

var errInUse = errors.New("host port in use")

type inUseError struct{ msg string }

func (e inUseError) Error() string        { return e.msg }
func (e inUseError) Is(target error) bool { return target == errInUse }

// bindAll binds hp on every address in ips, all or none.
func (p *Publisher) bindAll(ctx context.Context, pub *Published, containerIP netip.Addr, prt network.Port, proto string, ips []string, hp uint16) ([]network.PortBinding, error) {
	var got []network.PortBinding
	var ids []int
	var held []hostPort
	undo := func() {
		for _, id := range ids {
			_ = p.mgr.RemovePort(context.WithoutCancel(ctx), id)
		}
		p.mu.Lock()
		for _, h := range held {
			delete(p.held, h)
		}
		p.mu.Unlock()
	}
	for _, ip := range ips {
		addr := netip.MustParseAddr(ip)
		if addr.Is6() && !p.canIPv6() && len(ips) > 1 {
			continue
		}
		h := hostPort{proto: proto, ip: ip, port: hp}
		if !p.reserve(h, pub.owner) {
			undo()
			return nil, inUseError{fmt.Sprintf("Bind for %s failed: port is already allocated", netip.AddrPortFrom(addr, hp))}
		}
		held = append(held, h)
		family := "4"
		if addr.Is6() {
			family = "6"
		}
		st, err := p.mgr.AddPort(ctx, port.Spec{
			Proto:      proto + family,
			ParentIP:   ip,
			ParentPort: int(hp),
			ChildIP:    containerIP.String(),
			ChildPort:  int(prt.Num()),
		})
		if err != nil {
			if addr.Is6() && len(ips) > 1 && noIPv6(err) {
				p.mu.Lock()
				p.ipv6 = false
				delete(p.held, h)
				p.mu.Unlock()
				held = held[:len(held)-1]
				continue
			}
			undo()
			return nil, bindError(err, addr, hp, containerIP, prt)
		}
		ids = append(ids, st.ID)
		got = append(got, network.PortBinding{HostIP: addr, HostPort: strconv.Itoa(int(hp))})
	}
	pub.ids = append(pub.ids, ids...)
	pub.held = append(pub.held, held...)
	return got, nil
}

func (p *Publisher) reserve(h hostPort, owner string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, taken := p.held[h]; taken {
		return false
	}
	p.held[h] = owner
	return true
}

func (p *Publisher) canIPv6() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ipv6
}

// hostPortChoice reads a binding's HostPort: "" is a random port from rng,
// "8000" exactly that, "8000-8010" the first free one in order.
func hostPortChoice(hostPort string, rng Range) (first, last uint16, random bool, err error) {
	if hostPort == "" {
		return rng.Start, rng.End, true, nil
	}
	lo, hi, isRange := strings.Cut(hostPort, "-")
	start, err1 := strconv.ParseUint(lo, 10, 16)
	end := start
	var err2 error
	if isRange {
		end, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || start > end {
		return 0, 0, false, fmt.Errorf("invalid port specification: %q", hostPort)
	}
	if start == 0 {
		return rng.Start, rng.End, true, nil
	}
	return uint16(start), uint16(end), false, nil
}

// bindError turns the port manager's error into Docker's text.
func bindError(err error, addr netip.Addr, hp uint16, containerIP netip.Addr, prt network.Port) error {
	msg := err.Error()
	where := fmt.Sprintf("%s:%s:%d/%s", netip.AddrPortFrom(addr, hp), containerIP, prt.Num(), prt.Proto())
	switch {
	case strings.Contains(msg, "address already in use"):
		return inUseError{fmt.Sprintf("failed to bind host port for %s: address already in use", where)}
	case strings.Contains(msg, "privileged port"):
		// RootlessKit's text names the sysctl to change; keep it.
		return fmt.Errorf("failed to bind host port for %s: %s", where, rootlessKitMessage(msg))
	case strings.Contains(msg, "cannot assign requested address"):
		return fmt.Errorf("failed to bind host port for %s: cannot assign requested address", where)
	}
	return fmt.Errorf("failed to bind host port for %s: %s", where, rootlessKitMessage(msg))
}

// rootlessKitMessage strips the HTTP client's wrapping from an API error.
func rootlessKitMessage(msg string) string {
	if i := strings.Index(msg, "cannot expose privileged port"); i >= 0 {
		msg = msg[i:]
		if j := strings.Index(msg, ": listen "); j >= 0 {
			msg = msg[:j]
		}
	}
	return msg
}

func noIPv6(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "address family not supported") || strings.Contains(msg, "cannot assign requested address")
}
