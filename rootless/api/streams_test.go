package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestExecStdinHalfClose checks that an exec whose output comes only after
// its input ended still answers once the client half-closed: the request
// must outlive the client's stdin.
func TestExecStdinHalfClose(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	ex, err := c.ExecCreate(ctx, "web", client.ExecCreateOptions{Cmd: []string{"sort"}, AttachStdin: true, AttachStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	att, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if _, err := att.Conn.Write([]byte("b\na\n")); err != nil {
		t.Fatal(err)
	}
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, att.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "a\nb\n" {
		t.Errorf("sort answered %q after the half-close, want %q", stdout.String(), "a\nb\n")
	}
}

// TestExecStartTTYFraming checks that the start request's Tty decides the
// framing, whatever the exec was created with, as Docker does.
func TestExecStartTTYFraming(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		createTTY, startTTY bool
		want                string
	}{
		// Raw: stdout only, as is.
		{false, true, "echo hi\n"},
		// Framed: a stdout frame, then a stderr frame.
		{true, false, "\x01\x00\x00\x00\x00\x00\x00\x08echo hi\n\x02\x00\x00\x00\x00\x00\x00\x0ato stderr\n"},
	}
	for _, tt := range tests {
		ex, err := c.ExecCreate(ctx, "web", client.ExecCreateOptions{Cmd: []string{"echo", "hi"}, TTY: tt.createTTY, AttachStdout: true, AttachStderr: true})
		if err != nil {
			t.Fatal(err)
		}
		att, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: tt.startTTY})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(att.Reader)
		att.Close()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("created Tty=%v, started Tty=%v: stream %q, want %q", tt.createTTY, tt.startTTY, got, tt.want)
		}
	}
}

// TestAttachLogsNoStream checks that logs=1&stream=0 answers with the log
// and closes.
func TestAttachLogsNoStream(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	att, err := c.ContainerAttach(ctx, "web", client.ContainerAttachOptions{Logs: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	var stdout bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, att.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "logged\n" {
		t.Errorf("logs=1&stream=0 gave %q", stdout.String())
	}
}

// TestAttachBadDetachKeys checks Docker's text for detachKeys it cannot
// parse, answered before the stream starts.
func TestAttachBadDetachKeys(t *testing.T) {
	sock := serve(t, newFakeBackend())
	c := newClient(t, sock)
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	resp := rawRequest(t, sock, "POST", "/containers/web/attach?stream=1&stdout=1&detachKeys=ctrl-", nil)
	var msg struct{ Message string }
	if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || msg.Message != "Invalid detach keys (ctrl-) provided" {
		t.Errorf("attach with detachKeys=ctrl-: %d %q", resp.StatusCode, msg.Message)
	}
}

func TestDetachKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		err  bool
	}{
		{"", []byte{16, 17}, false},
		{"ctrl-x,y", []byte{24, 'y'}, false},
		{"a,b,c", []byte("abc"), false},
		{"ctrl-", nil, true},
		{"ab", nil, true},
	}
	for _, tt := range tests {
		got, err := detachKeys(tt.in)
		if (err != nil) != tt.err || !bytes.Equal(got, tt.want) {
			t.Errorf("detachKeys(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestSwarmEndpoints checks the answers of a dockerd outside a swarm: 503
// with its texts, and 404 for what its router does not serve.
func TestSwarmEndpoints(t *testing.T) {
	const noManager = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	sock := serve(t, newFakeBackend())
	tests := []struct {
		method, path string
		status       int
		message      string
	}{
		{"GET", "/v1.51/swarm", 503, noManager},
		{"POST", "/swarm/leave?force=1", 503, "This node is not part of a swarm"},
		{"GET", "/swarm/unlockkey", 503, noManager},
		{"POST", "/swarm/update", 503, noManager},
		{"POST", "/swarm/unlock", 503, noManager},
		{"GET", "/nodes", 503, noManager},
		{"GET", "/nodes/abc", 503, noManager},
		{"DELETE", "/nodes/abc", 503, noManager},
		{"POST", "/nodes/abc/update", 503, noManager},
		{"GET", "/services", 503, noManager},
		{"POST", "/services/create", 503, noManager},
		{"GET", "/services/web", 503, noManager},
		{"POST", "/services/web/update", 503, noManager},
		{"DELETE", "/services/web", 503, noManager},
		{"GET", "/services/web/logs", 503, noManager},
		{"GET", "/tasks", 503, noManager},
		{"GET", "/tasks/t1", 503, noManager},
		{"GET", "/tasks/t1/logs", 503, noManager},
		{"GET", "/v1.51/secrets", 503, noManager},
		{"POST", "/secrets/create", 503, noManager},
		{"GET", "/secrets/s", 503, noManager},
		{"DELETE", "/secrets/s", 503, noManager},
		{"POST", "/secrets/s/update", 503, noManager},
		{"GET", "/configs", 503, noManager},
		{"POST", "/configs/create", 503, noManager},
		{"DELETE", "/configs/c", 503, noManager},
		{"POST", "/configs/c/update", 503, noManager},
		{"DELETE", "/swarm", 404, "page not found"},
		{"GET", "/nodes/a/b", 404, "page not found"},
		{"POST", "/tasks/t1/update", 404, "page not found"},
		{"GET", "/plugins/x/frob", 404, "page not found"},
	}
	for _, tt := range tests {
		resp := rawRequest(t, sock, tt.method, tt.path, nil)
		body, _ := io.ReadAll(resp.Body)
		var msg struct{ Message string }
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("%s %s: %v in %q", tt.method, tt.path, err, body)
		}
		if resp.StatusCode != tt.status || msg.Message != tt.message {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, msg.Message, tt.status, tt.message)
		}
	}
}

// TestNotFoundBody checks dockerd's exact 404 body.
func TestNotFoundBody(t *testing.T) {
	resp := rawRequest(t, serve(t, newFakeBackend()), "GET", "/v1.51/nothing/here", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || string(body) != `{"message":"page not found"}`+"\n" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown endpoint: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestLogRequests(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.Error(w, "no", http.StatusNotFound)
		case "/hijack":
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			io.WriteString(conn, "HTTP/1.1 101 UPGRADED\r\n\r\n")
			conn.Close()
		default:
			io.WriteString(w, "ok")
		}
	})
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		logged := LogRequests(h, debug, log.New(&buf, "", 0))
		served := make(chan struct{}, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			logged.ServeHTTP(w, r)
			served <- struct{}{}
		}))
		for _, path := range []string{"/ok", "/missing", "/hijack"} {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			<-served // a hijacking handler outlives its response
		}
		srv.Close()
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			f := strings.Fields(l)
			if len(f) != 5 {
				t.Fatalf("log line %q: want api: METHOD PATH STATUS DURATION", l)
			}
			lines = append(lines, strings.Join(f[:4], " "))
		}
		want := "api: GET /missing 404"
		if debug {
			want = "api: GET /ok 200\napi: GET /missing 404\napi: GET /hijack 101"
		}
		if got := strings.Join(lines, "\n"); got != want {
			t.Errorf("debug=%v logged\n%s\nwant\n%s", debug, got, want)
		}
	}
}

func TestStatusOfHead(t *testing.T) {
	tests := []struct {
		head string
		want int
	}{
		{"HTTP/1.1 101 UPGRADED\r\n", 101},
		{"HTTP/1.1 404 Not Found\r\n", 404},
		{"HTTP/1.1 20", 0},
		{"garbage", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := statusOfHead([]byte(tt.head)); got != tt.want {
			t.Errorf("statusOfHead(%q) = %d, want %d", tt.head, got, tt.want)
		}
	}
}
