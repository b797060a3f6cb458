package tests

// Published ports (issue 4): every -p form reached from the test process on
// the host's loopback, what port, ps and inspect print, conflicts with
// Docker's texts, and ports released whenever the container stops holding
// them.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// randomPort reads the host port of `port` output "<ip>:<N>" and checks N
// is in warren's -P range.
func randomPort(t testing.TB, line, ip string) int {
	t.Helper()
	host, p, err := net.SplitHostPort(line)
	n, _ := strconv.Atoi(p)
	if err != nil || host != ip || n < 49153 || n > 65535 {
		t.Fatalf("port line %q, want %s:<49153-65535>", line, ip)
	}
	return n
}

func TestPortPublishAll(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "-P", "warren/webapp")
		lines := trimLines(c.mustRun(t, "port", name, "5000"))
		if len(lines) != 2 {
			t.Fatalf("port %s 5000 printed %q, want an IPv4 and an IPv6 line", name, lines)
		}
		hp := randomPort(t, lines[0], "0.0.0.0")
		if lines[1] != fmt.Sprintf("[::]:%d", hp) {
			t.Errorf("port %s 5000 line 2 = %q, want [::]:%d (the same port)", name, lines[1], hp)
		}
		if got, want := c.mustRun(t, "port", name), fmt.Sprintf("5000/tcp -> 0.0.0.0:%d\n5000/tcp -> [::]:%d\n", hp, hp); got != want {
			t.Errorf("port %s = %q, want %q", name, got, want)
		}
		if got, want := psPorts(t, c, name), fmt.Sprintf("0.0.0.0:%d->5000/tcp, [::]:%d->5000/tcp", hp, hp); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		wantWebapp(t, loopback(hp))
		if hostHasIPv6() {
			wantWebapp(t, net.JoinHostPort("::1", strconv.Itoa(hp)))
		}
		if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{json .HostConfig.PortBindings}} {{.HostConfig.PublishAllPorts}}", name)); got != "{} true" {
			t.Errorf("inspect PortBindings PublishAllPorts = %q, want {} true", got)
		}
	})
}

func TestPortExplicit(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		hp := freePort(t)
		name, _ := runDetached(t, c, "-p", fmt.Sprintf("%d:5000", hp), "warren/webapp")
		wantWebapp(t, loopback(hp))
		if got, want := c.mustRun(t, "port", name, "5000/tcp"), fmt.Sprintf("0.0.0.0:%d\n[::]:%d\n", hp, hp); got != want {
			t.Errorf("port = %q, want %q", got, want)
		}
		if got, want := psPorts(t, c, name), fmt.Sprintf("0.0.0.0:%d->5000/tcp, [::]:%d->5000/tcp", hp, hp); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		wantInspectJSON(t, c, name, "{{json .HostConfig.PortBindings}}",
			fmt.Sprintf(`{"5000/tcp":[{"HostIp":"","HostPort":"%d"}]}`, hp))
		wantInspectJSON(t, c, name, "{{json .NetworkSettings.Ports}}",
			fmt.Sprintf(`{"5000/tcp":[{"HostIp":"0.0.0.0","HostPort":"%d"},{"HostIp":"::","HostPort":"%d"}]}`, hp, hp))
		if got := listeners(t, hp); !slices.Contains(got, "0.0.0.0") {
			t.Errorf("host listeners on %d: %v, want 0.0.0.0 (and :: where the host has IPv6)", hp, got)
		}
	})
}

// wantInspectJSON compares a JSON value of inspect, key order aside.
func wantInspectJSON(t testing.TB, c cli, name, tmpl, want string) {
	t.Helper()
	got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", tmpl, name))
	var g, w any
	if json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal([]byte(want), &w) != nil || !jsonEqual(g, w) {
		t.Errorf("inspect -f %s = %s, want %s", tmpl, got, want)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a) // maps marshal with sorted keys
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// -p 127.0.0.1:H:5000 binds the host's loopback only.
func TestPortLoopbackOnly(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	name, _ := runDetached(t, warrenCLI, "-p", fmt.Sprintf("127.0.0.1:%d:5000", hp), "warren/webapp")
	wantWebapp(t, loopback(hp))
	if got := listeners(t, hp); !slices.Equal(got, []string{"127.0.0.1"}) {
		t.Errorf("host listeners on port %d: %v, want only 127.0.0.1", hp, got)
	}
	if got, want := mustWarren(t, "port", name), fmt.Sprintf("5000/tcp -> 127.0.0.1:%d\n", hp); got != want {
		t.Errorf("port = %q, want %q", got, want)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		if got, want := psPorts(t, c, name), fmt.Sprintf("127.0.0.1:%d->5000/tcp", hp); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		wantInspectJSON(t, c, name, "{{json .HostConfig.PortBindings}}",
			fmt.Sprintf(`{"5000/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`, hp))
		wantInspectJSON(t, c, name, "{{json .NetworkSettings.Ports}}",
			fmt.Sprintf(`{"5000/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`, hp))
	})
}

func TestPortLoopbackRandom(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "-p", "127.0.0.1::5000", "warren/webapp")
		hp := randomPort(t, strings.TrimSpace(c.mustRun(t, "port", name, "5000")), "127.0.0.1")
		wantWebapp(t, loopback(hp))
		wantInspectJSON(t, c, name, "{{json .HostConfig.PortBindings}}", `{"5000/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]}`)
		if got, want := psPorts(t, c, name), fmt.Sprintf("127.0.0.1:%d->5000/tcp", hp); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
	})
}

func TestPortUDP(t *testing.T) {
	t.Parallel()
	useNetprobe(t)
	bothCLIs(t, func(t *testing.T, c cli) {
		hp := freePort(t)
		name, _ := runDetached(t, c, "-p", fmt.Sprintf("127.0.0.1:%d:7000/udp", hp), "warren/netprobe")
		waitLogs(t, name, "netprobe ready")
		if got, err := udpExchange(loopback(hp), "hello over udp"); err != nil || got != "hello over udp" {
			t.Errorf("UDP through 127.0.0.1:%d: %q %v, want the echo", hp, got, err)
		}
		if got, want := c.mustRun(t, "port", name, "7000/udp"), fmt.Sprintf("127.0.0.1:%d\n", hp); got != want {
			t.Errorf("port %s 7000/udp = %q, want %q", name, got, want)
		}
		if got, want := psPorts(t, c, name), fmt.Sprintf("127.0.0.1:%d->7000/udp", hp); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
	})
}

// Ranges, several -p, TCP and UDP on one container: every port answers as
// itself, and ps collapses the same-numbered range.
func TestPortRangesAndSeveral(t *testing.T) {
	t.Parallel()
	useNetprobe(t)
	a := freePorts(t, 3)
	b, u := freePort(t), freePort(t)
	name, _ := runDetached(t, warrenCLI,
		"-p", fmt.Sprintf("%d-%d:%d-%d", a, a+2, a, a+2),
		"-p", fmt.Sprintf("%d:6000", b),
		"-p", fmt.Sprintf("127.0.0.1:%d:7000/udp", u),
		"warren/netprobe", "/netprobe", "serve",
		fmt.Sprintf("tcp:%d", a), fmt.Sprintf("tcp:%d", a+1), fmt.Sprintf("tcp:%d", a+2), "tcp:6000", "udp:7000")
	waitLogs(t, name, "netprobe ready")
	for host, ctr := range map[int]int{a: a, a + 1: a + 1, a + 2: a + 2, b: 6000} {
		if _, _, first := lineConn(t, loopback(host)); first != fmt.Sprintf("netprobe %d", ctr) {
			t.Errorf("host port %d reached %q, want container port %d", host, first, ctr)
		}
	}
	if got, err := udpExchange(loopback(u), "udp too"); err != nil || got != "udp too" {
		t.Errorf("UDP through %d: %q %v", u, got, err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		// Docker's DisplayablePorts: same-numbered consecutive ports
		// collapse per host IP; a binding to another host port stands
		// alone, after the groups, in container-port order.
		got := psPorts(t, c, name)
		want := fmt.Sprintf("0.0.0.0:%d-%d->%d-%d/tcp, [::]:%d-%d->%d-%d/tcp, 0.0.0.0:%d->6000/tcp, [::]:%d->6000/tcp, 127.0.0.1:%d->7000/udp",
			a, a+2, a, a+2, a, a+2, a, a+2, b, b, u)
		if got != want {
			t.Errorf("ps PORTS = %q\nwant        %q", got, want)
		}
		wantInspectJSON(t, c, name, "{{json .HostConfig.PortBindings}}", fmt.Sprintf(
			`{"%d/tcp":[{"HostIp":"","HostPort":"%d"}],"%d/tcp":[{"HostIp":"","HostPort":"%d"}],"%d/tcp":[{"HostIp":"","HostPort":"%d"}],`+
				`"6000/tcp":[{"HostIp":"","HostPort":"%d"}],"7000/udp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`,
			a, a, a+1, a+1, a+2, a+2, b, u))
	})
}

// --expose adds a port that -P then publishes, next to the image's EXPOSE.
func TestPortExposeAndPublishAll(t *testing.T) {
	t.Parallel()
	useNetprobe(t)
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--expose", "7001", "-P", "warren/netprobe", "/netprobe", "serve", "udp:7000", "tcp:7001")
		waitLogs(t, name, "netprobe ready")
		tcp := randomPort(t, trimLines(c.mustRun(t, "port", name, "7001"))[0], "0.0.0.0")
		udp := randomPort(t, trimLines(c.mustRun(t, "port", name, "7000/udp"))[0], "0.0.0.0")
		if _, _, first := lineConn(t, loopback(tcp)); first != "netprobe 7001" {
			t.Errorf("-P port %d for --expose 7001 reached %q", tcp, first)
		}
		if got, err := udpExchange(loopback(udp), "exposed udp"); err != nil || got != "exposed udp" {
			t.Errorf("-P port %d for EXPOSE 7000/udp: %q %v", udp, got, err)
		}
		want := fmt.Sprintf("0.0.0.0:%d->7000/udp, [::]:%d->7000/udp, 0.0.0.0:%d->7001/tcp, [::]:%d->7001/tcp", udp, udp, tcp, tcp)
		if got := psPorts(t, c, name); got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		wantInspectJSON(t, c, name, "{{json .Config.ExposedPorts}}", `{"7000/udp":{},"7001/tcp":{}}`)
	})
}

// An exposed port that is not published shows as "5432/tcp" in ps and null
// in inspect.
func TestPortExposedOnly(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "warren/db")
		if got := psPorts(t, c, name); got != "5432/tcp" {
			t.Errorf("ps PORTS = %q, want 5432/tcp", got)
		}
		wantInspectJSON(t, c, name, "{{json .NetworkSettings.Ports}}", `{"5432/tcp":null}`)
		_, stderr, code := c.run(t, "port", name, "5432")
		if want := "No public port '5432' published for " + name; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("port %s 5432: exit %d stderr %q, want 1 and %q", name, code, stderr, want)
		}
	})
}

// The client writes a line and half-closes; the server still answers.
func TestPortHalfClose(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	runDetached(t, warrenCLI, "-p", fmt.Sprintf("%d:5432", hp), "warren/db")
	conn, r, banner := lineConn(t, loopback(hp))
	if banner != "warren-db ready" {
		t.Fatalf("banner %q", banner)
	}
	if _, err := io.WriteString(conn, "last words\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "last words\n" {
		t.Errorf("after CloseWrite read %q (%v), want the echo then EOF", rest, err)
	}
}

// 200 connections at once through one published port each get their own
// bytes back.
func TestPortManyConnections(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	runDetached(t, warrenCLI, "-p", fmt.Sprintf("127.0.0.1:%d:5432", hp), "warren/db")
	lineConn(t, loopback(hp)) // the server is up
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- dbRoundTrip(loopback(hp), fmt.Sprintf("connection %d %s", i, strings.Repeat("x", i*50)))
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Error(err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d connections failed", failed, n)
	}
}

func dbRoundTrip(addr, line string) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return err
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	got, err := io.ReadAll(conn)
	if want := "warren-db ready\n" + line + "\n"; err != nil || string(got) != want {
		return fmt.Errorf("%.20q…: read %d bytes (%v), want %d", line, len(got), err, len(want))
	}
	return nil
}

// The start error Docker gives when a host port is taken (docker-behavior
// 3.4), after "Error response from daemon: ".
func conflictError(name, reason string) *regexp.Regexp {
	return regexp.MustCompile(`Error response from daemon: failed to set up container networking: driver failed programming external connectivity on endpoint ` +
		regexp.QuoteMeta(name) + ` \([0-9a-f]{64}\): ` + reason + `\n`)
}

// wantFailedStart checks a `run -d` that failed to publish: exit 125,
// Docker's text, the container left Created, and none of its ports bound.
func wantFailedStart(t *testing.T, c cli, name string, msg *regexp.Regexp, otherPorts []int, args ...string) {
	t.Helper()
	stdout, stderr, code := c.run(t, append([]string{"run", "-d", "--name", name}, args...)...)
	if code != 125 || !msg.MatchString(stderr) {
		t.Errorf("run: exit %d, stderr:\n%s\nwant 125 and a match for %s", code, stderr, msg)
	}
	// The CLI printed the ID after create, before start failed.
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(stdout) {
		t.Errorf("run -d stdout = %q, want the created container's ID", stdout)
	}
	if got := inspectField(t, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "created 128" {
		t.Errorf("after the failed start: status and exit code %q, want \"created 128\"", got)
	}
	if got := psPorts(t, c, name); got != "" {
		t.Errorf("ps PORTS of the failed container = %q, want empty", got)
	}
	for _, p := range otherPorts {
		wantRefused(t, "tcp", loopback(p))
		if !portFree(p) {
			t.Errorf("host port %d of the failed container is still bound", p)
		}
	}
}

func TestPortConflictWithHostProcess(t *testing.T) {
	t.Parallel()
	eachCLI(t, func(t *testing.T, c cli) {
		taken, other := freePort(t), freePort(t)
		ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", taken))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		name := container(t)
		msg := conflictError(name, fmt.Sprintf(`failed to bind host port for 0\.0\.0\.0:%d:172\.17\.\d+\.\d+:5000/tcp: address already in use`, taken))
		// The free port comes first in Docker's order (exact ports by
		// container port), so it was bound and must have been undone.
		wantFailedStart(t, c, name, msg, []int{other},
			"-p", fmt.Sprintf("%d:4999", other), "-p", fmt.Sprintf("%d:5000", taken), "warren/webapp")
	})
}

func TestPortConflictWithContainer(t *testing.T) {
	t.Parallel()
	eachCLI(t, func(t *testing.T, c cli) {
		taken, other := freePort(t), freePort(t)
		runDetached(t, warrenCLI, "-p", fmt.Sprintf("%d:5000", taken), "warren/webapp")
		wantWebapp(t, loopback(taken))
		name := container(t)
		msg := conflictError(name, fmt.Sprintf(`Bind for 0\.0\.0\.0:%d failed: port is already allocated`, taken))
		wantFailedStart(t, c, name, msg, []int{other},
			"-p", fmt.Sprintf("%d:4999", other), "-p", fmt.Sprintf("%d:5000", taken), "warren/webapp")
		wantWebapp(t, loopback(taken)) // the holder is undisturbed
	})
}

// Ports below net.ipv4.ip_unprivileged_port_start cannot be bound by the
// user; the error says which sysctl to change.
func TestPortPrivileged(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	start, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || start <= 80 {
		t.Skipf("this host lets users bind port 80 (ip_unprivileged_port_start=%q)", raw)
	}
	eachCLI(t, func(t *testing.T, c cli) {
		name := container(t)
		msg := conflictError(name, fmt.Sprintf(`failed to bind host port for 0\.0\.0\.0:80:172\.17\.\d+\.\d+:5000/tcp: cannot expose privileged port 80, you can add 'net\.ipv4\.ip_unprivileged_port_start=80' to /etc/sysctl\.conf \(currently %d\), or choose a larger port number \(>= %d\)`, start, start))
		wantFailedStart(t, c, name, msg, nil, "-p", "80:5000", "warren/webapp")
	})
}

// A published port is released by stop and rm -f, and bound again by
// start and restart.
func TestPortReleasedAndRebound(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	name, _ := runDetached(t, warrenCLI, "-p", fmt.Sprintf("%d:5000", hp), "warren/webapp")
	wantWebapp(t, loopback(hp))
	mustWarren(t, "stop", "-t", "1", name)
	wantRefused(t, "tcp", loopback(hp))
	waitBindable(t, hp)
	if got := psPorts(t, warrenCLI, name); got != "" {
		t.Errorf("ps PORTS of a stopped container = %q, want empty", got)
	}
	wantInspectJSON(t, warrenCLI, name, "{{json .NetworkSettings.Ports}}", `{}`)
	mustWarren(t, "start", name)
	wantWebapp(t, loopback(hp))
	mustWarren(t, "restart", "-t", "1", name)
	wantWebapp(t, loopback(hp))
	if got, want := mustWarren(t, "port", name, "5000"), fmt.Sprintf("0.0.0.0:%d\n[::]:%d\n", hp, hp); got != want {
		t.Errorf("port after restart = %q, want %q", got, want)
	}
	mustWarren(t, "rm", "-f", name)
	wantRefused(t, "tcp", loopback(hp))
	waitBindable(t, hp)
}

// A container exiting by itself releases its ports too.
func TestPortReleasedOnExit(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	name, _ := runDetached(t, warrenCLI, "-p", fmt.Sprintf("127.0.0.1:%d:5000", hp), "busybox", "sh", "-c", "sleep 1")
	waitState(t, name, "exited")
	waitBindable(t, hp)
}

// The host ports die with a daemon killed by SIGKILL: RootlessKit's parent
// holds the listeners.
func TestPortReleasedAfterDaemonSIGKILL(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t)
	hp := freePort(t)
	d.mustRun(t, "run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:5000", hp), "warren/webapp")
	wantWebapp(t, loopback(hp))
	daemon := d.proc.cmd.Process.Pid
	tree := append(processTree(daemon), daemon)
	if err := d.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.proc.done
	waitFor(t, 30*time.Second, "the killed daemon's processes to go", func() bool {
		return !slices.ContainsFunc(tree, func(pid int) bool { return !exited(pid) })
	})
	wantRefused(t, "tcp", loopback(hp))
	waitBindable(t, hp)
	// The next command starts a new daemon; the container is no longer
	// running and holds no port.
	if out := d.mustRun(t, "ps", "--format", "{{.Names}}"); strings.TrimSpace(out) != "" {
		t.Errorf("running containers after the daemon was killed: %q", out)
	}
	if !portFree(hp) {
		t.Errorf("host port %d bound again by the restarted daemon", hp)
	}
	// And the port works again once the container is started.
	d.mustRun(t, "start", "web")
	wantWebapp(t, loopback(hp))
}

// What source address a container sees for a client on the host's
// loopback. Docker's userland proxy connects from the bridge gateway, so
// the container sees 172.17.0.1. warren does the same for loopback clients
// (observed: the web app logs 172.17.0.1:<port>): a 127.0.0.1 source has
// no meaning inside the engine's namespace, so the port driver keeps the
// real source only for IPv4 clients from outside the host
// (portfwd/forward's transparent mode), which needs a second host and is
// not tested here.
func TestPortClientAddress(t *testing.T) {
	t.Parallel()
	hp := freePort(t)
	name, _ := runDetached(t, warrenCLI, "-p", fmt.Sprintf("%d:5000", hp), "warren/webapp")
	wantWebapp(t, loopback(hp))
	stdout, stderr, _ := warren(t, "logs", name)
	logs := stdout + stderr // the web app logs to stderr
	if !regexp.MustCompile(`(?m) ` + regexp.QuoteMeta(bridgeGateway) + `:\d+ GET /$`).MatchString(logs) {
		t.Errorf("the web app logged no request from %s:\n%s", bridgeGateway, logs)
	}
}
