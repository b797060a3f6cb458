package tests

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const errNoSwarmManager = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`

// TestSwarmNotManagerCLI: the swarm commands print dockerd's texts from
// outside a swarm, from the 503s.
func TestSwarmNotManagerCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"node", "ls"}, "Error response from daemon: " + errNoSwarmManager},
		{[]string{"service", "ls"}, "Error response from daemon: " + errNoSwarmManager},
		{[]string{"secret", "ls"}, "Error response from daemon: " + errNoSwarmManager},
		{[]string{"swarm", "leave"}, "Error response from daemon: This node is not part of a swarm"},
	}
	for _, tt := range tests {
		stdout, stderr, code := docker(t, tt.args...)
		if code != 1 || stdout != "" || strings.TrimSpace(stderr) != tt.want {
			t.Errorf("docker %s: exit %d, stdout %q, stderr %q; want 1 and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
		}
	}
}

// TestSwarmNotManagerAPI: raw requests get dockerd's 503 and body.
func TestSwarmNotManagerAPI(t *testing.T) {
	t.Parallel()
	tests := []struct{ method, path, message string }{
		{"GET", "/v1.50/swarm", errNoSwarmManager},
		{"POST", "/v1.50/swarm/leave", "This node is not part of a swarm"},
		{"GET", "/v1.50/nodes", errNoSwarmManager},
		{"GET", "/v1.50/services/web", errNoSwarmManager},
		{"GET", "/tasks", errNoSwarmManager},
		{"DELETE", "/v1.50/secrets/s", errNoSwarmManager},
		{"POST", "/v1.50/configs/create", errNoSwarmManager},
	}
	for _, tt := range tests {
		status, body := rawBody(t, suite.socket, tt.method, tt.path)
		want := `{"message":` + jsonString(tt.message) + "}\n"
		if status != http.StatusServiceUnavailable || body != want {
			t.Errorf("%s %s = %d %q, want 503 %q", tt.method, tt.path, status, body, want)
		}
	}
}

// TestNotFoundEndpoint: an endpoint no dockerd serves gets its 404 body,
// and the docker CLI shows what it shows against dockerd.
func TestNotFoundEndpoint(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/v1.50/nothing", "/v1.50/containers/x/frob", "/plugins/x/y/z"} {
		status, body := rawBody(t, suite.socket, "GET", path)
		if status != http.StatusNotFound || body != `{"message":"page not found"}`+"\n" {
			t.Errorf("GET %s = %d %q", path, status, body)
		}
	}
	// docker plugin ls asks /plugins, which warren does not serve.
	_, stderr, code := docker(t, "plugin", "ls")
	if code != 1 || strings.TrimSpace(stderr) != "Error response from daemon: page not found" {
		t.Errorf("docker plugin ls: exit %d, stderr %q", code, stderr)
	}
}

// TestDebugRequestLog: with --debug the daemon logs every request with
// method, path, status and duration; without it only the failed ones.
func TestDebugRequestLog(t *testing.T) {
	t.Parallel()
	line := func(method, path, status string) *regexp.Regexp {
		return regexp.MustCompile(`api: ` + method + ` ` + regexp.QuoteMeta(path) + ` ` + status + ` [0-9.]+(µs|ms|s)\b`)
	}
	for _, debug := range []bool{true, false} {
		var flags []string
		if debug {
			flags = []string{"--debug"}
		}
		d := startOwnDaemon(t, flags...)
		sock := filepath.Join(d.runDir, "warren.sock")
		if status, _ := rawBody(t, sock, "GET", "/v1.50/version"); status != 200 {
			t.Fatalf("GET /version = %d", status)
		}
		if status, _ := rawBody(t, sock, "GET", "/v1.50/nothing"); status != 404 {
			t.Fatalf("GET /nothing = %d", status)
		}
		logPath := filepath.Join(filepath.Dir(d.runDir), "daemon.log")
		log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
		waitFor(t, 20*time.Second, "the 404 in the daemon log", func() bool {
			return line("GET", "/v1.50/nothing", "404").MatchString(log())
		})
		if got := line("GET", "/v1.50/version", "200").MatchString(log()); got != debug {
			t.Errorf("debug=%v: the 200 logged = %v; log:\n%s", debug, got, tail(log(), 20))
		}
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// rawBody sends one request over socket and returns the status and the
// whole body.
func rawBody(t *testing.T, socket, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://warren"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := unixClient(socket, 30*time.Second)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
