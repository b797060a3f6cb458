package forward

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"warren/internal/nstest"
)

// TestAcceptedSocketsInheritOptions: the forwarder sets TCP_NODELAY and
// keep-alive once, on the listener, and relies on accept copying them.
func TestAcceptedSocketsInheritOptions(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	if err := prepareListener(fd); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var nfd int
	waitFor(t, "a connection to accept", func() bool {
		nfd, _, err = unix.Accept4(fd, unix.SOCK_CLOEXEC)
		return err == nil
	})
	defer unix.Close(nfd)
	for _, o := range inheritedOptions {
		got, err := unix.GetsockoptInt(nfd, o.level, o.opt)
		if err != nil {
			t.Fatal(err)
		}
		// Booleans read back as any non-zero value.
		if (got != 0) != (o.value != 0) || (o.value > 1 && got != o.value) {
			t.Errorf("accepted socket: option %d/%d = %d, want %d", o.level, o.opt, got, o.value)
		}
	}
}

func TestPrepareListenerRefusesOtherSockets(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := prepareListener(fd); err == nil {
		t.Error("a socket that does not listen was taken")
	}
}

// TestBusyStreamLeavesRoom: while one connection streams as fast as the
// loops can move it, round trips through another port still complete.
// (It guards against a stream holding a loop; it does not show the
// 16-splice turn itself, which a stream that keeps meeting EAGAIN never
// reaches.)
func TestBusyStreamLeavesRoom(t *testing.T) {
	p := startPair(t, nil)
	sink := sinkTCP(t)
	srv := echoTCP(t, "127.0.0.1:0")
	hpSink, hpEcho := freePort(t, "tcp"), freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hpSink, ChildIP: "127.0.0.1", ChildPort: sink})
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hpEcho, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})

	stream, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hpSink))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<20)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := stream.Write(buf); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); stream.Close(); <-done }()
	time.Sleep(100 * time.Millisecond) // the stream is under way
	for i := range 20 {
		if err := roundTrip(fmt.Sprintf("127.0.0.1:%d", hpEcho), payload(100, byte(i))); err != nil {
			t.Fatalf("round trip %d beside the stream: %v", i, err)
		}
	}
}

// sinkTCP reads every connection to its end.
func sinkTCP(t *testing.T) int {
	return tcpServer(t, func(c *net.TCPConn) { _, _ = io.Copy(io.Discard, c) })
}

// openConns counts the connections the child's loops hold.
func openConns(t *testing.T, child *Child) int {
	t.Helper()
	child.mu.Lock()
	loops := child.loops
	child.mu.Unlock()
	n := 0
	for _, l := range loops {
		_ = l.do(func() error {
			for _, h := range l.handlers {
				if _, ok := h.(clientHandler); ok {
					n++
				}
			}
			return nil
		})
	}
	return n
}

// expectClosed reads c until the forwarder closes it.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil && !isReset(err) {
		t.Fatalf("client connection: %v, want it closed by the forwarder", err)
	}
}

func isReset(err error) bool { return errors.Is(err, unix.ECONNRESET) }

// TestRefusedDialClosesClient: nothing listens in the container, so the
// client is closed and nothing is left open.
func TestRefusedDialClosesClient(t *testing.T) {
	p := startPair(t, nil)
	hp := freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: freePort(t, "tcp")})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hp))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expectClosed(t, c)
	waitFor(t, "the forwarder to drop the connection", func() bool { return openConns(t, p.child) == 0 })
}

// TestDialTimeout: a container that never answers the SYN; the client is
// closed once DialTimeout passes. An address on a veth in a namespace of
// the test's own stands for the silent container.
func TestDialTimeout(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	if err := linkUp("lo"); err != nil {
		t.Fatal(err)
	}
	// The SYNs go to a made-up neighbour on the far end, where nothing
	// answers them; the kernel would retry for minutes.
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "near"}, PeerName: "far"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("192.0.2.1/24")
	if err := netlink.AddrAdd(veth, addr); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"near", "far"} {
		if err := linkUp(name); err != nil {
			t.Fatal(err)
		}
	}
	near, err := netlink.LinkByName("near")
	if err != nil {
		t.Fatal(err)
	}
	mac, _ := net.ParseMAC("02:00:00:00:00:02")
	if err := netlink.NeighAdd(&netlink.Neigh{LinkIndex: near.Attrs().Index, State: netlink.NUD_PERMANENT, IP: net.ParseIP("192.0.2.2"), HardwareAddr: mac}); err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	p := startPair(t, func(c *Child) { c.DialTimeout = timeout })
	hp := freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "192.0.2.2", ChildPort: 80})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hp))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	waitFor(t, "the dial to start", func() bool { return openConns(t, p.child) == 1 })
	expectClosed(t, c)
	if waited := time.Since(start); waited < timeout/2 {
		t.Errorf("closed after %v, before the dial timeout %v", waited, timeout)
	}
	waitFor(t, "the forwarder to drop the connection", func() bool { return openConns(t, p.child) == 0 })
}

// Loops blocked in epoll_wait leave a P for the rest of the process.
func TestSpareProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	spareProc(2)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("GOMAXPROCS with 2 loops on 2 = %d, want 3", got)
	}
	runtime.GOMAXPROCS(8)
	spareProc(4)
	if got := runtime.GOMAXPROCS(0); got != 8 {
		t.Errorf("GOMAXPROCS with 4 loops on 8 = %d, want 8 (left alone)", got)
	}
}
