package uplink

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testUser is the unprivileged user the namespace tests run nsrun as.
const testUser = "warren"

// nsrun builds the test harness where testUser can run it and returns a
// function that runs a shell script in a fresh namespace with the uplink
// driver, as testUser.
func nsrun(t *testing.T, flags string) func(script string) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the namespace as the unprivileged user " + testUser)
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		t.Skipf("no user %s: %v", testUser, err)
	}
	for _, tool := range []string{"busybox", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s in the namespace: %v", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "uplink-ns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "nsrun")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/nsrun").CombinedOutput(); err != nil {
		t.Fatalf("build nsrun: %v\n%s", err, out)
	}
	return func(script string) (string, error) {
		cmd := exec.Command("su", "-", testUser, "-c",
			"XDG_RUNTIME_DIR=/run/user/"+u.Uid+" timeout 30 "+bin+" "+flags+" -- sh -c '"+script+"'")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

// hostTCP serves one connection at a time on the host's loopback: it reads
// a line and answers "pong:" and the line, so data crosses both ways.
func hostTCP(t *testing.T) int { return hostTCPOn(t, "127.0.0.1") }

// hostTCPOn is hostTCP on the host's address ip.
func hostTCPOn(t *testing.T, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Write([]byte("pong:" + line))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// hostUDP echoes datagrams on the host's loopback.
func hostUDP(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func TestNamespaceReachesHostLoopback(t *testing.T) {
	run := nsrun(t, "")
	tcp, udp := strconv.Itoa(hostTCP(t)), strconv.Itoa(hostUDP(t))
	out, err := run("echo ping | busybox nc " + GatewayIP + " " + tcp + "; " +
		// busybox nc has no UDP mode; the host's python3 is visible here.
		"python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b\\\"udp-echo\\\", (\\\"" + GatewayIP + "\\\", " + udp + ")); print(s.recv(100).decode())\"; " +
		// Only that the DNS service answers is checked: on the test machine
		// gvisor-tap-vsock's resolver answers NXDOMAIN even for /etc/hosts
		// names (no upstream DNS; not investigated), hence "; true".
		"busybox nslookup -type=a localhost " + DNSIP + "; true")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"pong:ping",                  // TCP, namespace → host and back
		"udp-echo",                   // UDP echo
		"Address:\t" + DNSIP + ":53", // the DNS service answered
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestNamespaceHostLoopbackDisabled(t *testing.T) {
	run := nsrun(t, "-disable-host-loopback")
	tcp := strconv.Itoa(hostTCP(t))
	out, err := run("if echo ping | busybox nc -w 2 " + GatewayIP + " " + tcp + "; then echo REACHED; else echo REFUSED; fi")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "REFUSED") || strings.Contains(out, "pong") {
		t.Fatalf("the gateway reached the host's loopback:\n%s", out)
	}
	// The gateway still leads to the host's own address, as Docker's
	// bridge gateway does.
	host, ok := HostAddr()
	if !ok {
		t.Fatal("HostAddr found no address")
	}
	port := strconv.Itoa(hostTCPOn(t, host.String()))
	if out, err := run("echo ping | busybox nc -w 5 " + GatewayIP + " " + port); err != nil || !strings.Contains(out, "pong:ping") {
		t.Fatalf("the gateway did not reach the host's %s:%s: %v\n%s", host, port, err, out)
	}
}
