package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"

	"warren/internal/nettest"
	"warren/internal/testenv"
)

// These tests run the parent and the child in the test process, on the
// host's loopback: everything but the namespaces, with no privileges.

// pair is a running parent and child.
type pair struct {
	parent port.ParentDriver
	child  *Child
}

// startPair runs both halves until the test ends; configure may set the
// child's fields first.
func startPair(t *testing.T, configure func(*Child)) *pair {
	t.Helper()
	pd, err := NewParentDriver(io.Discard, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	child := NewChildDriver(testLog{t}).(*Child)
	if configure != nil {
		configure(child)
	}
	init, quitP, quitC := make(chan struct{}), make(chan struct{}), make(chan struct{})
	errP, errC := make(chan error, 1), make(chan error, 1)
	go func() { errP <- pd.RunParentDriver(init, quitP, nil) }()
	go func() { errC <- child.RunChildDriver(pd.OpaqueForChild(), quitC, "") }()
	select {
	case <-init:
	case err := <-errP:
		t.Fatalf("parent: %v", err)
	case err := <-errC:
		t.Fatalf("child: %v", err)
	}
	t.Cleanup(func() {
		close(quitC)
		close(quitP)
		if err := <-errC; err != nil {
			t.Errorf("child: %v", err)
		}
		if err := <-errP; err != nil {
			t.Errorf("parent: %v", err)
		}
	})
	warmUp(t, pd)
	return &pair{parent: pd, child: child}
}

// warmUp has the child serve one request, so that it is past starting
// its own goroutines before a test counts them.
func warmUp(t *testing.T, pd port.ParentDriver) {
	t.Helper()
	st := addPort(t, pd, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: freePort(t, "tcp"), ChildPort: 1})
	if err := pd.RemovePort(context.Background(), st.ID); err != nil {
		t.Fatal(err)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// freePort finds a port nobody holds on 127.0.0.1 right now.
func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
}

// echoTCP serves "echo what you get, then bye at EOF" on addr and closes
// when the test ends; it waits for its goroutines.
func echoTCP(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	return nettest.ServeTCP(t, addr, serveEcho)
}

// serveEcho echoes, and after the client's half-close still sends "bye":
// the half-close must reach it while its own direction stays open.
func serveEcho(c *net.TCPConn) {
	defer c.Close()
	if _, err := io.Copy(c, c); err != nil {
		return
	}
	_, _ = c.Write([]byte("bye"))
	_ = c.CloseWrite()
}

// echoUDP answers each datagram with itself.
func echoUDP(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	return nettest.ServeUDP(t, addr, nettest.Echo)
}

func addPort(t *testing.T, pd port.ParentDriver, spec port.Spec) *port.Status {
	t.Helper()
	st, err := pd.AddPort(context.Background(), spec)
	if err != nil {
		t.Fatalf("AddPort(%+v): %v", spec, err)
	}
	return st
}

// roundTrip sends payload, half-closes, and checks payload+"bye" comes back.
func roundTrip(addr string, payload []byte) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(c)
	if werr := <-errc; werr != nil {
		return fmt.Errorf("write: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	want := append(append([]byte{}, payload...), "bye"...)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("got %d bytes back, want %d (payload + bye)", len(got), len(want))
	}
	return nil
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func TestTCPBothWaysAndHalfClose(t *testing.T) {
	p := startPair(t, nil)
	srv := echoTCP(t, "127.0.0.1:0")
	hp := freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	addr := fmt.Sprintf("127.0.0.1:%d", hp)
	for _, n := range []int{0, 1, 1 << 20} {
		if err := roundTrip(addr, payload(n, 1)); err != nil {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

func TestTCPConcurrentConnections(t *testing.T) {
	p := startPair(t, nil)
	srv := echoTCP(t, "127.0.0.1:0")
	hp := freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	if err := concurrentRoundTrips(fmt.Sprintf("127.0.0.1:%d", hp), 200); err != nil {
		t.Fatal(err)
	}
}

// concurrentRoundTrips runs n round trips at once, each with its own bytes.
func concurrentRoundTrips(addr string, n int) error {
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { errs <- roundTrip(addr, payload(1000+i*37, byte(i))) }()
	}
	var all []error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// TestIPv6HostToIPv4Container: Docker publishes on :: too, towards the
// container's IPv4 address.
func TestIPv6HostToIPv4Container(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	testenv.Requiref(t, err == nil, "no IPv6 loopback here: %v", err)
	hp := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	p := startPair(t, nil)
	srv := echoTCP(t, "127.0.0.1:0")
	addPort(t, p.parent, port.Spec{Proto: "tcp6", ParentIP: "::1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	if err := roundTrip(fmt.Sprintf("[::1]:%d", hp), payload(1000, 9)); err != nil {
		t.Fatal(err)
	}
}

func TestRemovePortClosesHostPort(t *testing.T) {
	p := startPair(t, nil)
	srv := echoTCP(t, "127.0.0.1:0")
	hp := freePort(t, "tcp")
	st := addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	addr := fmt.Sprintf("127.0.0.1:%d", hp)
	if err := roundTrip(addr, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ports, _ := p.parent.ListPorts(context.Background()); len(ports) != 1 || ports[0].ID != st.ID {
		t.Fatalf("ListPorts = %+v, want only id %d", ports, st.ID)
	}
	if err := p.parent.RemovePort(context.Background(), st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect after RemovePort: %v, want connection refused", err)
	}
	if ports, _ := p.parent.ListPorts(context.Background()); len(ports) != 0 {
		t.Fatalf("ListPorts after remove = %+v", ports)
	}
	if err := p.parent.RemovePort(context.Background(), st.ID); err == nil || !strings.Contains(err.Error(), "unknown id") {
		t.Fatalf("second RemovePort: %v, want unknown id", err)
	}
}

func TestAddPortInUse(t *testing.T) {
	p := startPair(t, nil)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	_, err = p.parent.AddPort(context.Background(), port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: taken, ChildIP: "127.0.0.1", ChildPort: 80})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("AddPort on a taken port: %v, want address already in use", err)
	}
	if ports, _ := p.parent.ListPorts(context.Background()); len(ports) != 0 {
		t.Fatalf("a failed AddPort left %+v", ports)
	}
}

func TestAddPortRefusesBadSpecs(t *testing.T) {
	p := startPair(t, nil)
	hp := freePort(t, "tcp")
	good := port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: 80}
	addPort(t, p.parent, good)
	for _, tc := range []struct {
		name string
		spec port.Spec
		want string
	}{
		{"sctp", port.Spec{Proto: "sctp4", ParentPort: 1, ChildPort: 1}, "unsupported port protocol sctp4"},
		{"bad proto", port.Spec{Proto: "tcp5", ParentPort: 1, ChildPort: 1}, "unknown proto"},
		{"bad child ip", port.Spec{Proto: "tcp4", ParentPort: 1, ChildPort: 1, ChildIP: "x"}, `invalid ChildIP: "x"`},
		{"no parent port", port.Spec{Proto: "tcp4", ChildPort: 1}, "invalid ParentPort: 0"},
		{"same port twice", good, "conflict with ID 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.parent.AddPort(context.Background(), tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("AddPort: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestUDPEchoTwoClients(t *testing.T) {
	p := startPair(t, nil)
	srv := echoUDP(t, "127.0.0.1:0")
	hp := freePort(t, "udp")
	addPort(t, p.parent, port.Spec{Proto: "udp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	if err := udpTwoClients(fmt.Sprintf("127.0.0.1:%d", hp)); err != nil {
		t.Fatal(err)
	}
}

// udpTwoClients checks that two clients, interleaved, get their own replies.
func udpTwoClients(addr string) error {
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for round := range 3 {
		for i, c := range conns {
			if _, err := fmt.Fprintf(c, "client %d round %d", i, round); err != nil {
				return err
			}
		}
		for i, c := range conns {
			if err := expectDatagram(c, fmt.Sprintf("client %d round %d", i, round)); err != nil {
				return err
			}
		}
	}
	return nil
}

func expectDatagram(c net.Conn, want string) error {
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		return fmt.Errorf("waiting for %q: %w", want, err)
	}
	if got := string(buf[:n]); got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

func TestUDPIdleFlowsExpireAndAreBounded(t *testing.T) {
	p := startPair(t, func(c *Child) {
		c.UDPIdleTimeout = 200 * time.Millisecond
		c.UDPMaxFlows = 1
	})
	srv := echoUDP(t, "127.0.0.1:0")
	hp := freePort(t, "udp")
	st := addPort(t, p.parent, port.Spec{Proto: "udp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
	addr := fmt.Sprintf("127.0.0.1:%d", hp)
	a, _ := net.Dial("udp", addr)
	defer a.Close()
	b, _ := net.Dial("udp", addr)
	defer b.Close()

	fmt.Fprint(a, "a1")
	if err := expectDatagram(a, "a1"); err != nil {
		t.Fatal(err)
	}
	fw := p.child.forwarderFor(st.ID).(*udpForwarder)
	if n := fw.flowCount(); n != 1 {
		t.Fatalf("%d flows after one client, want 1", n)
	}
	// The bound is reached: b's datagram is dropped.
	fmt.Fprint(b, "b1")
	if err := expectDatagramWithin(b, 300*time.Millisecond); err == nil {
		t.Fatal("a second client got a flow beyond UDPMaxFlows=1")
	}
	waitFor(t, "a's flow to expire", func() bool { return fw.flowCount() == 0 })
	fmt.Fprint(b, "b2")
	if err := expectDatagram(b, "b2"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func expectDatagramWithin(c net.Conn, d time.Duration) error {
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(buf)
	return err
}

func (d *Child) forwarderFor(id int) forwarder {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ports[id]
}

func (fw *udpForwarder) flowCount() int {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return len(fw.flows)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// eventually polls cond for up to 10 s.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestGoroutinesEnd: after load and RemovePort, and after both halves
// quit, the goroutine count is back where it was.
func TestGoroutinesEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("load", func(t *testing.T) {
		p := startPair(t, nil)
		srv := echoTCP(t, "127.0.0.1:0")
		usrv := echoUDP(t, "127.0.0.1:0")
		hp, up := freePort(t, "tcp"), freePort(t, "udp")
		afterStart := runtime.NumGoroutine()
		tst := addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})
		ust := addPort(t, p.parent, port.Spec{Proto: "udp4", ParentIP: "127.0.0.1", ParentPort: up, ChildIP: "127.0.0.1", ChildPort: int(usrv.Port())})
		if err := concurrentRoundTrips(fmt.Sprintf("127.0.0.1:%d", hp), 100); err != nil {
			t.Fatal(err)
		}
		if err := udpTwoClients(fmt.Sprintf("127.0.0.1:%d", up)); err != nil {
			t.Fatal(err)
		}
		// Connections held open across RemovePort must end too.
		held, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hp))
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		fmt.Fprint(held, "x")
		buf := make([]byte, 1)
		if _, err := io.ReadFull(held, buf); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int{tst.ID, ust.ID} {
			if err := p.parent.RemovePort(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
		_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(held); err != nil {
			t.Fatalf("held connection after RemovePort: %v, want EOF", err)
		}
		waitFor(t, "goroutines after RemovePort", func() bool { return runtime.NumGoroutine() <= afterStart })
	})
	waitFor(t, "goroutines after quit", func() bool { return runtime.NumGoroutine() <= before })
}

// TestChildGoneReleasesPorts: when the child ends, the parent closes its
// copies, so the host port is free again.
func TestChildGoneReleasesPorts(t *testing.T) {
	pd, err := NewParentDriver(io.Discard, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	child := NewChildDriver(io.Discard)
	init, quitP, quitC := make(chan struct{}), make(chan struct{}), make(chan struct{})
	doneP, doneC := make(chan error, 1), make(chan error, 1)
	go func() { doneP <- pd.RunParentDriver(init, quitP, nil) }()
	go func() { doneC <- child.RunChildDriver(pd.OpaqueForChild(), quitC, "") }()
	<-init
	defer func() { close(quitP); <-doneP }()
	hp := freePort(t, "tcp")
	addPort(t, pd, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildPort: 1})
	close(quitC)
	if err := <-doneC; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host port to be free", func() bool {
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", hp))
		if err == nil {
			ln.Close()
		}
		return err == nil
	})
	if _, err := pd.AddPort(context.Background(), port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildPort: 1}); !errors.Is(err, errChildGone) {
		t.Fatalf("AddPort without a child: %v, want %v", err, errChildGone)
	}
}

// TestChildWaitsForQuit: RootlessKit's child sends quit once, whether or
// not the parent has gone first, and blocks until it is received; a child
// driver that returned when the parent went would hang it at exit.
func TestChildWaitsForQuit(t *testing.T) {
	pd, err := NewParentDriver(io.Discard, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	init, quitP, quitC := make(chan struct{}), make(chan struct{}), make(chan struct{})
	doneP, doneC := make(chan error, 1), make(chan error, 1)
	go func() { doneP <- pd.RunParentDriver(init, quitP, nil) }()
	go func() { doneC <- NewChildDriver(io.Discard).RunChildDriver(pd.OpaqueForChild(), quitC, "") }()
	<-init
	close(quitP)
	if err := <-doneP; err != nil {
		t.Fatal(err)
	}
	select {
	case quitC <- struct{}{}:
	case err := <-doneC:
		t.Fatalf("the child returned (%v) without taking quit", err)
	}
	if err := <-doneC; err != nil {
		t.Fatal(err)
	}
}

func TestAnnotateEPERM(t *testing.T) {
	dir := t.TempDir()
	sysctl := filepath.Join(dir, "ip_unprivileged_port_start")
	if err := os.WriteFile(sysctl, []byte("1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := unprivilegedPortStart
	unprivilegedPortStart = sysctl
	t.Cleanup(func() { unprivilegedPortStart = old })
	bindErr := errors.New("listen tcp4 0.0.0.0:80: bind: permission denied")
	for _, tc := range []struct {
		port int
		want string
	}{
		{80, "cannot expose privileged port 80, you can add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf (currently 1024), or choose a larger port number (>= 1024): listen tcp4 0.0.0.0:80: bind: permission denied"},
		{2000, "listen tcp4 0.0.0.0:80: bind: permission denied"},
	} {
		got := annotateEPERM(bindErr, port.Spec{ParentPort: tc.port})
		if got.Error() != tc.want {
			t.Errorf("port %d:\n got %s\nwant %s", tc.port, got, tc.want)
		}
		if !errors.Is(got, bindErr) {
			t.Errorf("port %d: the bind error is not kept", tc.port)
		}
	}
}

func TestSplitProto(t *testing.T) {
	for _, tc := range []struct {
		in, kind, family string
		ok               bool
	}{
		{"tcp", "tcp", "", true},
		{"tcp4", "tcp", "4", true},
		{"udp6", "udp", "6", true},
		{"sctp", "", "", false},
		{"tcp5", "", "", false},
		{"", "", "", false},
	} {
		kind, family, err := splitProto(tc.in)
		if (err == nil) != tc.ok || kind != tc.kind || family != tc.family {
			t.Errorf("splitProto(%q) = %q, %q, %v", tc.in, kind, family, err)
		}
	}
}

func TestChildTarget(t *testing.T) {
	for _, tc := range []struct {
		spec port.Spec
		want string
	}{
		{port.Spec{ChildPort: 80}, "127.0.0.1:80"},
		{port.Spec{ChildIP: "172.17.0.2", ChildPort: 80}, "172.17.0.2:80"},
		{port.Spec{ChildIP: "::ffff:172.17.0.2", ChildPort: 80}, "172.17.0.2:80"},
		{port.Spec{ChildIP: "fd00::2", ChildPort: 80}, "[fd00::2]:80"},
		{port.Spec{ChildIP: "nope", ChildPort: 80}, `invalid ChildIP: "nope"`},
		{port.Spec{ChildIP: "10.0.0.1"}, "invalid ChildPort: 0"},
	} {
		got, err := childTarget(tc.spec)
		s := got.String()
		if err != nil {
			s = err.Error()
		}
		if s != tc.want {
			t.Errorf("childTarget(%+v) = %s, want %s", tc.spec, s, tc.want)
		}
	}
}

func TestWantTransparent(t *testing.T) {
	d := &Child{NoTransparent: true}
	ap := netip.MustParseAddrPort
	if d.wantTransparent(ap("192.0.2.1:1234"), ap("172.17.0.2:80")) {
		t.Error("NoTransparent is ignored")
	}
	d = &Child{}
	d.transparent.once.Do(func() {}) // routing "set up" without touching the machine
	for _, tc := range []struct {
		client, target string
		want           bool
	}{
		{"192.0.2.1:1234", "172.17.0.2:80", true},
		{"[::ffff:192.0.2.1]:1234", "172.17.0.2:80", true},
		{"127.0.0.1:1234", "172.17.0.2:80", false},
		{"[::1]:1234", "172.17.0.2:80", false},
		{"[2001:db8::1]:1234", "172.17.0.2:80", false},
		{"192.0.2.1:1234", "127.0.0.1:80", false},
		{"192.0.2.1:1234", "[fd00::2]:80", false},
	} {
		if got := d.wantTransparent(ap(tc.client), ap(tc.target)); got != tc.want {
			t.Errorf("wantTransparent(%s → %s) = %v, want %v", tc.client, tc.target, got, tc.want)
		}
	}
}

// TestParentStopsBeforeChild: a parent told to quit before any child
// connected returns cleanly and leaves no socket file.
func TestParentStopsBeforeChild(t *testing.T) {
	dir := t.TempDir()
	pd, err := NewParentDriver(io.Discard, dir)
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	close(quit)
	if err := pd.RunParentDriver(make(chan struct{}), quit, nil); err != nil {
		t.Fatalf("RunParentDriver: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, socketName)); !os.IsNotExist(err) {
		t.Fatalf("control socket left behind: %v", err)
	}
}
