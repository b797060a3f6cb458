package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"warren/internal/config"
	"warren/netstack"
	"warren/portfwd"
)

func testConfig(dataDir string) config.Config {
	return config.Defaults(config.Paths{RuntimeDir: dataDir, DataDir: dataDir})
}

// recordingNetwork hands out bridge addresses and remembers what the engine
// asked of it (rollback_test.go's fakeNetwork fails on demand instead).
type recordingNetwork struct {
	mu       sync.Mutex
	next     int
	attached map[string]netip.Addr // container ID → address
	detached []string
	allowed  []string // "src→dst ports"
}

func newRecordingNetwork() *recordingNetwork {
	return &recordingNetwork{next: 2, attached: map[string]netip.Addr{}}
}

func (n *recordingNetwork) Attach(_ context.Context, id string, _ int) (*Endpoint, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ip := netip.AddrFrom4([4]byte{172, 17, 0, byte(n.next)})
	n.next++
	n.attached[id] = ip
	return &Endpoint{IP: ip, PrefixLen: 16, Gateway: netip.MustParseAddr("172.17.0.1")}, nil
}

func (n *recordingNetwork) Detach(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.attached[id]; !ok {
		return fmt.Errorf("%s is not attached", id)
	}
	delete(n.attached, id)
	n.detached = append(n.detached, id)
	return nil
}

func (n *recordingNetwork) AllowLink(src, dst netip.Addr, ports []netstack.PortProto) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ps []string
	for _, p := range ports {
		ps = append(ps, fmt.Sprintf("%d/%s", p.Port, p.Proto))
	}
	n.allowed = append(n.allowed, fmt.Sprintf("%s→%s %s", src, dst, strings.Join(ps, ",")))
	return nil
}

func (n *recordingNetwork) HostGateway() netip.Addr { return netip.MustParseAddr("10.0.2.2") }

func (n *recordingNetwork) ResolvConf(_ []byte, _, _, _ []string) []byte {
	return []byte("nameserver 10.0.2.2\n")
}

func (n *recordingNetwork) isAttached(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.attached[id]
	return ok
}

// fakePublisher stands for the whole port publisher (rollback_test.go's
// fakePorts is the port manager under the real one): it publishes every
// exposed port on the next free host port from 49153, as -P would, and
// fails when told to.
type fakePublisher struct {
	mu       sync.Mutex
	next     uint16
	held     map[*portfwd.Published]string // → owner
	released []string
	fail     error
}

func newFakePublisher() *fakePublisher {
	return &fakePublisher{next: 49153, held: map[*portfwd.Published]string{}}
}

func (p *fakePublisher) Publish(_ context.Context, owner string, ip netip.Addr, exposed network.PortSet, bindings network.PortMap, all bool) (*portfwd.Published, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	if !ip.IsValid() {
		return nil, errors.New("no container address")
	}
	pub := &portfwd.Published{Ports: network.PortMap{}}
	for port := range exposed {
		if !all && len(bindings[port]) == 0 {
			pub.Ports[port] = nil
			continue
		}
		pub.Ports[port] = []network.PortBinding{{HostIP: netip.IPv4Unspecified(), HostPort: fmt.Sprint(p.next)}}
		p.next++
	}
	p.held[pub] = owner
	return pub, nil
}

func (p *fakePublisher) Unpublish(_ context.Context, pub *portfwd.Published) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if owner, ok := p.held[pub]; ok {
		p.released = append(p.released, owner)
		delete(p.held, pub)
	}
}

func (p *fakePublisher) holding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}

func newNetEngine(t *testing.T) (*Engine, *recordingNetwork, *fakePublisher) {
	t.Helper()
	n, p := newRecordingNetwork(), newFakePublisher()
	e, err := New(testConfig(t.TempDir()), Deps{Images: fakeStore{}, Network: n, Ports: p, runner: &fakeRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background(), 0) })
	return e, n, p
}

// run -P publishes the exposed ports on the container's bridge address;
// stop releases them and detaches the container.
func TestRunPublishAllThenStop(t *testing.T) {
	e, n, p := newNetEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}, ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}}},
		&container.HostConfig{PublishAllPorts: true})
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	if !n.isAttached(id) || p.holding() != 1 {
		t.Fatalf("after start: attached %v, ports held %d", n.isAttached(id), p.holding())
	}
	insp, err := e.ContainerInspect(ctx, "web", false)
	if err != nil {
		t.Fatal(err)
	}
	bs := insp.NetworkSettings.Ports[network.MustParsePort("80/tcp")]
	if len(bs) != 1 || bs[0].HostPort != "49153" {
		t.Errorf("inspect ports = %v, want 80/tcp on 49153", insp.NetworkSettings.Ports)
	}
	hosts := string(mustRead(t, e.mustContainer(t, id).hostsPath()))
	if !strings.Contains(hosts, "10.0.2.2\thost.warren.internal\n") || !strings.Contains(hosts, "172.17.0.2\t") {
		t.Errorf("hosts file:\n%s", hosts)
	}
	zero := 0
	if err := e.ContainerStop(ctx, "web", "", &zero); err != nil {
		t.Fatal(err)
	}
	if n.isAttached(id) || p.holding() != 0 || !slices.Equal(p.released, []string{id}) || !slices.Equal(n.detached, []string{id}) {
		t.Errorf("after stop: attached %v, held %d, released %v, detached %v", n.isAttached(id), p.holding(), p.released, n.detached)
	}
}

// A port that cannot be published fails the start with Docker's text and
// leaves the container detached.
func TestRunPublishFailureUndoes(t *testing.T) {
	e, n, p := newNetEngine(t)
	p.fail = errors.New("Bind for 0.0.0.0:8080 failed: port is already allocated")
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}, ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}}},
		&container.HostConfig{PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}})
	err := e.ContainerStart(context.Background(), id)
	if err == nil || !strings.HasPrefix(err.Error(), "failed to set up container networking: driver failed programming external connectivity on endpoint web (") ||
		!strings.HasSuffix(err.Error(), "): Bind for 0.0.0.0:8080 failed: port is already allocated") {
		t.Fatalf("start = %v", err)
	}
	if n.isAttached(id) || !slices.Equal(n.detached, []string{id}) {
		t.Errorf("after the failed start: attached %v, detached %v", n.isAttached(id), n.detached)
	}
	if insp, _ := e.ContainerInspect(context.Background(), "web", false); insp.State.Running {
		t.Error("the container runs after its start failed")
	}
}

// --link opens the source's exposed ports to the recipient through the
// network and names the source in the recipient's hosts file.
func TestLinkAllowsSourcePorts(t *testing.T) {
	e, n, _ := newNetEngine(t)
	ctx := context.Background()
	db := create(t, e, "db", container.Config{Cmd: []string{"sleep"}, ExposedPorts: network.PortSet{network.MustParsePort("5432/tcp"): {}}}, nil)
	if err := e.ContainerStart(ctx, db); err != nil {
		t.Fatal(err)
	}
	web := create(t, e, "web", container.Config{Cmd: []string{"sleep"}}, &container.HostConfig{Links: []string{"db:webdb"}})
	if err := e.ContainerStart(ctx, web); err != nil {
		t.Fatal(err)
	}
	if want := []string{"172.17.0.3→172.17.0.2 5432/tcp"}; !slices.Equal(n.allowed, want) {
		t.Errorf("AllowLink calls = %q, want %q", n.allowed, want)
	}
	hosts := string(mustRead(t, e.mustContainer(t, web).hostsPath()))
	if !strings.Contains(hosts, "172.17.0.2\twebdb ") {
		t.Errorf("recipient's hosts file has no webdb line:\n%s", hosts)
	}
}

// Without a network (unit tests, a daemon without one) containers get
// loopback only, and host-gateway cannot be derived.
func TestNoNetwork(t *testing.T) {
	e, _, _ := newTestEngine(t)
	_, _, err := e.extraHost("gw:host-gateway")
	if err == nil || err.Error() != "unable to derive the IP value for host-gateway" {
		t.Errorf("host-gateway without a network: %v", err)
	}
	if got := string(e.resolvConfOf(&container.HostConfig{})); !strings.Contains(got, "nameserver") {
		t.Errorf("resolv.conf without a network:\n%s", got)
	}
}

func (e *Engine) mustContainer(t *testing.T, name string) *Container {
	t.Helper()
	c, err := e.lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
