package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"warren/internal/config"
)

// fakeEngine is a minimal Engine API on a unix socket that records the
// requests it gets, so the CLI's call sequences can be compared with the
// docker CLI's (docker-behavior 5.2).
type fakeEngine struct {
	mu       sync.Mutex
	calls    []string
	handlers map[string]http.HandlerFunc // "METHOD /path" without the version prefix
}

func (f *fakeEngine) record(r *http.Request) string {
	path := r.URL.Path
	if strings.HasPrefix(path, "/v1.") {
		path = path[strings.Index(path[1:], "/")+1:]
	}
	call := r.Method + " " + path
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	return r.Method + " " + path
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := f.record(r)
	if strings.HasSuffix(key, "/_ping") {
		w.Header().Set("Api-Version", "1.50")
		w.Header().Set("Ostype", "linux")
		w.WriteHeader(http.StatusOK)
		return
	}
	if h, ok := f.handlers[key]; ok {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"message":"page not found: %s"}`, key)
}

func (f *fakeEngine) apiCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if !strings.Contains(c, "/_ping") {
			out = append(out, c)
		}
	}
	return out
}

// start serves f on a socket in a temporary runtime folder and returns it.
func (f *fakeEngine) start(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := config.Paths{RuntimeDir: dir}.Socket()
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return dir
}

// The command's context reaches its API calls: cancelling it (the first
// Ctrl-C does, in runCLI) ends a pull the daemon has not finished.
func TestPullCancelled(t *testing.T) {
	pulling := make(chan struct{})
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /images/create": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"Pulling from library/busybox","id":"latest"}`+"\n")
			w.(http.Flusher).Flush()
			close(pulling)
			<-r.Context().Done()
		},
	}}
	dir := f.start(t)
	t.Setenv(config.EnvRuntimeDir, dir)
	t.Setenv(config.EnvDataDir, dir)
	var out, errOut bytes.Buffer
	s := &session{
		streams:      streams{in: io.NopCloser(strings.NewReader("")), out: &out, err: &errOut},
		ensureDaemon: func(config.Paths) error { return nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-pulling; cancel() }()
	err := newApp(s).RunContext(ctx, []string{"warren", "--runtime-dir", dir, "--data-dir", dir, "pull", "busybox"})
	if s.api != nil {
		s.api.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("pull after cancel: %v, want context.Canceled", err)
	}
}

// runWarren runs the CLI against the fake engine and returns its status
// and output.
func runWarren(t *testing.T, dir string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	// The CLI exports its folder flags to the environment; restore it.
	t.Setenv(config.EnvRuntimeDir, dir)
	t.Setenv(config.EnvDataDir, dir)
	var out, errOut bytes.Buffer
	s := &session{
		streams:      streams{in: io.NopCloser(strings.NewReader(stdin)), out: &out, err: &errOut},
		ensureDaemon: func(config.Paths) error { return nil },
	}
	app := newApp(s)
	err := app.Run(append([]string{"warren", "--runtime-dir", dir, "--data-dir", dir}, args...))
	if s.api != nil {
		s.api.Close()
	}
	return report(&errOut, err), out.String(), errOut.String()
}

func jsonReply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// frame is one multiplexed stream frame (docker-behavior 5.3).
func frame(stream byte, payload string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(payload)))
	return append(h, payload...)
}

// hijack answers an attach with 101 and writes the given stream.
func hijack(t *testing.T, stream []byte, gotStdin *bytes.Buffer) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		buf.Flush()
		if gotStdin != nil {
			// Read stdin until the client half-closes, as an engine would.
			io.Copy(gotStdin, bufio.NewReader(buf))
		}
		conn.Write(stream)
	}
}

const fakeID = "2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e"

// TestRunAttachedFlow: create → 404 → pull → create → attach → wait
// (next-exit, before start) → start, output demultiplexed, exit status from
// the wait.
func TestRunAttachedFlow(t *testing.T) {
	creates := 0
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/create": func(w http.ResponseWriter, r *http.Request) {
			creates++
			if creates == 1 {
				jsonReply(404, `{"message":"No such image: busybox:latest"}`)(w, r)
				return
			}
			jsonReply(201, `{"Id":"`+fakeID+`","Warnings":["careful"]}`)(w, r)
		},
		"POST /images/create": jsonReply(200, `{"status":"Pulling from library/busybox","id":"latest"}`+"\n"+
			`{"status":"Status: Downloaded newer image for busybox:latest"}`+"\n"),
		"POST /containers/" + fakeID + "/attach": hijack(t, append(frame(1, "hello\n"), frame(2, "oops\n")...), nil),
		"POST /containers/" + fakeID + "/wait":   jsonReply(200, `{"Error":null,"StatusCode":3}`),
		"POST /containers/" + fakeID + "/start":  func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) },
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "run", "--name", "web", "busybox", "echo", "hello")
	if status != 3 {
		t.Errorf("status %d, want 3 (stderr %q)", status, errOut)
	}
	if out != "hello\n" {
		t.Errorf("stdout %q", out)
	}
	for _, want := range []string{"Unable to find image 'busybox:latest' locally\n", "WARNING: careful\n", "oops\n"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	want := []string{
		"POST /containers/create?name=web",
		"POST /images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest",
		"POST /containers/create?name=web",
		"POST /containers/" + fakeID + "/attach?stderr=1&stdout=1&stream=1",
		"POST /containers/" + fakeID + "/wait?condition=next-exit",
		"POST /containers/" + fakeID + "/start",
	}
	if got := f.apiCalls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRunInteractiveSendsStdin: -i attaches stdin, which reaches the
// container and is half-closed at EOF; --rm waits for removal.
func TestRunInteractiveSendsStdin(t *testing.T) {
	var stdin bytes.Buffer
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/create":                jsonReply(201, `{"Id":"`+fakeID+`"}`),
		"POST /containers/" + fakeID + "/attach": hijack(t, frame(1, "done\n"), &stdin),
		"POST /containers/" + fakeID + "/wait":   jsonReply(200, `{"StatusCode":0}`),
		"POST /containers/" + fakeID + "/start":  func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) },
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "line one\n", "run", "--rm", "-i", "busybox", "cat")
	if status != 0 || out != "done\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
	if stdin.String() != "line one\n" {
		t.Errorf("container got stdin %q", stdin.String())
	}
	calls := strings.Join(f.apiCalls(), "\n")
	for _, want := range []string{"attach?stderr=1&stdin=1&stdout=1&stream=1", "wait?condition=removed"} {
		if !strings.Contains(calls, want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
}

// TestRunDetachedPrintsID: -d prints the full ID, registers the wait and
// starts, without attaching.
func TestRunDetachedPrintsID(t *testing.T) {
	var body map[string]any
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/create": func(w http.ResponseWriter, r *http.Request) {
			json.NewDecoder(r.Body).Decode(&body)
			jsonReply(201, `{"Id":"`+fakeID+`"}`)(w, r)
		},
		"POST /containers/" + fakeID + "/wait":  jsonReply(200, `{"StatusCode":0}`),
		"POST /containers/" + fakeID + "/start": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) },
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "run", "-dP", "-p", "8080:80", "busybox", "sleep", "100")
	if status != 0 || out != fakeID+"\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
	if jsonOf(lookupPath(body, "HostConfig.PortBindings")) != `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}` ||
		jsonOf(body["AttachStdout"]) != "false" {
		t.Errorf("create body %s", jsonOf(body))
	}
	want := "POST /containers/create\nPOST /containers/" + fakeID + "/wait?condition=next-exit\nPOST /containers/" + fakeID + "/start"
	if got := strings.Join(f.apiCalls(), "\n"); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunStartFailureExitStatus(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/create":               jsonReply(201, `{"Id":"`+fakeID+`"}`),
		"POST /containers/" + fakeID + "/wait":  jsonReply(200, `{"StatusCode":127}`),
		"POST /containers/" + fakeID + "/start": jsonReply(400, `{"message":"exec: \"nope\": executable file not found in $PATH"}`),
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "run", "-d", "busybox", "nope")
	want := "warren: Error response from daemon: exec: \"nope\": executable file not found in $PATH\n\nRun 'warren run --help' for more information\n"
	if status != 127 || errOut != want {
		t.Errorf("status %d stderr %q, want 127 %q", status, errOut, want)
	}
	// docker 28 prints a detached container's ID before starting it
	// (c:cli/command/container/run.go), so the ID of the container left
	// behind is shown even when the start fails.
	if out != fakeID+"\n" {
		t.Errorf("stdout %q, want the ID", out)
	}
}

func TestStopPrintsNamesAndErrors(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/web/stop":    func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) },
		"POST /containers/nosuch/stop": jsonReply(404, `{"message":"No such container: nosuch"}`),
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "stop", "-t", "0", "web", "nosuch")
	if status != 1 || out != "web\n" || errOut != "Error response from daemon: No such container: nosuch\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
	if calls := f.apiCalls(); calls[0] != "POST /containers/web/stop?t=0" {
		t.Errorf("calls %v", calls)
	}
}

func TestRmForceIgnoresMissing(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"DELETE /containers/nosuch": jsonReply(404, `{"message":"No such container: nosuch"}`),
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "rm", "-f", "nosuch")
	if status != 0 || out != "" || errOut != "Error response from daemon: No such container: nosuch\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
}

func TestPsRequest(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"GET /containers/json": jsonReply(200, `[{"Id":"`+fakeID+`","Names":["/web"],"Image":"busybox","Command":"sleep 100","Created":0,"Status":"Up 2 minutes","Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}]}]`),
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "ps", "-a", "-q", "-f", "status=exited", "-f", "name=web")
	if status != 0 || out != "2f3e4d5c6b7a\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
	want := `GET /containers/json?all=1&filters=%7B%22name%22%3A%7B%22web%22%3Atrue%7D%2C%22status%22%3A%7B%22exited%22%3Atrue%7D%7D`
	if calls := f.apiCalls(); len(calls) != 1 || calls[0] != want {
		t.Errorf("calls %v, want %s", calls, want)
	}
	_, out, _ = runWarren(t, dir, "", "ps", "--format", "{{.Names}} {{.Ports}}")
	if out != "web 0.0.0.0:8080->80/tcp\n" {
		t.Errorf("formatted ps %q", out)
	}
}

func TestInspectMissingObject(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"GET /containers/web/json": jsonReply(200, `{"Id":"`+fakeID+`","Name":"/web","State":{"Running":true}}`),
	}}
	f.handlers["GET /containers/nosuch/json"] = jsonReply(404, `{"message":"No such container: nosuch"}`)
	f.handlers["GET /images/nosuch/json"] = jsonReply(404, `{"message":"No such image: nosuch"}`)
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "inspect", "-f", "{{.Name}} {{.State.Running}}", "web", "nosuch")
	if status != 1 || out != "/web true\n" || errOut != "Error: No such object: nosuch\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
}

// TestLogsDemux: logs reads Tty from inspect and demultiplexes otherwise.
func TestLogsDemux(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"GET /containers/web/json": jsonReply(200, `{"Id":"`+fakeID+`","Config":{"Tty":false}}`),
		"GET /containers/" + fakeID + "/logs": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
			w.Write(append(frame(1, "out\n"), frame(2, "err\n")...))
		},
	}}
	dir := f.start(t)
	status, out, errOut := runWarren(t, dir, "", "logs", "--tail", "10", "-t", "web")
	if status != 0 || out != "out\n" || errOut != "err\n" {
		t.Errorf("status %d stdout %q stderr %q", status, out, errOut)
	}
	if calls := f.apiCalls(); calls[1] != "GET /containers/"+fakeID+"/logs?stderr=1&stdout=1&tail=10&timestamps=1" {
		t.Errorf("calls %v", calls)
	}
}

func TestInfoWithoutDaemon(t *testing.T) {
	var out, errOut bytes.Buffer
	s := &session{
		streams:      streams{out: &out, err: &errOut},
		ensureDaemon: func(config.Paths) error { return fmt.Errorf("newuidmap not found") },
	}
	dir := t.TempDir()
	t.Setenv(config.EnvRuntimeDir, dir)
	t.Setenv(config.EnvDataDir, dir)
	status := report(&errOut, newApp(s).Run([]string{"warren", "--runtime-dir", dir, "--data-dir", filepath.Join(dir, "d"), "info"}))
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	for _, want := range []string{"Prerequisites:", "Server:\nERROR: newuidmap not found"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("info output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSignalProxy: a signal the attached CLI receives is forwarded to the
// container by name without "SIG" (docker-behavior 5.3).
func TestSignalProxy(t *testing.T) {
	killed := make(chan string, 1)
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/web/kill": func(w http.ResponseWriter, r *http.Request) {
			killed <- r.URL.Query().Get("signal")
			w.WriteHeader(204)
		},
	}}
	dir := f.start(t)
	t.Setenv(config.EnvRuntimeDir, dir)
	s := &session{paths: config.Paths{RuntimeDir: dir}, ensureDaemon: func(config.Paths) error { return nil }}
	api, err := s.client()
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	// run's streams and proxy outlive a command context that the first
	// SIGINT cancelled: the signal is the container's.
	cmdCtx, cancel := context.WithCancel(context.Background())
	cancel()
	stop := proxySignals(context.WithoutCancel(cmdCtx), api, "web")
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case sig := <-killed:
		if sig != "USR1" {
			t.Errorf("forwarded signal %q, want USR1", sig)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the signal was not forwarded")
	}
}
