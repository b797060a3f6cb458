package tests

// Helpers of the network and port-publishing tests: host ports the test
// picks, and clients and servers in the test process (on the host's
// loopback). A daemon of the test's own is startOwnDaemon (main_test.go).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Host ports the tests choose come from below the kernel's ephemeral range
// (32768-60999 here) and below warren's -P range (49153-65535), so neither
// an outgoing connection nor a parallel -P takes them between the check
// and the run.
const pickLow, pickHigh = 20000, 32000

var nextPick atomic.Int32

func init() { nextPick.Store(int32(pickLow + rand.IntN(8000))) }

// freePort returns a host port nothing listens on, TCP and UDP, IPv4 and
// IPv6. Each call gives another port.
func freePort(t testing.TB) int {
	t.Helper()
	for range pickHigh - pickLow {
		p := int(nextPick.Add(1))
		if p >= pickHigh {
			nextPick.Store(pickLow)
			continue
		}
		if portFree(p) {
			return p
		}
	}
	t.Fatalf("no free host port in %d-%d", pickLow, pickHigh)
	return 0
}

// freePorts returns n consecutive free ports, for -p A-B:A-B. The block
// is taken from the shared counter in one step, so a parallel test's
// freePort cannot be handed a port inside it.
func freePorts(t testing.TB, n int) int {
	t.Helper()
	for range 100 {
		end := int(nextPick.Add(int32(n)))
		if end >= pickHigh {
			nextPick.Store(pickLow)
			continue
		}
		first := end - n + 1
		ok := true
		for i := 0; i < n && ok; i++ {
			ok = portFree(first + i)
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free host ports", n)
	return 0
}

// portFree binds port on the wildcard addresses, TCP and UDP, as warren's
// default -p does, and lets it go again.
func portFree(port int) bool {
	for _, network := range []string{"tcp4", "tcp6", "udp4", "udp6"} {
		if !bindable(network, port) {
			return false
		}
	}
	return true
}

// bindable binds port on network's wildcard address; a host without IPv6
// counts as free there.
func bindable(network string, port int) bool {
	var c io.Closer
	var err error
	if strings.HasPrefix(network, "tcp") {
		c, err = net.Listen(network, hostAddr(network, port))
	} else {
		c, err = net.ListenPacket(network, hostAddr(network, port))
	}
	if err != nil {
		return strings.HasSuffix(network, "6") && noIPv6(err)
	}
	c.Close()
	return true
}

func hostAddr(network string, port int) string {
	if strings.HasSuffix(network, "6") {
		return net.JoinHostPort("::", strconv.Itoa(port))
	}
	return net.JoinHostPort("0.0.0.0", strconv.Itoa(port))
}

func noIPv6(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

// hostHasIPv6 reports whether the test can use [::1].
func hostHasIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

var netprobeOnce sync.Once
var netprobeErr error

// useNetprobe loads the warren/netprobe image into the suite's daemon once;
// the harness loads only the images every test needs.
func useNetprobe(t testing.TB) {
	t.Helper()
	netprobeOnce.Do(func() {
		r := runCmd(suite.bin, suite.env, nil, "load", "-i", filepath.Join(suite.images, "netprobe.tar"))
		if r.code != 0 {
			netprobeErr = fmt.Errorf("load netprobe.tar: exit %d: %s", r.code, r.stderr)
		}
	})
	if netprobeErr != nil {
		t.Fatal(netprobeErr)
	}
}

// waitLogs waits until the container's log holds text: its server is up.
func waitLogs(t testing.TB, name, text string) {
	t.Helper()
	waitFor(t, 30*time.Second, name+" to log "+text, func() bool {
		stdout, stderr, _ := warren(t, "logs", name)
		return strings.Contains(stdout+stderr, text)
	})
}

var httpClient = &http.Client{
	Timeout: 5 * time.Second,
	// Each request on a new connection, so that every one crosses the
	// forwarder afresh.
	Transport: &http.Transport{DisableKeepAlives: true},
}

func httpGet(addr string) (string, error) {
	resp, err := httpClient.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", addr, resp.Status)
	}
	return string(body), nil
}

// waitHTTP gets / from addr until it answers: right after `run -d` the web
// app may not listen yet, and the forwarder then closes the connection.
func waitHTTP(t testing.TB, addr string) string {
	t.Helper()
	var body string
	var err error
	waitFor(t, 30*time.Second, "an HTTP answer from "+addr, func() bool {
		body, err = httpGet(addr)
		return err == nil
	})
	return body
}

// wantWebapp checks that addr reaches the warren/webapp container.
func wantWebapp(t testing.TB, addr string) {
	t.Helper()
	if body := waitHTTP(t, addr); body != "Hello world!\n" {
		t.Errorf("GET http://%s/ = %q, want the web app's greeting", addr, body)
	}
}

// wantRefused checks that nothing listens on addr any more.
func wantRefused(t testing.TB, network, addr string) {
	t.Helper()
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s %s still accepts connections", network, addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s %s: %v, want connection refused", network, addr, err)
	}
}

// waitBindable waits until the test itself can listen on the port on the
// wildcard addresses: the daemon let it go.
func waitBindable(t testing.TB, port int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("host port %d to be free", port), func() bool { return portFree(port) })
}

// udpExchange sends msg to addr from the test and returns the first reply.
func udpExchange(addr, msg string) (string, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	for range 10 { // datagrams may be lost; a server may not be up yet
		if _, err := conn.Write([]byte(msg)); err != nil {
			return "", err
		}
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := conn.Read(buf); err == nil {
			return string(buf[:n]), nil
		}
	}
	return "", fmt.Errorf("no UDP reply from %s", addr)
}

// lineConn dials a line server (db, netprobe) and reads its first line.
func lineConn(t testing.TB, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	var conn net.Conn
	var r *bufio.Reader
	var first string
	// Retried: before the server listens the forwarder closes at once.
	waitFor(t, 30*time.Second, "a greeting from "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return false
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r = bufio.NewReader(c)
		if first, err = r.ReadString('\n'); err != nil {
			c.Close()
			return false
		}
		conn = c
		return true
	})
	t.Cleanup(func() { conn.Close() })
	return conn, r, strings.TrimSuffix(first, "\n")
}

// listeners lists the local addresses ("127.0.0.1", "0.0.0.0", "::") of
// the host's TCP sockets listening on port, from /proc/net/tcp{,6} of the
// test's network namespace (the host's, where warren's parent binds).
func listeners(t testing.TB, port int) []string {
	t.Helper()
	var addrs []string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for l := range strings.Lines(string(raw)) {
			fields := strings.Fields(l)
			if len(fields) < 4 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			hexIP, hexPort, _ := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err != nil || int(p) != port {
				continue
			}
			addrs = append(addrs, procNetIP(hexIP).String())
		}
	}
	return addrs
}

// procNetIP decodes /proc/net's address: 32-bit words in host (little
// endian) order.
func procNetIP(h string) net.IP {
	b := make([]byte, len(h)/2)
	for i := range b {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	for w := 0; w+4 <= len(b); w += 4 {
		b[w], b[w+1], b[w+2], b[w+3] = b[w+3], b[w+2], b[w+1], b[w]
	}
	return net.IP(b)
}

// psPorts is the PORTS column of `ps` for one container.
func psPorts(t testing.TB, c cli, name string) string {
	t.Helper()
	out := c.mustRun(t, "ps", "-a", "--format", "{{.Names}}|{{.Ports}}")
	for l := range strings.Lines(out) {
		if n, ports, ok := strings.Cut(strings.TrimRight(l, "\n"), "|"); ok && n == name {
			return ports
		}
	}
	t.Fatalf("ps -a does not list %s:\n%s", name, out)
	return ""
}

// bridgeIP is the container's address on the suite daemon's bridge.
func bridgeIP(t testing.TB, name string) string {
	t.Helper()
	ip := inspectField(t, name, "{{.NetworkSettings.IPAddress}}")
	if net.ParseIP(ip) == nil {
		t.Fatalf("%s: .NetworkSettings.IPAddress = %q, want an address", name, ip)
	}
	return ip
}

// trimLines drops the trailing newline of each line, for comparisons.
func trimLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
