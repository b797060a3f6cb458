package uplink

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"warren/internal/config"
)

// fakeTap returns a datagram socket pair: the first end stands in for the tap
// fd handed to the parent (one read, one frame, as on a tap), the second is
// the namespace's side of the wire.
func fakeTap(t *testing.T) (tap, wire *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Non-blocking so the wire end supports read deadlines.
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	tap, wire = os.NewFile(uintptr(fds[0]), "tap"), os.NewFile(uintptr(fds[1]), "wire")
	t.Cleanup(func() { tap.Close(); wire.Close() })
	return tap, wire
}

var childMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x64}

// arpRequest asks who has target, from the namespace's address.
func arpRequest(target string) []byte {
	f := make([]byte, 42)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], childMAC)
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 1) // request
	copy(a[8:14], childMAC)
	copy(a[14:18], net.ParseIP(ChildIP).To4())
	copy(a[24:28], net.ParseIP(target).To4())
	return f
}

// TestParentAnswersARP runs the parent half for real (netstack, socket,
// SCM_RIGHTS hand-off, switch loop) against a fake tap, and checks that the
// gateway answers ARP on it with its fixed MAC. Then it tears the driver
// down and checks that every goroutine it started has stopped.
func TestParentAnswersARP(t *testing.T) {
	d, err := NewParentDriver(Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg, cleanup, err := d.ConfigureNetwork(0, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	// virtualnetwork.New starts service goroutines (DNS, DHCP) that
	// gvisor-tap-vsock never stops; count from here on.
	baseline := runtime.NumGoroutine()

	if msg.IP != ChildIP || msg.Gateway != GatewayIP || msg.Netmask != 24 || msg.MTU != config.DefaultMTU || msg.Dev != DeviceName {
		t.Fatalf("child message %+v", msg)
	}
	if len(msg.DNS) != 1 || msg.DNS[0] != DNSIP {
		t.Fatalf("DNS %v", msg.DNS)
	}

	tap, wire := fakeTap(t)
	if err := handOff(msg.NetworkDriverOpaque[opaqueSocketPath], tap); err != nil {
		t.Fatal(err)
	}
	tap.Close() // as the child does: the parent's copy is the only one left

	if _, err := wire.Write(arpRequest(GatewayIP)); err != nil {
		t.Fatal(err)
	}
	reply := readFrame(t, wire, 0x0806)
	gwMAC, _ := net.ParseMAC(gatewayMAC)
	if !bytes.Equal(reply[0:6], childMAC) || !bytes.Equal(reply[22:28], gwMAC) {
		t.Fatalf("ARP reply %x", reply)
	}
	if !bytes.Equal(reply[28:32], net.ParseIP(GatewayIP).To4()) {
		t.Fatalf("ARP reply for %v", net.IP(reply[28:32]))
	}

	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(msg.NetworkDriverOpaque[opaqueSocketPath]); !os.IsNotExist(err) {
		t.Fatalf("socket left behind: %v", err)
	}
	waitGoroutines(t, baseline)
}

// readFrame reads frames from wire until one of the given EtherType arrives.
func readFrame(t *testing.T, wire *os.File, etherType uint16) []byte {
	t.Helper()
	if err := wire.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		n, err := wire.Read(buf)
		if err != nil {
			t.Fatalf("no frame of type %#x: %v", etherType, err)
		}
		if n >= 14 && binary.BigEndian.Uint16(buf[12:]) == etherType {
			return buf[:n]
		}
	}
}

// waitGoroutines waits until the goroutine count is back to at most want.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestParentRejectsHandOffWithoutFD(t *testing.T) {
	d, err := NewParentDriver(Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg, cleanup, err := d.ConfigureNetwork(0, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	c, err := net.Dial("unix", msg.NetworkDriverOpaque[opaqueSocketPath])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte{msgTap}); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 1)
	if _, err := c.Read(reply); err != nil || reply[0] != replyFail {
		t.Fatalf("reply %q, %v; want failure", reply, err)
	}
}
