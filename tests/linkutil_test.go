package tests

// Helpers for the link tests: addresses, /etc/hosts lines, a source whose
// address changes, tiny servers and clients made of busybox applets, and a
// private daemon with its own flags.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ipOf is the container's bridge address as inspect reports it.
func ipOf(t testing.TB, name string) string {
	t.Helper()
	ip := inspectField(t, name, "{{.NetworkSettings.IPAddress}}")
	if ip == "" {
		t.Fatalf("%s has no bridge address", name)
	}
	return ip
}

// hostsOf is the recipient's /etc/hosts as its processes read it.
func hostsOf(t testing.TB, c cli, name string) string {
	t.Helper()
	return c.mustRun(t, "exec", name, "cat", "/etc/hosts")
}

// hostsLine returns the line of hosts whose first name is alias: the line
// a link writes, "<ip>\t<alias> <hostname>[ <name>]".
func hostsLine(hosts, alias string) (string, bool) {
	for l := range strings.Lines(hosts) {
		l = strings.TrimRight(l, "\n")
		if _, names, ok := strings.Cut(l, "\t"); ok && strings.Split(names, " ")[0] == alias {
			return l, true
		}
	}
	return "", false
}

// wantLinkLine checks that name's /etc/hosts holds exactly want as its line
// for alias.
func wantLinkLine(t testing.TB, c cli, name, alias, want string) {
	t.Helper()
	hosts := hostsOf(t, c, name)
	got, ok := hostsLine(hosts, alias)
	if !ok || got != want {
		t.Errorf("%s's /etc/hosts line for %s = %q, want %q; whole file:\n%s", name, alias, got, want, hosts)
	}
}

// linkLine is the line Docker writes for a link: the source's name is
// appended only when it differs from the alias.
func linkLine(ip, alias, hostname, source string) string {
	if source == alias {
		return ip + "\t" + alias + " " + hostname
	}
	return ip + "\t" + alias + " " + hostname + " " + source
}

// hostnameOf is the container's hostname (its short ID by default).
func hostnameOf(t testing.TB, name string) string {
	t.Helper()
	return inspectField(t, name, "{{.Config.Hostname}}")
}

// restartElsewhere stops a running container and starts it again at a
// different bridge address. A filler container holds the freed address
// meanwhile, so that an allocator handing out the lowest free address
// cannot give it straight back; it retries a few times because parallel
// tests also take and free addresses. Returns the old and new address.
func restartElsewhere(t testing.TB, c cli, name string) (oldIP, newIP string) {
	t.Helper()
	oldIP = ipOf(t, name)
	for range 4 {
		c.mustRun(t, "stop", "-t", "0", name)
		runDetached(t, c, "busybox", "sleep", "1000")
		c.mustRun(t, "start", name)
		if newIP = ipOf(t, name); newIP != oldIP {
			return oldIP, newIP
		}
	}
	t.Fatalf("%s kept address %s across four restarts", name, oldIP)
	return "", ""
}

// serverCmd is a busybox command line that answers HTTP with the word "ok"
// on each of ports, until killed.
func serverCmd(ports ...int) []string {
	script := "mkdir -p /www && echo ok >/www/index.html"
	for _, p := range ports {
		script += fmt.Sprintf(" && httpd -p %d -h /www", p)
	}
	return []string{"busybox", "sh", "-c", script + " && exec sleep 1000"}
}

// reach tells whether container from gets "ok" from host:port within three
// seconds. A refused, dropped or timed-out connection is false. The timeout
// is the timeout applet's: Debian's static busybox wget crashes on -T.
func reach(t testing.TB, c cli, from, host string, port int) bool {
	t.Helper()
	out, _, code := c.run(t, "exec", from, "timeout", "3", "wget", "-q", "-O-", fmt.Sprintf("http://%s:%d/", host, port))
	return code == 0 && out == "ok\n"
}

// waitServing waits until name's server answers on port from inside name
// itself (httpd starts in the background).
func waitServing(t testing.TB, c cli, name string, port int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%s to serve on %d", name, port), func() bool {
		return reach(t, c, name, "127.0.0.1", port)
	})
}

// envLines splits `env` output into its lines.
func envLines(out string) []string {
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

// sortedCopy returns a sorted copy of s, for comparing sets.
func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// psNoTruncNames returns the comma-separated names `ps --no-trunc` shows
// for the container that has name among them.
func psNoTruncNames(t testing.TB, c cli, name string) []string {
	t.Helper()
	out := c.mustRun(t, "ps", "-a", "--no-trunc", "--format", "{{.Names}}")
	for l := range strings.Lines(out) {
		names := strings.Split(strings.TrimSpace(l), ",")
		if slices.Contains(names, name) {
			return names
		}
	}
	t.Errorf("ps -a --no-trunc lists no container named %s:\n%s", name, out)
	return nil
}

// privateDaemon is a second `warren daemon` with its own folders and flags,
// for behaviour that is a daemon option (--icc=false). It is stopped and
// its folders removed when the test ends.
type privateDaemon struct {
	env []string
}

func startPrivateDaemon(t *testing.T, flags ...string) *privateDaemon {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "wl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeAll(root); err != nil {
			t.Log(err)
		}
	})
	runDir, _, env := daemonDirs(root)
	logPath := filepath.Join(root, "daemon.log")
	d, err := launchDaemon(env, filepath.Join(runDir, "warren.sock"), logPath, flags)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after removeAll, so it runs first.
	t.Cleanup(func() {
		if err := d.stop(30 * time.Second); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("private daemon log:\n%s", tail(readFile(logPath), 60))
		}
	})
	p := &privateDaemon{env: env}
	p.mustRun(t, "load", "-i", filepath.Join(suite.images, "busybox.tar"))
	return p
}

// launchDaemon starts `warren daemon flags...` and waits until it answers.
func launchDaemon(env []string, socket, logPath string, flags []string) (*daemonProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	d := &daemonProc{log: logPath, done: make(chan struct{})}
	d.cmd = exec.Command(suite.bin, append([]string{"daemon"}, flags...)...)
	d.cmd.Env, d.cmd.Stdout, d.cmd.Stderr = env, logFile, logFile
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start warren daemon: %w", err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-d.done:
			return nil, fmt.Errorf("warren daemon %v exited early (%v):\n%s", flags, d.err, readFile(logPath))
		case <-time.After(50 * time.Millisecond):
		}
		if r := runCmd(suite.bin, env, nil, "version"); r.code == 0 && fileExists(socket) {
			return d, nil
		}
		if time.Now().After(deadline) {
			_ = d.cmd.Process.Signal(syscall.SIGKILL)
			<-d.done
			return nil, fmt.Errorf("warren daemon %v: no socket %s after 60s:\n%s", flags, socket, readFile(logPath))
		}
	}
}

// cli is a client of the private daemon: the warren CLI on its folders.
func (p *privateDaemon) cli() cli {
	return cli{"warren", func(t testing.TB, args ...string) (string, string, int) {
		t.Helper()
		r := runCmd(suite.bin, p.env, nil, args...)
		t.Logf("$ warren %s → %d (private daemon)", strings.Join(args, " "), r.code)
		return r.stdout, r.stderr, r.code
	}}
}

func (p *privateDaemon) mustRun(t testing.TB, args ...string) string {
	t.Helper()
	return p.cli().mustRun(t, args...)
}

// apiError posts body to the suite daemon's Engine API at path and returns
// the HTTP status and the error message of the answer.
func apiError(t testing.TB, path, body string) (status int, message string) {
	t.Helper()
	client := &http.Client{Timeout: cmdTimeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", suite.socket)
		},
	}}
	resp, err := client.Post("http://warren"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer struct{ Message string }
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Errorf("POST %s: answer %d is not an error object: %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, answer.Message
}

// ip is the container's bridge address on this daemon.
func (p *privateDaemon) ip(t testing.TB, name string) string {
	t.Helper()
	ip := strings.TrimSpace(p.mustRun(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name))
	if ip == "" {
		t.Fatalf("%s has no bridge address", name)
	}
	return ip
}
