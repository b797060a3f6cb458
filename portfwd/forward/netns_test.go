package forward

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/vishvananda/netlink"

	"warren/internal/nstest"
	"warren/internal/testenv"
)

// The tests in this file put the child where it really runs: in a network
// namespace of its own, re-executing the test binary there (a new user
// namespace too, uid 0 inside = the caller outside), so they need no
// privileges and touch nothing of the machine's network.

const (
	childSocketEnv  = "WARREN_FORWARD_TEST_CHILD_SOCKET" // run as the child helper
	childServersEnv = "WARREN_FORWARD_TEST_CHILD_SERVERS"
	// nsServerPort is where the helper's echo servers listen, on its
	// loopback, TCP and UDP.
	nsServerPort = 7000
)

// childHelper is a child driver running in another process.
type childHelper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startChildHelper re-executes the test binary as the child of pd, in new
// namespaces (cloneflags); with servers it also runs echo servers on
// 127.0.0.1:nsServerPort in there.
func startChildHelper(t *testing.T, pd port.ParentDriver, cloneflags uintptr, servers bool) *childHelper {
	t.Helper()
	cmd := nstest.Command("TestChildHelper", cloneflags)
	cmd.Env = append(cmd.Env, childSocketEnv+"="+pd.OpaqueForChild()[opaqueSocketPath], childServersEnv+"="+strconv.FormatBool(servers))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = testLog{t}
	if err := cmd.Start(); err != nil {
		testenv.Requiref(t, false, "needs a user and network namespace, which this machine refuses: %v", err)
	}
	h := &childHelper{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(h.stop)
	if line := h.readLine(t); line != "ready" {
		t.Fatalf("child helper: %q, want ready", line)
	}
	return h
}

func (h *childHelper) readLine(t *testing.T) string {
	t.Helper()
	for {
		line, err := h.out.ReadString('\n')
		if err != nil {
			t.Fatalf("child helper: %v", err)
		}
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "helper: "); ok {
			return rest
		}
		t.Log("child helper: " + line) // go test's own output
	}
}

// goroutines asks the helper for its goroutine count.
func (h *childHelper) goroutines(t *testing.T) int {
	t.Helper()
	fmt.Fprintln(h.stdin, "goroutines")
	n, err := strconv.Atoi(h.readLine(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stop ends the helper: stdin's end is its quit.
func (h *childHelper) stop() {
	h.stdin.Close()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, h.out); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
	}
	_ = h.cmd.Wait()
}

// TestChildHelper is the child's process; it only runs when re-executed.
func TestChildHelper(t *testing.T) {
	socket := os.Getenv(childSocketEnv)
	if socket == "" {
		t.Skip("runs only as the re-executed child")
	}
	if err := linkUp("lo"); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(childServersEnv) == "true" {
		echoTCP(t, fmt.Sprintf("127.0.0.1:%d", nsServerPort))
		echoUDP(t, fmt.Sprintf("127.0.0.1:%d", nsServerPort))
	}
	child := NewChildDriver(testLog{t})
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- child.RunChildDriver(map[string]string{opaqueSocketPath: socket}, quit, "") }()
	fmt.Println("helper: ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "goroutines":
			fmt.Printf("helper: %d\n", runtime.NumGoroutine())
		case "stacks":
			buf := make([]byte, 1<<20)
			os.Stderr.Write(buf[:runtime.Stack(buf, true)])
			fmt.Println("helper: done")
		}
	}
	close(quit)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func linkUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(l)
}

// startParent runs a parent in the test process until the test ends.
func startParent(t *testing.T) (port.ParentDriver, chan struct{}) {
	t.Helper()
	pd, err := NewParentDriver(testLog{t}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	init, quit := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- pd.RunParentDriver(init, quit, nil) }()
	t.Cleanup(func() {
		close(quit)
		if err := <-done; err != nil {
			t.Errorf("parent: %v", err)
		}
	})
	return pd, init
}

// TestNamespacedChild: the parent binds on the host's 127.0.0.1, the
// child accepts in its own namespace and dials servers there.
func TestNamespacedChild(t *testing.T) {
	pd, init := startParent(t)
	h := startChildHelper(t, pd, syscall.CLONE_NEWUSER|syscall.CLONE_NEWNET, true)
	select {
	case <-init:
	case <-time.After(10 * time.Second):
		t.Fatal("the child never connected")
	}
	hp, up := freePort(t, "tcp"), freePort(t, "udp")
	warmUp(t, pd)
	start := h.goroutines(t)
	tst := addPort(t, pd, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: nsServerPort})
	ust := addPort(t, pd, port.Spec{Proto: "udp4", ParentIP: "127.0.0.1", ParentPort: up, ChildIP: "127.0.0.1", ChildPort: nsServerPort})
	addr := fmt.Sprintf("127.0.0.1:%d", hp)

	t.Run("both ways and half-close", func(t *testing.T) {
		for _, n := range []int{0, 5, 4 << 20} {
			if err := roundTrip(addr, payload(n, 3)); err != nil {
				t.Errorf("%d bytes: %v", n, err)
			}
		}
	})
	t.Run("200 concurrent connections", func(t *testing.T) {
		if err := concurrentRoundTrips(addr, 200); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("udp echo, two clients", func(t *testing.T) {
		if err := udpTwoClients(fmt.Sprintf("127.0.0.1:%d", up)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RemovePort closes the host port and ends the goroutines", func(t *testing.T) {
		for _, id := range []int{tst.ID, ust.ID} {
			if err := pd.RemovePort(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := net.Dial("tcp", addr); !isRefused(err) {
			t.Fatalf("connect after RemovePort: %v, want connection refused", err)
		}
		if !eventually(func() bool { return h.goroutines(t) <= start }) {
			fmt.Fprintln(h.stdin, "stacks")
			h.readLine(t)
			t.Fatalf("the child's goroutines did not end: %d, started with %d", h.goroutines(t), start)
		}
	})
	t.Run("the child's death releases the port", func(t *testing.T) {
		addPort(t, pd, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: nsServerPort})
		if err := roundTrip(addr, []byte("x")); err != nil {
			t.Fatal(err)
		}
		h.cmd.Process.Kill()
		waitFor(t, "the host port to be closed", func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return isRefused(err)
		})
	})
}

func isRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}

// vethTo makes a veth pair whose far end goes to pid's namespace; near
// (in ours, or nearPid's if not 0) gets nearAddr, far gets farAddr, and
// the far side routes by gw if valid.
func vethTo(t *testing.T, name string, nearPid int, nearAddr string, pid int, farAddr string, gw netip.Addr) {
	t.Helper()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth %s: %v", name, err)
	}
	peer, err := netlink.LinkByName(name + "p")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetNsPid(peer, pid); err != nil {
		t.Fatal(err)
	}
	configure := func(link, addr string, gw netip.Addr) error {
		l, err := netlink.LinkByName(link)
		if err != nil {
			return err
		}
		a, err := netlink.ParseAddr(addr)
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(l, a); err != nil {
			return err
		}
		for _, up := range []string{link, "lo"} {
			if err := linkUp(up); err != nil {
				return err
			}
		}
		if gw.IsValid() {
			return netlink.RouteAdd(&netlink.Route{Gw: gw.AsSlice()})
		}
		return nil
	}
	if nearPid != 0 {
		near, err := netlink.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetNsPid(near, nearPid); err != nil {
			t.Fatal(err)
		}
		nstest.InNetns(t, nearPid, func() error { return configure(name, nearAddr, netip.Addr{}) })
	} else if err := configure(name, nearAddr, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	nstest.InNetns(t, pid, func() error { return configure(name+"p", farAddr, gw) })
}

// TestTransparentSource lays out a daemon's world in namespaces:
//
//	client (10.9.0.2) ── host (10.9.0.1, the parent)
//	engine (the child, 172.30.0.1) ── container (172.30.0.2, the server)
//
// and checks that the container sees a remote client's own address and
// port, and the engine's gateway address for a loopback client.
func TestTransparentSource(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	if err := linkUp("lo"); err != nil {
		t.Fatal(err)
	}
	pd, init := startParent(t)
	h := startChildHelper(t, pd, syscall.CLONE_NEWNET, false)
	<-init
	client, container := nstest.Sleeper(t), nstest.Sleeper(t)
	vethTo(t, "hc", 0, "10.9.0.1/24", client, "10.9.0.2/24", netip.Addr{})
	vethTo(t, "ec", h.cmd.Process.Pid, "172.30.0.1/24", container, "172.30.0.2/24", netip.MustParseAddr("172.30.0.1"))

	// The container answers each connection with the address it sees.
	var ln net.Listener
	nstest.InNetns(t, container, func() (err error) {
		ln, err = net.Listen("tcp4", "172.30.0.2:8000")
		return err
	})
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, c.RemoteAddr())
			c.Close()
		}
	}()
	hp := freePort(t, "tcp")
	addPort(t, pd, port.Spec{Proto: "tcp4", ParentIP: "0.0.0.0", ParentPort: hp, ChildIP: "172.30.0.2", ChildPort: 8000})

	for i := range 3 { // more than one: the routing is set up once
		var local, seen string
		nstest.InNetns(t, client, func() error {
			c, err := net.DialTimeout("tcp4", fmt.Sprintf("10.9.0.1:%d", hp), 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c)
			local, seen = c.LocalAddr().String(), string(b)
			return err
		})
		if seen != local {
			t.Errorf("connection %d: the container saw %q, want the client's %q", i, seen, local)
		}
	}
	c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", hp), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(b), "172.30.0.1:") {
		t.Errorf("loopback client: the container saw %q (%v), want the gateway 172.30.0.1", b, err)
	}

	t.Run("udp", func(t *testing.T) {
		// The container answers each datagram with the address it came from.
		var pc net.PacketConn
		nstest.InNetns(t, container, func() (err error) {
			pc, err = net.ListenPacket("udp4", "172.30.0.2:8000")
			return err
		})
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 1500)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				_, _ = pc.WriteTo([]byte(from.String()), from)
			}
		}()
		up := freePort(t, "udp")
		addPort(t, pd, port.Spec{Proto: "udp4", ParentIP: "0.0.0.0", ParentPort: up, ChildIP: "172.30.0.2", ChildPort: 8000})
		ask := func(c net.Conn) (string, error) {
			if _, err := c.Write([]byte("who am I?")); err != nil {
				return "", err
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			n, err := c.Read(buf)
			return string(buf[:n]), err
		}
		for i := range 2 { // two clients, two flows
			var local, seen string
			nstest.InNetns(t, client, func() error {
				c, err := net.Dial("udp4", fmt.Sprintf("10.9.0.1:%d", up))
				if err != nil {
					return err
				}
				defer c.Close()
				local = c.LocalAddr().String()
				seen, err = ask(c)
				return err
			})
			if seen != local {
				t.Errorf("client %d: the container saw %q, want the client's %q", i, seen, local)
			}
		}
		c, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", up))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if seen, err := ask(c); err != nil || !strings.HasPrefix(seen, "172.30.0.1:") {
			t.Errorf("loopback client: the container saw %q (%v), want the gateway 172.30.0.1", seen, err)
		}
	})
}
