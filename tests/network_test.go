package tests

// The containers' network (issue 3): the bridge, addresses in inspect, the
// way out to the host, DNS, address reuse, and the --network modes. Servers
// "on the host" run in this test process on the host's own address (the
// host's loopback is closed to containers unless the daemon runs with
// --host-loopback); containers reach them as host.warren.internal.

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"warren/internal/nettest"
	"warren/netstack/uplink"
)

const bridgeGateway = "172.17.0.1"

func TestNetContainerToContainer(t *testing.T) {
	t.Parallel()
	db, _ := runDetached(t, warrenCLI, "warren/db")
	dbIP := bridgeIP(t, db)
	waitLogs(t, db, "db listening")
	out := mustWarren(t, "run", "--rm", "busybox", "sh", "-c",
		fmt.Sprintf("echo hello | nc -w 5 %s 5432; ping -c 1 -W 5 %s >/dev/null && echo ping-ok", dbIP, dbIP))
	if want := "warren-db ready\nhello\nping-ok\n"; out != want {
		t.Errorf("TCP and ping to %s from another container: %q, want %q", dbIP, out, want)
	}
}

func TestNetPingGateway(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "run", "--rm", "busybox", "sh", "-c", "ping -c 1 -W 5 "+bridgeGateway+" | grep -c 'bytes from "+bridgeGateway+"'")
	if out != "1\n" {
		t.Errorf("ping %s from a container: got %q, want one reply", bridgeGateway, out)
	}
}

// The addresses inspect shows are the ones the container really has,
// both the old top-level fields (API ≤ 1.51, which the docker CLI 28 and
// countless scripts read) and the bridge endpoint's.
func TestNetInspectAddresses(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		real := strings.Fields(c.mustRun(t, "exec", name, "sh", "-c",
			"ip -o -4 addr show eth0 | awk '{print $4}'; cat /sys/class/net/eth0/address; ip route | awk '/^default/ {print $3}'"))
		if len(real) != 3 {
			t.Fatalf("exec ip addr: %q", real)
		}
		ip, prefix, _ := strings.Cut(real[0], "/")
		want := strings.Join([]string{ip, bridgeGateway, real[1], prefix}, " ")
		if real[2] != bridgeGateway || prefix != "16" || !strings.HasPrefix(ip, "172.17.") {
			t.Errorf("container has %s, MAC %s, default route via %s; want 172.17.x.y/16 via %s", real[0], real[1], real[2], bridgeGateway)
		}
		for _, tmpl := range []string{
			"{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}} {{.NetworkSettings.IPPrefixLen}}",
			"{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Networks.bridge.MacAddress}} {{.NetworkSettings.Networks.bridge.IPPrefixLen}}",
			"{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.Gateway}} {{.MacAddress}} {{.IPPrefixLen}}{{end}}",
		} {
			if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", tmpl, name)); got != want {
				t.Errorf("inspect -f %q = %q, want %q", tmpl, got, want)
			}
		}
		if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}", name)); got != "bridge 1" {
			t.Errorf("NetworkMode and number of networks = %q, want \"bridge 1\"", got)
		}
	})
}

// hostIP is the host's own address that host.warren.internal leads to
// while the host's loopback is closed (uplink.HostAddr).
func hostIP(t testing.TB) string {
	t.Helper()
	a, ok := uplink.HostAddr()
	if !ok {
		t.Fatal("the host has no non-loopback IPv4 address for host.warren.internal to lead to")
	}
	return a.String()
}

// hostTCPServer listens on the host's own address, passes on every line a
// connection sends and answers each with "host got <line>".
func hostTCPServer(t *testing.T) (port int, lines <-chan string) {
	t.Helper()
	return hostTCPServerOn(t, hostIP(t))
}

// hostTCPServerOn is hostTCPServer on the host's address ip.
func hostTCPServerOn(t *testing.T, ip string) (port int, lines <-chan string) {
	t.Helper()
	got := make(chan string, 16)
	ap := nettest.ServeTCP(t, net.JoinHostPort(ip, "0"), func(conn *net.TCPConn) {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			got <- sc.Text()
			fmt.Fprintf(conn, "host got %s\n", sc.Text())
		}
	})
	return int(ap.Port()), got
}

func TestNetOutboundTCPToHost(t *testing.T) {
	t.Parallel()
	port, lines := hostTCPServer(t)
	out := mustWarren(t, "run", "--rm", "busybox", "sh", "-c",
		fmt.Sprintf("echo from-container | nc -w 5 host.warren.internal %d", port))
	if out != "host got from-container\n" {
		t.Errorf("container → host.warren.internal:%d printed %q, want the host's answer", port, out)
	}
	select {
	case l := <-lines:
		if l != "from-container" {
			t.Errorf("host server read %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Error("the host server saw no line")
	}
}

// A container's open connection through the gateway outlives the other
// containers on the bridge. A bridge without a MAC of its own takes the
// lowest of its ports' and changes it when that port leaves; a container
// that had learned it would then send into the void (this stalled
// `nc host.warren.internal` in CI). Docker fixes the bridge's MAC too.
func TestNetGatewayOutlivesOtherContainers(t *testing.T) {
	t.Parallel()
	port, lines := hostTCPServer(t)
	nextLine := func(want string) {
		t.Helper()
		select {
		case l := <-lines:
			if l != want {
				t.Fatalf("host read %q, want %q", l, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("the host never read %q from the container", want)
		}
	}
	var others []string
	for range 4 {
		name, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
		others = append(others, name)
	}
	gw := inspectField(t, others[0], "{{.NetworkSettings.Gateway}}")
	gatewayMAC := func(args ...string) string {
		t.Helper()
		// nc to a closed port makes the container resolve the gateway.
		out := mustWarren(t, append(args, "sh", "-c", "nc -w 1 "+gw+" 9 </dev/null; cat /proc/net/arp")...)
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 4 && f[0] == gw {
				return f[3]
			}
		}
		t.Fatalf("no ARP entry for the gateway %s:\n%s", gw, out)
		return ""
	}
	client, _ := runDetached(t, warrenCLI, "busybox", "sh", "-c", fmt.Sprintf(
		"(echo before; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after) | nc host.warren.internal %d", port))
	nextLine("before")
	learned := gatewayMAC("exec", client)

	mustWarren(t, append([]string{"rm", "-f"}, others...)...)
	mustWarren(t, "exec", client, "touch", "/tmp/go")
	nextLine("after")
	if now := gatewayMAC("run", "--rm", "busybox"); now != learned {
		t.Errorf("the gateway's MAC changed from %s to %s as containers left", learned, now)
	}
}

// The host's loopback is closed to containers by default, as in rootless
// Docker: a server on the host's 127.0.0.1 only is not reachable as
// host.warren.internal, while host.warren.internal and --add-host
// x:host-gateway reach servers on the host's own address, as Docker's
// bridge gateway does. A daemon started with --host-loopback opens it.
func TestNetHostLoopback(t *testing.T) {
	t.Parallel()
	loPort, loLines := hostTCPServerOn(t, "127.0.0.1")
	hostPort, _ := hostTCPServer(t)
	script := fmt.Sprintf("echo lo | nc -w 5 host.warren.internal %d; echo lo=$?; echo host | nc -w 5 myhost %d; echo host=$?", loPort, hostPort)
	out := mustWarren(t, "run", "--rm", "--add-host", "myhost:host-gateway", "busybox", "sh", "-c", script)
	if want := "lo=1\nhost got host\nhost=0\n"; out != want {
		t.Errorf("by default, the host's 127.0.0.1 and own address from a container: %q, want %q", out, want)
	}
	select {
	case l := <-loLines:
		t.Errorf("a container reached the host's 127.0.0.1 by default and sent %q", l)
	default:
	}
	if info := mustWarren(t, "info"); !strings.Contains(info, " Host Loopback: closed ") {
		t.Errorf("warren info does not say the host's loopback is closed:\n%s", info)
	}

	d := startOwnDaemon(t, "--host-loopback")
	out = d.mustRun(t, "run", "--rm", "busybox", "sh", "-c", fmt.Sprintf("echo lo | nc -w 5 host.warren.internal %d", loPort))
	if out != "host got lo\n" {
		t.Errorf("with --host-loopback, the host's 127.0.0.1 from a container: %q, want the server's answer", out)
	}
	if info := d.mustRun(t, "info"); !strings.Contains(info, " Host Loopback: open ") {
		t.Errorf("warren info of a --host-loopback daemon does not say it is open:\n%s", info)
	}
}

func TestNetOutboundHTTPToHost(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp4", net.JoinHostPort(hostIP(t), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host says hi to %s\n", r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := fmt.Sprintf("http://host.warren.internal:%d/probe", ln.Addr().(*net.TCPAddr).Port)
	if out := mustWarren(t, "run", "--rm", "busybox", "wget", "-q", "-O", "-", url); out != "host says hi to /probe\n" {
		t.Errorf("wget %s = %q", url, out)
	}
}

func TestNetOutboundUDPToHost(t *testing.T) {
	t.Parallel()
	useNetprobe(t)
	ap := nettest.ServeUDP(t, net.JoinHostPort(hostIP(t), "0"), func(b []byte) []byte { return append([]byte("host echo: "), b...) })
	addr := "host.warren.internal:" + strconv.Itoa(int(ap.Port()))
	out := mustWarren(t, "run", "--rm", "warren/netprobe", "/netprobe", "udp", addr, "datagram")
	if out != "host echo: datagram\n" {
		t.Errorf("UDP container → %s: %q, want the host's echo", addr, out)
	}
}

// The container's resolv.conf names the uplink's DNS server, and it
// answers: host.warren.internal from its own zone, and names the host
// resolves from its /etc/hosts (localhost) the way the host does. Only
// such names are asked, so no query leaves the machine (nslookup asks the
// server directly; it never reads the container's /etc/hosts).
func TestNetDNSThroughUplink(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "run", "--rm", "busybox", "sh", "-c",
		"awk '/^nameserver/ {print $2}' /etc/resolv.conf; awk '$2 == \"host.warren.internal\" {print $1}' /etc/hosts; echo =; nslookup -type=a host.warren.internal 2>&1")
	addrs, answer, _ := strings.Cut(out, "=\n")
	f := strings.Fields(addrs)
	if len(f) != 2 {
		t.Fatalf("want one nameserver in resolv.conf and one host.warren.internal line in /etc/hosts, got %q", f)
	}
	ns, gw := f[0], f[1]
	if !strings.Contains(answer, "Server:\t\t"+ns) {
		t.Errorf("nslookup did not ask %s:\n%s", ns, answer)
	}
	if !regexp.MustCompile(`Name:\s+host\.warren\.internal\s+Address:\s+` + regexp.QuoteMeta(gw) + `\n`).MatchString(answer) {
		t.Errorf("nslookup host.warren.internal through %s: want %s, as in /etc/hosts:\n%s", ns, gw, answer)
	}
	answer = mustWarren(t, "run", "--rm", "busybox", "nslookup", "-type=a", "localhost")
	if !regexp.MustCompile(`Name:\s+localhost\s+Address:\s+127\.0\.0\.1\n`).MatchString(answer) {
		t.Errorf("nslookup localhost through the uplink: want 127.0.0.1 from the host's /etc/hosts:\n%s", answer)
	}
}

// A stopped container's address goes back to the pool; the next containers
// get other addresses first (Docker's allocator continues after the last
// one), and no two running containers ever share one.
func TestNetAddressReuse(t *testing.T) {
	t.Parallel()
	a, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	ipA := bridgeIP(t, a)
	mustWarren(t, "stop", "-t", "0", a)
	if got := inspectField(t, a, "{{.NetworkSettings.IPAddress}}"); got != "" {
		t.Errorf("stopped container still shows address %q", got)
	}
	b, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	if ipB := bridgeIP(t, b); ipB == ipA {
		t.Errorf("the next container got %s, the address just released; Docker hands out the next one first", ipB)
	}
	mustWarren(t, "start", a)
	bridgeIP(t, a)
	wantDistinctRunningIPs(t)
}

// wantDistinctRunningIPs checks that the running containers of the suite's
// daemon all have different addresses.
func wantDistinctRunningIPs(t *testing.T) {
	t.Helper()
	ids := strings.Fields(mustWarren(t, "ps", "-q", "--no-trunc"))
	if len(ids) == 0 {
		return
	}
	// Parallel tests remove containers meanwhile: inspect prints the ones
	// still there and fails for the rest, which is fine here.
	out, _, _ := warren(t, append([]string{"inspect", "-f", "{{.Name}} {{.State.Running}} {{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}}"}, ids...)...)
	owner := map[string]string{}
	for l := range strings.Lines(out) {
		f := strings.Fields(l)
		if len(f) != 4 || f[1] != "true" || f[2] != "bridge" {
			continue
		}
		if other, dup := owner[f[3]]; dup {
			t.Errorf("running containers %s and %s both have %s", other, f[0], f[3])
		}
		owner[f[3]] = f[0]
	}
}

// Once the pool wraps around, a released address is handed out again. A
// daemon of the test's own with a /29 bridge (five container addresses)
// makes that quick; a full pool gives Docker's IPAM error.
func TestNetAddressReusedAfterWrap(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t, "--subnet", "172.31.250.0/29")
	// Removed before the daemon stops, so its SIGTERM need not wait for
	// sleep to ignore a stop signal.
	t.Cleanup(func() { d.run(t, "rm", "-f", "c0", "c1", "c2", "c3", "c4", "again") })
	var ips []string
	for i := range 5 {
		name := fmt.Sprintf("c%d", i)
		d.mustRun(t, "run", "-d", "--name", name, "busybox", "sleep", "1000")
		ips = append(ips, d.ip(t, name))
	}
	if want := []string{"172.31.250.2", "172.31.250.3", "172.31.250.4", "172.31.250.5", "172.31.250.6"}; !slices.Equal(ips, want) {
		t.Errorf("addresses %v, want %v in order", ips, want)
	}
	r := d.run(t, "run", "-d", "--name", "full", "busybox", "sleep", "1000")
	if r.code != 125 || !strings.Contains(r.stderr, "no available addresses on this pool") {
		t.Errorf("run on a full pool: exit %d, stderr %q; want 125 and Docker's IPAM error", r.code, r.stderr)
	}
	d.mustRun(t, "rm", "-f", "full")
	d.mustRun(t, "stop", "-t", "0", "c1")
	d.mustRun(t, "run", "-d", "--name", "again", "busybox", "sleep", "1000")
	if got := d.ip(t, "again"); got != ips[1] {
		t.Errorf("after c1 (%s) stopped the next container got %s, want the released address", ips[1], got)
	}
	r = d.run(t, "start", "c1")
	if r.code == 0 || !strings.Contains(r.stderr, "no available addresses on this pool") {
		t.Errorf("start c1 with its address taken and the pool full: exit %d, stderr %q; want Docker's IPAM error", r.code, r.stderr)
	}
}

// Fifty containers started at once get fifty addresses, and each reaches
// the next one.
func TestNetFiftyAtOnce(t *testing.T) {
	t.Parallel()
	const n = 50
	names := make([]string, n)
	for i := range names {
		names[i] = container(t)
	}
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, stderr, code := warren(t, "run", "-d", "--name", name, "busybox", "sleep", "1000"); code != 0 {
				errs[i] = fmt.Sprintf("run %s: exit %d: %s", name, code, stderr)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	out := mustWarren(t, append([]string{"inspect", "-f", "{{.NetworkSettings.IPAddress}}"}, names...)...)
	ips := strings.Fields(out)
	if len(ips) != n {
		t.Fatalf("inspect printed %d addresses for %d containers:\n%s", len(ips), n, out)
	}
	if distinct := len(slices.Compact(slices.Sorted(slices.Values(ips)))); distinct != n {
		t.Errorf("%d containers got only %d distinct addresses: %v", n, distinct, ips)
	}
	// Each pings its neighbour, a few at a time (two cores).
	sem := make(chan struct{}, 8)
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			next := ips[(i+1)%n]
			if _, stderr, code := warren(t, "exec", name, "ping", "-c", "1", "-W", "5", next); code != 0 {
				t.Errorf("%s cannot ping its neighbour %s: exit %d %s", name, next, code, stderr)
			}
		}()
	}
	wg.Wait()
}

func TestNetNone(t *testing.T) {
	t.Parallel()
	name := container(t)
	out := mustWarren(t, "run", "--name", name, "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net; ip route | wc -l")
	if out != "lo\n0\n" {
		t.Errorf("--network none: interfaces and route count %q, want only lo and no routes", out)
	}
	if got := inspectField(t, name, "{{.HostConfig.NetworkMode}}|{{.NetworkSettings.IPAddress}}"); got != "none|" {
		t.Errorf("inspect NetworkMode|IPAddress = %q, want \"none|\"", got)
	}
}

// --network host is the engine's namespace: the uplink and the bridge.
func TestNetHost(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
	ifs := strings.Fields(out)
	for _, want := range []string{"lo", "tap0", "warren0"} {
		if !slices.Contains(ifs, want) {
			t.Errorf("--network host sees %v, want %s among them", ifs, want)
		}
	}
	if got := mustWarren(t, "run", "--rm", "--network", "host", "busybox", "sh", "-c", "ip -o -4 addr show warren0 | awk '{print $4}'"); got != bridgeGateway+"/16\n" {
		t.Errorf("--network host: warren0 has %q, want %s/16", got, bridgeGateway)
	}
}

// --network container:NAME joins NAME's namespace: same interfaces, same
// address, and its servers on localhost.
func TestNetContainerMode(t *testing.T) {
	t.Parallel()
	db, _ := runDetached(t, warrenCLI, "warren/db")
	waitLogs(t, db, "db listening")
	show := "ip -o addr show eth0 | awk '{print $4}'; cat /sys/class/net/eth0/address"
	want := mustWarren(t, "exec", db, "sh", "-c", show)
	got := mustWarren(t, "run", "--rm", "--network", "container:"+db, "busybox", "sh", "-c", show)
	if got != want {
		t.Errorf("--network container:%s sees\n%s\nwant the same as %s:\n%s", db, got, db, want)
	}
	if out := mustWarren(t, "run", "--rm", "--network", "container:"+db, "busybox", "sh", "-c", "nc -w 5 127.0.0.1 5432 </dev/null"); out != "warren-db ready\n" {
		t.Errorf("localhost:5432 from a container sharing db's network: %q", out)
	}
}

var ipv4Line = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+)\t`)

// /etc/hosts of a bridge container, line by line: Docker's layout
// (docker-behavior 2.1) with warren's host.warren.internal before the
// --add-host entries.
func TestNetEtcHostsLayout(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, id := runDetached(t, c, "--add-host", "foo:192.0.2.7", "--add-host", "myhost:host-gateway", "busybox", "sleep", "1000")
		hosts := c.mustRun(t, "exec", name, "cat", "/etc/hosts")
		lines := trimLines(hosts)
		if len(lines) != 10 {
			t.Fatalf("/etc/hosts has %d lines, want 10:\n%s", len(lines), hosts)
		}
		m := ipv4Line.FindStringSubmatch(lines[6])
		if m == nil || lines[6] != m[1]+"\thost.warren.internal" {
			t.Fatalf("line 7 = %q, want <gateway>\\thost.warren.internal", lines[6])
		}
		gw := m[1]
		want := []string{
			"127.0.0.1\tlocalhost",
			"::1\tlocalhost ip6-localhost ip6-loopback",
			"fe00::\tip6-localnet",
			"ff00::\tip6-mcastprefix",
			"ff02::1\tip6-allnodes",
			"ff02::2\tip6-allrouters",
			gw + "\thost.warren.internal",
			"192.0.2.7\tfoo",
			gw + "\tmyhost", // host-gateway is the same address
			bridgeIP(t, name) + "\t" + id[:12],
		}
		if !slices.Equal(lines, want) {
			t.Errorf("/etc/hosts:\n%s\nwant:\n%s", hosts, strings.Join(want, "\n"))
		}
		// host-gateway reaches the host: ping answers.
		if _, stderr, code := c.run(t, "exec", name, "ping", "-c", "1", "-W", "5", "myhost"); code != 0 {
			t.Errorf("ping myhost (host-gateway): exit %d %s", code, stderr)
		}
	})
}

func TestNetDNSFlag(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		// Only written to the file; nothing asks these servers.
		out := c.mustRun(t, "run", "--rm", "--dns", "192.0.2.53", "--dns", "192.0.2.54", "--dns-search", "example.test",
			"--dns-option", "ndots:2", "busybox", "grep", "-E", "^(nameserver|search|options) ", "/etc/resolv.conf")
		if want := "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.test\noptions ndots:2\n"; out != want {
			t.Errorf("resolv.conf with --dns: %q, want %q", out, want)
		}
	})
}
