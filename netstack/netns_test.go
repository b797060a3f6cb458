package netstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"warren/internal/nstest"

	"warren/internal/config"
)

// The tests in this file need a network namespace of their own. Each
// re-executes the test binary for itself in a new user and network
// namespace (uid 0 inside = the caller outside), so they run the same
// way as root or as an ordinary user, touch nothing of the machine's
// network, and test what a rootless engine can really do.

// inNetns runs fn inside pid's network namespace.
func inNetns(t *testing.T, pid int, fn func()) {
	t.Helper()
	nstest.InNetns(t, pid, func() error { fn(); return nil })
}

// uplinkStandIn makes the tap0 the bootstrap would: this kernel may lack
// dummy links, so one end of a veth pair plays it.
func uplinkStandIn(t *testing.T) {
	t.Helper()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "tap0", MTU: config.DefaultMTU}, PeerName: "tap0-far"}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create tap0 stand-in: %v", err)
	}
	addr, _ := netlink.ParseAddr("10.0.2.100/24")
	if err := netlink.AddrAdd(veth, addr); err != nil {
		t.Fatal(err)
	}
	for _, l := range []netlink.Link{veth, &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "tap0-far"}}, &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "lo"}}} {
		if err := netlink.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", l.Attrs().Name, err)
		}
	}
}

func setupForTest(t *testing.T, cfg Config) *Bridge {
	t.Helper()
	b, err := Setup(cfg)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return b
}

// serveOnce listens on addr:0 and answers one line with "pong".
func serveOnce(t *testing.T, addr netip.Addr) (net.Listener, netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("pong"))
			c.Close()
		}
	}()
	return ln, netip.MustParseAddrPort(ln.Addr().String())
}

// dial connects to to from within pid's namespace and reads the answer.
func dial(t *testing.T, pid int, to netip.AddrPort, timeout time.Duration) error {
	t.Helper()
	var err error
	inNetns(t, pid, func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var c net.Conn
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp4", to.String())
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		var got []byte
		got, err = io.ReadAll(c)
		if err == nil && string(got) != "pong" {
			err = fmt.Errorf("read %q, want pong", got)
		}
	})
	return err
}

func TestBridgeAttachDetach(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())

	checkBridge(t)
	if fw, err := os.ReadFile(ipForwardPath); err != nil || strings.TrimSpace(string(fw)) != "1" {
		t.Errorf("ip_forward = %q, %v; want 1", fw, err)
	}
	checkTables(t, true, false)

	pid1, pid2 := nstest.Sleeper(t), nstest.Sleeper(t)
	id1 := "aaaaaaa1" + strings.Repeat("0", 56)
	id2 := "bbbbbbb2" + strings.Repeat("0", 56)
	ep1, err := b.Attach(id1, pid1)
	if err != nil {
		t.Fatalf("Attach 1: %v", err)
	}
	ep2, err := b.Attach(id2, pid2)
	if err != nil {
		t.Fatalf("Attach 2: %v", err)
	}
	wantEndpoint(t, ep1, "172.17.0.2", "02:42:ac:11:00:02", "vethaaaaaaa")
	wantEndpoint(t, ep2, "172.17.0.3", "02:42:ac:11:00:03", "vethbbbbbbb")
	checkContainerSide(t, pid1, ep1)
	if _, err := b.Attach(id1, pid1); err == nil {
		t.Error("second Attach of one id succeeded")
	}

	// Container to container, over the bridge.
	var to netip.AddrPort
	inNetns(t, pid2, func() { _, to = serveOnce(t, ep2.IP) })
	if err := dial(t, pid1, to, 5*time.Second); err != nil {
		t.Errorf("container 1 -> container 2 (%s): %v", to, err)
	}
	// Container to the engine through its gateway.
	_, gw := serveOnce(t, b.Gateway())
	if err := dial(t, pid2, gw, 5*time.Second); err != nil {
		t.Errorf("container 2 -> gateway (%s): %v", gw, err)
	}

	for _, id := range []string{id1, id2} {
		if err := b.Detach(id); err != nil {
			t.Errorf("Detach: %v", err)
		}
		b.WaitUnplugged() // Detach unplugs in the background
	}
	for _, name := range []string{ep1.HostVeth, ep2.HostVeth} {
		if _, err := netlink.LinkByName(name); err == nil {
			t.Errorf("%s still exists after Detach", name)
		}
	}
	if _, ok := b.ipam.Lookup(id1); ok {
		t.Error("address of a detached endpoint still allocated")
	}
	if err := b.Detach(id1); err != nil {
		t.Errorf("second Detach: %v", err)
	}
	b.WaitUnplugged() // Detach unplugs in the background
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkNothingLeft(t)
}

// The bridge keeps the MAC it was given while ports come and go: a
// container that learned it keeps its connection through the gateway
// after the port with the lowest MAC (which a bridge without an address
// of its own would have taken) leaves.
func TestBridgeKeepsItsMAC(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())
	defer b.Close()
	want := MACFromIP(b.Gateway()).String()
	checkMAC := func(when string) {
		t.Helper()
		br, err := netlink.LinkByName(DefaultBridge)
		if err != nil {
			t.Fatal(err)
		}
		if got := br.Attrs().HardwareAddr.String(); got != want {
			t.Errorf("%s: %s has MAC %s, want %s", when, DefaultBridge, got, want)
		}
	}
	checkMAC("after Setup")

	lowID := "aaaaaaa1" + strings.Repeat("0", 56)
	if _, err := b.Attach(lowID, nstest.Sleeper(t)); err != nil {
		t.Fatal(err)
	}
	low, err := netlink.LinkByName(hostVethName(lowID))
	if err == nil {
		err = netlink.LinkSetHardwareAddr(low, net.HardwareAddr{0, 0, 0, 0, 0, 1})
	}
	if err != nil {
		t.Fatalf("give a port the lowest MAC: %v", err)
	}
	checkMAC("with a port of a lower MAC")

	// A second container learns the gateway's MAC and opens a connection.
	pid := nstest.Sleeper(t)
	if _, err := b.Attach("bbbbbbb2"+strings.Repeat("0", 56), pid); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(b.Gateway(), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	var conn net.Conn
	inNetns(t, pid, func() {
		conn, err = net.DialTimeout("tcp4", ln.Addr().String(), 5*time.Second)
	})
	if err != nil {
		t.Fatalf("container -> gateway: %v", err)
	}
	defer conn.Close()
	echo := func(msg string) error {
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := conn.Write([]byte(msg)); err != nil {
			return err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil {
			return err
		}
		if string(got) != msg {
			return fmt.Errorf("echo %q, want %q", got, msg)
		}
		return nil
	}
	if err := echo("before"); err != nil {
		t.Fatalf("echo through the gateway: %v", err)
	}

	if err := b.Detach(lowID); err != nil {
		t.Fatal(err)
	}
	b.WaitUnplugged()
	checkMAC("after that port left")
	if err := echo("after"); err != nil {
		t.Errorf("the connection through the gateway after a port left: %v", err)
	}
}

// A container whose namespace died (its veth went with it) detaches fine.
func TestDetachAfterContainerDied(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())
	defer b.Close()
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ep, err := b.Attach("c0ffee0", cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	waitGone(t, ep.HostVeth)
	if err := b.Detach("c0ffee0"); err != nil {
		t.Fatalf("Detach after death: %v", err)
	}
	b.WaitUnplugged() // Detach unplugs in the background
	if _, ok := b.ipam.Lookup("c0ffee0"); ok {
		t.Error("address still allocated")
	}
}

// Attach to a process that does not exist leaves nothing behind.
func TestAttachFailureUndoes(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())
	defer b.Close()
	if _, err := b.Attach("deadbee", 1<<30); err == nil {
		t.Fatal("Attach to a missing pid succeeded")
	}
	// A container that already has an eth0 fails after the veth exists.
	pid := nstest.Sleeper(t)
	inNetns(t, pid, func() {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "x"}); err != nil {
			t.Error(err)
		}
	})
	if _, err := b.Attach("deadbee", pid); err == nil {
		t.Fatal("Attach into a namespace with an eth0 succeeded")
	}
	if _, err := netlink.LinkByName(hostVethName("deadbee")); err == nil {
		t.Error("failed Attach left its veth")
	}
	if _, ok := b.ipam.Lookup("deadbee"); ok {
		t.Error("failed Attach kept its address")
	}
	if _, ok := b.Endpoint("deadbee"); ok {
		t.Error("failed Attach kept its endpoint")
	}
	ep, err := b.Attach("deadbee", nstest.Sleeper(t))
	if err != nil {
		t.Fatalf("Attach after failures: %v", err)
	}
	if ep.IP.String() != "172.17.0.4" {
		// .2 and .3 went to the failed attempts and are not reused at once.
		t.Errorf("IP = %s, want 172.17.0.4", ep.IP)
	}
}

// Setup over a crashed engine's leftovers replaces them.
func TestSetupReplacesLeftovers(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	cfg := DefaultConfig()
	cfg.ICC = false
	crashed := setupForTest(t, cfg)
	ep, err := crashed.Attach("1234567", nstest.Sleeper(t))
	if err != nil {
		t.Fatal(err)
	}
	crashed.nl.Close() // the engine dies without Close
	crashed.ns.Close()

	b := setupForTest(t, DefaultConfig())
	if _, err := netlink.LinkByName(ep.HostVeth); err == nil {
		t.Error("Setup kept a stale veth")
	}
	checkBridge(t)
	checkTables(t, true, false) // icc on now: the old bridge table is gone
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkNothingLeft(t)
}

func TestICCFalseAndLinks(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	cfg := DefaultConfig()
	cfg.ICC = false
	b := setupForTest(t, cfg)
	checkTables(t, true, true)

	web, db := nstest.Sleeper(t), nstest.Sleeper(t)
	epWeb, err := b.Attach("0eb0eb0", web)
	if err != nil {
		t.Fatal(err)
	}
	epDB, err := b.Attach("0db0db0", db)
	if err != nil {
		t.Fatal(err)
	}
	var to netip.AddrPort
	inNetns(t, db, func() { _, to = serveOnce(t, epDB.IP) })

	// Dropped packets show as a dial timeout; 500ms is plenty on a bridge.
	if err := dial(t, web, to, 500*time.Millisecond); err == nil {
		t.Fatal("icc=false let web reach db")
	}
	if err := b.AllowLink(epWeb.IP, epDB.IP, []PortProto{{Port: to.Port(), Proto: "tcp"}}); err != nil {
		t.Fatalf("AllowLink: %v", err)
	}
	if err := dial(t, web, to, 5*time.Second); err != nil {
		t.Errorf("linked web -> db: %v", err)
	}
	var back netip.AddrPort
	inNetns(t, web, func() { _, back = serveOnce(t, epWeb.IP) })
	if err := dial(t, db, back, 500*time.Millisecond); err == nil {
		t.Error("a link from web to db let db reach web")
	}
	// The gateway (the engine, published ports) is still reachable.
	_, gw := serveOnce(t, b.Gateway())
	if err := dial(t, web, gw, 5*time.Second); err != nil {
		t.Errorf("web -> gateway with icc=false: %v", err)
	}

	if err := b.Detach("0db0db0"); err != nil {
		t.Fatal(err)
	}
	b.WaitUnplugged() // Detach unplugs in the background
	if n := linkRules(t); n != 0 {
		t.Errorf("%d link rules left after Detach", n)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkNothingLeft(t)
}

// Attach returns once the kernel has both ends of the veth up: a
// container's first frames are not dropped while the link watcher lags.
func TestAttachReturnsWithTheLinkUp(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())
	defer b.Close()
	for i := range 20 {
		id := fmt.Sprintf("%07x", i)
		pid := nstest.Sleeper(t)
		ep, err := b.Attach(id, pid)
		if err != nil {
			t.Fatal(err)
		}
		host, err := netlink.LinkByName(ep.HostVeth)
		if err != nil {
			t.Fatal(err)
		}
		var eth netlink.Link
		inNetns(t, pid, func() { eth, err = netlink.LinkByName(containerIfname) })
		if err != nil {
			t.Fatal(err)
		}
		if h, c := host.Attrs().OperState, eth.Attrs().OperState; h != netlink.OperUp || c != netlink.OperUp {
			t.Errorf("attach %d returned with %s %s and eth0 %s", i, ep.HostVeth, h, c)
		}
		if err := b.Detach(id); err != nil {
			t.Fatal(err)
		}
	}
	b.WaitUnplugged()
}

func TestFiftyEndpoints(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	uplinkStandIn(t)
	b := setupForTest(t, DefaultConfig())
	const n = 50
	pids := make([]int, n)
	for i := range pids {
		pids[i] = nstest.Sleeper(t)
	}
	eps := make([]*Endpoint, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eps[i], errs[i] = b.Attach(fmt.Sprintf("%07x", i), pids[i])
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]int{}
	for i, ep := range eps {
		if errs[i] != nil {
			t.Fatalf("Attach %d: %v", i, errs[i])
		}
		if j, dup := seen[ep.IP]; dup {
			t.Fatalf("endpoints %d and %d share %s", i, j, ep.IP)
		}
		seen[ep.IP] = i
		if !testSubnet.Contains(ep.IP) || ep.IP == b.Gateway() {
			t.Errorf("endpoint %d got %s", i, ep.IP)
		}
	}
	for i := range n {
		if err := b.Detach(fmt.Sprintf("%07x", i)); err != nil {
			t.Errorf("Detach %d: %v", i, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkNothingLeft(t)
}

func wantEndpoint(t *testing.T, ep *Endpoint, ip, mac, veth string) {
	t.Helper()
	if ep.IP.String() != ip || ep.MAC.String() != mac || ep.HostVeth != veth ||
		ep.PrefixLen != 16 || ep.Gateway.String() != "172.17.0.1" {
		t.Errorf("endpoint = %+v, want %s/16 via 172.17.0.1, %s, %s", ep, ip, mac, veth)
	}
	link, err := netlink.LinkByName(ep.HostVeth)
	if err != nil {
		t.Fatalf("host veth: %v", err)
	}
	br, _ := netlink.LinkByName(DefaultBridge)
	if link.Attrs().MasterIndex != br.Attrs().Index || link.Attrs().OperState == netlink.OperDown {
		t.Errorf("%s: master %d (bridge %d), state %s", ep.HostVeth, link.Attrs().MasterIndex, br.Attrs().Index, link.Attrs().OperState)
	}
}

func checkContainerSide(t *testing.T, pid int, ep *Endpoint) {
	t.Helper()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatalf("eth0 in container: %v", err)
	}
	if eth.Attrs().HardwareAddr.String() != ep.MAC.String() || eth.Attrs().MTU != config.DefaultMTU || eth.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("eth0: mac %s mtu %d flags %s", eth.Attrs().HardwareAddr, eth.Attrs().MTU, eth.Attrs().Flags)
	}
	addrs, _ := h.AddrList(eth, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != ep.IP.String()+"/16" {
		t.Errorf("eth0 addresses = %v", addrs)
	}
	routes, _ := h.RouteList(eth, netlink.FAMILY_V4)
	var def bool
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.String() == "172.17.0.1" {
			def = true
		}
	}
	if !def {
		t.Errorf("no default route via 172.17.0.1: %v", routes)
	}
	lo, _ := h.LinkByName("lo")
	if lo == nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Error("container lo is down")
	}
}

func checkBridge(t *testing.T) {
	t.Helper()
	br, err := netlink.LinkByName(DefaultBridge)
	if err != nil {
		t.Fatalf("bridge: %v", err)
	}
	if br.Type() != "bridge" || br.Attrs().MTU != config.DefaultMTU || br.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s: type %s mtu %d flags %s", DefaultBridge, br.Type(), br.Attrs().MTU, br.Attrs().Flags)
	}
	addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "172.17.0.1/16" {
		t.Errorf("%s addresses = %v, want 172.17.0.1/16", DefaultBridge, addrs)
	}
}

// checkTables checks which of warren's tables exist and their chains.
func checkTables(t *testing.T, wantNAT, wantBridge bool) {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	chains, err := c.ListChains()
	if err != nil {
		t.Fatalf("list chains: %v", err)
	}
	got := map[string]bool{}
	for _, ch := range chains {
		if ch.Table.Name == tableName {
			got[fmt.Sprint(ch.Table.Family, "/", ch.Name)] = true
		}
	}
	want := map[string]bool{}
	if wantNAT {
		want[fmt.Sprint(nftables.TableFamilyIPv4, "/postrouting")] = true
		want[fmt.Sprint(nftables.TableFamilyIPv4, "/forward")] = true
	}
	if wantBridge {
		want[fmt.Sprint(nftables.TableFamilyBridge, "/forward")] = true
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("warren chains = %v, want %v", got, want)
	}
	if wantNAT {
		rules, err := c.GetRules(natTable, &nftables.Chain{Name: "postrouting", Table: natTable})
		if err != nil || len(rules) != 1 {
			t.Errorf("postrouting rules = %d, %v; want the masquerade", len(rules), err)
		}
	}
}

func linkRules(t *testing.T) int {
	t.Helper()
	c, _ := nftables.New()
	rules, err := c.GetRules(bridgeTable, bridgeForward)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rules {
		if bytes.HasPrefix(r.UserData, []byte(linkTag)) {
			n++
		}
	}
	return n
}

func checkNothingLeft(t *testing.T) {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		t.Fatal(err)
	}
	for _, l := range links {
		if name := l.Attrs().Name; name == DefaultBridge || strings.HasPrefix(name, vethPrefix) {
			t.Errorf("%s left behind", name)
		}
	}
	checkTables(t, false, false)
}

// waitGone waits until the kernel has removed a veth whose peer's
// namespace died (that happens asynchronously).
func waitGone(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := netlink.LinkByName(name); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still there 5s after its namespace died", name)
}

// A container reaches the outside through tap0, masqueraded to the
// namespace's uplink address as the gvisor-tap-vsock gateway needs. The
// "outside" is a third namespace holding tap0's peer as 10.0.2.1.
func TestMasqueradeOutOfUplink(t *testing.T) {
	if !nstest.InOwnNetns(t) {
		return
	}
	outside := nstest.Sleeper(t)
	outsideNS, err := netns.GetFromPid(outside)
	if err != nil {
		t.Fatal(err)
	}
	defer outsideNS.Close()
	tap := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "tap0", MTU: config.DefaultMTU},
		PeerName: "uplink", PeerNamespace: netlink.NsFd(outsideNS)}
	if err := netlink.LinkAdd(tap); err != nil {
		t.Fatal(err)
	}
	addr, _ := netlink.ParseAddr("10.0.2.100/24")
	if err := netlink.AddrAdd(tap, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(tap); err != nil {
		t.Fatal(err)
	}
	if err := netlink.RouteAdd(&netlink.Route{LinkIndex: tap.Attrs().Index, Gw: net.IPv4(10, 0, 2, 1)}); err != nil {
		t.Fatal(err)
	}
	var to netip.AddrPort
	var seen = make(chan string, 1)
	inNetns(t, outside, func() {
		far, _ := netlink.LinkByName("uplink")
		gw, _ := netlink.ParseAddr("10.0.2.1/24")
		if err := netlink.AddrAdd(far, gw); err != nil {
			t.Error(err)
		}
		_ = netlink.LinkSetUp(far)
		ln, err := net.Listen("tcp4", "10.0.2.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { ln.Close() })
		to = netip.MustParseAddrPort(ln.Addr().String())
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			seen <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			_, _ = c.Write([]byte("pong"))
			c.Close()
		}()
	})
	if t.Failed() {
		t.FailNow()
	}

	b := setupForTest(t, DefaultConfig())
	defer b.Close()
	c := nstest.Sleeper(t)
	if _, err := b.Attach("cafe001", c); err != nil {
		t.Fatal(err)
	}
	if err := dial(t, c, to, 5*time.Second); err != nil {
		t.Fatalf("container -> outside %s: %v", to, err)
	}
	if src := <-seen; src != "10.0.2.100" {
		t.Errorf("outside saw the container as %s, want 10.0.2.100 (masqueraded)", src)
	}
}
