package tests

// Helpers for the link tests: addresses, /etc/hosts lines, a source whose
// address changes, and tiny servers and clients made of busybox applets.

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

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
	oldIP = bridgeIP(t, name)
	for range 4 {
		c.mustRun(t, "stop", "-t", "0", name)
		runDetached(t, c, "busybox", "sleep", "1000")
		c.mustRun(t, "start", name)
		if newIP = bridgeIP(t, name); newIP != oldIP {
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

// apiError posts body to the suite daemon's Engine API at path and returns
// the HTTP status and the error message of the answer.
func apiError(t testing.TB, path, body string) (status int, message string) {
	t.Helper()
	client := unixClient(suite.socket, cmdTimeout)
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
