package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port"

	"warren/netstack"
	"warren/portfwd"
)

func TestUndoRunsNewestFirst(t *testing.T) {
	var got []int
	var u undo
	for i := range 3 {
		u.push(func() { got = append(got, i) })
	}
	u.run()
	u.run() // forgotten after the first run
	if !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("undo ran %v, want [2 1 0]", got)
	}
}

// fakeNetwork attaches unless told to fail, and remembers who is attached.
type fakeNetwork struct {
	mu       sync.Mutex
	attached map[string]bool
	fail     bool
	next     byte
}

func (n *fakeNetwork) Attach(_ context.Context, id string, _ int) (*Endpoint, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		return nil, errors.New("create veth: file exists")
	}
	n.next++
	n.attached[id] = true
	return &Endpoint{IP: netip.AddrFrom4([4]byte{172, 17, 0, 1 + n.next}), PrefixLen: 16,
		Gateway: netip.MustParseAddr("172.17.0.1"), MAC: net.HardwareAddr{2, 66, 172, 17, 0, 1 + n.next}}, nil
}

func (n *fakeNetwork) Detach(id string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.attached, id)
	return nil
}

func (n *fakeNetwork) AllowLink(netip.Addr, netip.Addr, []netstack.PortProto) error { return nil }

func (n *fakeNetwork) HostGateway() netip.Addr { return netip.MustParseAddr("10.0.2.2") }

func (n *fakeNetwork) ResolvConf([]byte, []string, []string, []string) []byte {
	return []byte("nameserver 10.0.2.2\n")
}

func (n *fakeNetwork) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.attached)
}

// fakePorts is RootlessKit's port manager; busy host ports fail to bind.
type fakePorts struct {
	mu    sync.Mutex
	next  int
	ports map[int]port.Spec
	busy  map[int]bool
}

func (f *fakePorts) AddPort(_ context.Context, s port.Spec) (*port.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy[s.ParentPort] {
		return nil, fmt.Errorf("listen %s %s:%d: bind: address already in use", s.Proto, s.ParentIP, s.ParentPort)
	}
	f.next++
	f.ports[f.next] = s
	return &port.Status{ID: f.next, Spec: s}, nil
}

func (f *fakePorts) ListPorts(context.Context) ([]port.Status, error) { return nil, nil }

func (f *fakePorts) RemovePort(_ context.Context, id int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ports, id)
	return nil
}

func (f *fakePorts) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ports)
}

// Each step of a start that fails takes back the steps before it: no
// process left, no address, no host port, output ended, the error and
// Docker's exit code recorded, and the container can start again.
func TestFailedStartLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cmd      string
		links    []string
		network  bool // the bridge fails to attach
		busyPort bool // host port 8080 is taken
		wantErr  string
		wantCode int
		invalid  bool // a 400: the user's command cannot run
	}{
		{name: "link source not running", cmd: "sleep", links: []string{"db:db"},
			wantErr: "Cannot link to a non running container: /db AS /web/db", wantCode: 128},
		{name: "create", cmd: "uncreatable", wantErr: "mount overlay: invalid argument", wantCode: 128},
		{name: "attach", cmd: "sleep", network: true, wantErr: "attach network: create veth: file exists", wantCode: 128},
		{name: "publish", cmd: "sleep", busyPort: true,
			wantErr: "driver failed programming external connectivity on endpoint web", wantCode: 128},
		{name: "start, not found", cmd: "missing", wantErr: "executable file not found in $PATH", wantCode: 127, invalid: true},
		{name: "start, a directory", cmd: "/etc", wantErr: `exec: "/etc": is a directory`, wantCode: 126, invalid: true},
		{name: "start, other", cmd: "broken", wantErr: "operation not permitted", wantCode: 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			nw := &fakeNetwork{attached: map[string]bool{}, fail: tc.network}
			ports := &fakePorts{ports: map[int]port.Spec{}, busy: map[int]bool{8080: tc.busyPort}}
			rng, err := portfwd.ParseRange("49153-65535")
			if err != nil {
				t.Fatal(err)
			}
			run := &fakeRunner{}
			e, err := New(testConfig(t.TempDir()), Deps{Images: fakeStore{}, Network: nw, Ports: portfwd.NewPublisher(ports, rng), runner: run})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Shutdown(context.Background(), time.Second) })
			create(t, e, "db", container.Config{Cmd: []string{"sleep"}}, nil)
			id := create(t, e, "web", container.Config{Cmd: []string{tc.cmd}, ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}}},
				&container.HostConfig{Links: tc.links, PortBindings: network.PortMap{
					network.MustParsePort("80/tcp"): {{HostPort: "8080"}},
				}})

			err = e.ContainerStart(ctx, id)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("start = %v, want %q", err, tc.wantErr)
			}
			if got := errdefs.IsInvalidArgument(err); got != tc.invalid {
				t.Errorf("start error is a 400: %v, want %v", got, tc.invalid)
			}
			c, _ := e.lookup(id)
			st := c.snapshot().State
			if st.Status != container.StateCreated || st.ExitCode != tc.wantCode || st.Error != err.Error() || st.Pid != 0 {
				t.Errorf("state after the failed start = %+v, want created, exit %d", st, tc.wantCode)
			}
			if nw.count() != 0 || ports.count() != 0 {
				t.Errorf("left behind: %d attached, %d host ports", nw.count(), ports.count())
			}
			run.mu.Lock()
			for _, p := range run.procs {
				select {
				case <-p.done:
				default:
					t.Errorf("process %v still runs", p.args)
				}
				if !p.closed.Load() {
					t.Errorf("process %v not closed", p.args)
				}
			}
			run.mu.Unlock()
			c.mu.Lock()
			proc, pub, rec := c.proc, c.pub, c.rec
			c.mu.Unlock()
			if proc != nil || pub != nil || rec.Endpoint != nil || rec.Ports != nil {
				t.Errorf("run kept: proc %v, pub %v, endpoint %v, ports %v", proc, pub, rec.Endpoint, rec.Ports)
			}
			if _, _, open := c.log.state(); open {
				t.Errorf("log still open for writing")
			}

			// Nothing of the failed run stands in the way of the next.
			nw.fail, ports.busy = false, nil
			if tc.links != nil {
				if err := e.ContainerStart(ctx, "db"); err != nil {
					t.Fatal(err)
				}
			}
			if c.rec.Path != "sleep" {
				return // the command itself cannot run
			}
			if err := e.ContainerStart(ctx, id); err != nil {
				t.Fatalf("start after the failure: %v", err)
			}
			if got := c.snapshot().Ports[network.MustParsePort("80/tcp")]; len(got) == 0 || got[0].HostPort != "8080" {
				t.Errorf("ports after the second start = %v", got)
			}
		})
	}
}
