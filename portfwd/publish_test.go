package portfwd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
)

// fakeManager stands in for RootlessKit's port manager: busy holds host
// ports some other program listens on; noIPv6 refuses every IPv6 listener.
type fakeManager struct {
	mu     sync.Mutex
	next   int
	ports  map[int]port.Spec
	busy   map[string]bool // "tcp4 0.0.0.0:8080"
	noIPv6 bool
}

func newFake() *fakeManager { return &fakeManager{ports: map[int]port.Spec{}, busy: map[string]bool{}} }

func key(s port.Spec) string {
	return fmt.Sprintf("%s %s", s.Proto, netip.AddrPortFrom(netip.MustParseAddr(s.ParentIP), uint16(s.ParentPort)))
}

func (f *fakeManager) AddPort(_ context.Context, s port.Spec) (*port.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noIPv6 && strings.HasSuffix(s.Proto, "6") {
		return nil, fmt.Errorf("listen %s [::]:%d: socket: address family not supported by protocol", s.Proto, s.ParentPort)
	}
	if f.busy[key(s)] {
		return nil, fmt.Errorf("listen %s: bind: address already in use", key(s))
	}
	for _, p := range f.ports {
		if key(p) == key(s) {
			return nil, fmt.Errorf("listen %s: bind: address already in use", key(s))
		}
	}
	f.next++
	f.ports[f.next] = s
	return &port.Status{ID: f.next, Spec: s}, nil
}

func (f *fakeManager) ListPorts(context.Context) ([]port.Status, error) { return nil, nil }

func (f *fakeManager) RemovePort(_ context.Context, id int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ports, id)
	return nil
}

func (f *fakeManager) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ports)
}

var ctrIP = netip.MustParseAddr("172.17.0.2")

func publish(t *testing.T, p *Publisher, owner string, specs []string, publishAll bool, expose ...string) (*Published, error) {
	t.Helper()
	exposed, bindings, err := ParsePublish(specs)
	if err != nil {
		t.Fatal(err)
	}
	more, err := ParseExpose(expose)
	if err != nil {
		t.Fatal(err)
	}
	for p := range more {
		exposed[p] = struct{}{}
	}
	return p.Publish(context.Background(), owner, ctrIP, exposed, bindings, publishAll)
}

func TestPublishShapes(t *testing.T) {
	tests := []struct {
		specs  []string
		all    bool
		expose []string
		want   string
	}{
		{[]string{"8080:80"}, false, nil, `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}]}`},
		{[]string{"127.0.0.1:5001:5000"}, false, nil, `{"5000/tcp":[{"HostIp":"127.0.0.1","HostPort":"5001"}]}`},
		{[]string{"127.0.0.1:5002:5000/udp"}, false, []string{"443"}, `{"443/tcp":null,"5000/udp":[{"HostIp":"127.0.0.1","HostPort":"5002"}]}`},
		{[]string{"8000-8001:8000-8001"}, false, nil, `{"8000/tcp":[{"HostIp":"0.0.0.0","HostPort":"8000"},{"HostIp":"::","HostPort":"8000"}],"8001/tcp":[{"HostIp":"0.0.0.0","HostPort":"8001"},{"HostIp":"::","HostPort":"8001"}]}`},
		{[]string{"0.0.0.0:6000:6000/sctp"}, false, nil, `{"6000/sctp":null}`},
	}
	for _, tt := range tests {
		p := NewPublisher(newFake(), testRange)
		pub, err := publish(t, p, "c1", tt.specs, tt.all, tt.expose...)
		if err != nil {
			t.Errorf("%q: %v", tt.specs, err)
			continue
		}
		got, _ := json.Marshal(pub.Ports)
		if string(got) != tt.want {
			t.Errorf("%q: Ports = %s, want %s", tt.specs, got, tt.want)
		}
	}
}

func TestPublishAllRandomSamePortBothFamilies(t *testing.T) {
	f := newFake()
	p := NewPublisher(f, Range{Start: 49153, End: 49160})
	pub, err := publish(t, p, "c1", nil, true, "5000", "5001/udp")
	if err != nil {
		t.Fatal(err)
	}
	for prt, bs := range pub.Ports {
		if len(bs) != 2 || bs[0].HostPort != bs[1].HostPort || bs[0].HostIP.String() != "0.0.0.0" || bs[1].HostIP.String() != "::" {
			t.Errorf("%v: %+v, want 0.0.0.0 and :: on one port", prt, bs)
		}
		if bs[0].HostPort < "49153" || bs[0].HostPort > "49160" {
			t.Errorf("%v: host port %s outside the range", prt, bs[0].HostPort)
		}
	}
	if f.count() != 4 {
		t.Errorf("%d listeners, want 4", f.count())
	}
	p.Unpublish(context.Background(), pub)
	if f.count() != 0 {
		t.Errorf("%d listeners after Unpublish, want 0", f.count())
	}
}

func TestPublishConflicts(t *testing.T) {
	f := newFake()
	f.busy["tcp4 0.0.0.0:9090"] = true
	p := NewPublisher(f, testRange)
	if _, err := publish(t, p, "c1", []string{"8080:80"}, false); err != nil {
		t.Fatal(err)
	}
	// Held by another container of this engine.
	_, err := publish(t, p, "c2", []string{"7070:70", "8080:80"}, false)
	if want := "Bind for 0.0.0.0:8080 failed: port is already allocated"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	// Held by another program: and nothing of c3 stays bound.
	before := f.count()
	_, err = publish(t, p, "c3", []string{"7070:70", "9090:80"}, false)
	if want := "failed to bind host port for 0.0.0.0:9090:172.17.0.2:80/tcp: address already in use"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	if f.count() != before {
		t.Errorf("%d listeners after a failed publish, want %d", f.count(), before)
	}
	// 7070 is free again for someone else.
	if _, err := publish(t, p, "c4", []string{"7070:70"}, false); err != nil {
		t.Errorf("7070 not released: %v", err)
	}
	// A range skips busy ports.
	f.busy["tcp4 0.0.0.0:8100"] = true
	pub, err := publish(t, p, "c5", []string{"8100-8102:80"}, false)
	if err != nil || pub.Ports[network.MustParsePort("80/tcp")][0].HostPort != "8101" {
		t.Errorf("range: %+v, %v; want 8101", pub, err)
	}
	// An exhausted range.
	p2 := NewPublisher(newFake(), Range{Start: 50000, End: 50000})
	if _, err := publish(t, p2, "a", []string{"80"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := publish(t, p2, "b", []string{"80"}, false); err == nil || err.Error() != "all ports are allocated" {
		t.Errorf("exhausted: %v", err)
	}
}

func TestPublishWithoutIPv6(t *testing.T) {
	f := newFake()
	f.noIPv6 = true
	p := NewPublisher(f, testRange)
	pub, err := publish(t, p, "c1", []string{"8080:80"}, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(pub.Ports)
	if want := `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}`; string(got) != want {
		t.Errorf("Ports = %s, want %s", got, want)
	}
}

func TestBindOrder(t *testing.T) {
	exposed, bindings, _ := ParsePublish([]string{"9000", "8080:443", "53:53/udp", "8000-8010:80"})
	var got []string
	for _, r := range bindOrder(exposed, bindings, false) {
		got = append(got, r.port.String()+"="+r.binding.HostPort)
	}
	want := "53/udp=53 443/tcp=8080 80/tcp=8000-8010 9000/tcp="
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestParseRange(t *testing.T) {
	if r, err := ParseRange("49153-65535"); err != nil || r != testRange {
		t.Errorf("ParseRange = %v, %v", r, err)
	}
	for _, bad := range []string{"", "5", "0-10", "10-5", "1-70000"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

// testRange is the daemon's default range (internal/config).
var testRange = Range{Start: 49153, End: 65535}
