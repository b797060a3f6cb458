package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// serve runs the handler over fake on a unix socket in a temp dir and
// returns the socket path.
func serve(t *testing.T, fake *fakeBackend) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewHandler(fake)}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

func newClient(t *testing.T, sock string, opts ...client.Opt) *client.Client {
	t.Helper()
	c, err := client.New(append([]client.Opt{client.WithHost("unix://" + sock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawRequest sends one request straight over the socket.
func rawRequest(t *testing.T, sock, method, path string, body io.Reader) *http.Response {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequest(method, "http://api.moby.localhost"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestClientPingNegotiates(t *testing.T) {
	sock := serve(t, newFakeBackend())
	c := newClient(t, sock)
	ping, err := c.Ping(testContext(t), client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	if ping.APIVersion != "1.50" || ping.OSType != "linux" || ping.Experimental {
		t.Errorf("ping = %+v", ping)
	}
	if got := c.ClientVersion(); got != "1.50" {
		t.Errorf("negotiated version %q, want 1.50", got)
	}
}

func TestPingHeadersAndBody(t *testing.T) {
	sock := serve(t, newFakeBackend())
	for _, method := range []string{"HEAD", "GET"} {
		resp := rawRequest(t, sock, method, "/_ping", nil)
		body, _ := io.ReadAll(resp.Body)
		want := map[string]string{
			"Api-Version": "1.50", "Ostype": "linux", "Docker-Experimental": "false",
			"Swarm": "inactive", "Cache-Control": "no-cache, no-store, must-revalidate",
			"Pragma": "no-cache", "Server": "warren",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s /_ping %s = %q, want %q", method, k, got, v)
			}
		}
		if _, ok := resp.Header["Builder-Version"]; !ok {
			t.Errorf("%s /_ping: no Builder-Version header", method)
		}
		if method == "GET" && string(body) != "OK" {
			t.Errorf("GET /_ping body %q", body)
		}
	}
}

func TestVersionAndRouteErrors(t *testing.T) {
	sock := serve(t, newFakeBackend())
	tests := []struct {
		method, path string
		status       int
		message      string
	}{
		{"GET", "/v1.12/version", 400, "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"},
		{"GET", "/v1.99/version", 400, "client version 1.99 is too new. Maximum supported API version is 1.56"},
		{"GET", "/v1.50/nothing", 404, "page not found"},
		{"POST", "/v1.50/containers/web/frob", 404, "page not found"},
		{"GET", "/containers/nosuch/json", 404, "No such container: nosuch"},
		{"POST", "/containers/create", 400, "config cannot be empty in order to create a container"},
		{"GET", "/containers/json?limit=x", 400, `strconv.Atoi: parsing "x": invalid syntax`},
	}
	for _, tt := range tests {
		resp := rawRequest(t, sock, tt.method, tt.path, nil)
		var body struct{ Message string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("%s %s: decode: %v", tt.method, tt.path, err)
		}
		if resp.StatusCode != tt.status || body.Message != tt.message {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, body.Message, tt.status, tt.message)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.path, ct)
		}
	}
	resp := rawRequest(t, sock, "GET", "/v1.24/version", nil)
	if resp.StatusCode != 200 {
		t.Errorf("GET /v1.24/version = %d", resp.StatusCode)
	}
}

// TestClientRun follows `docker run busybox echo hello`: create, attach,
// wait, start; the multiplexed output demuxes and the wait yields 0.
func TestClientRun(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)

	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       "web",
		Config:     &container.Config{Image: "busybox", Cmd: []string{"echo", "hello"}, AttachStdout: true, AttachStderr: true},
		HostConfig: &container.HostConfig{NetworkMode: "default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.ID) != 64 || created.Warnings == nil {
		t.Errorf("create = %+v", created)
	}
	if got := fake.lastCreate.HostConfig.NetworkMode; got != "bridge" {
		t.Errorf("engine saw NetworkMode %q, want bridge", got)
	}

	att, err := c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if mt, ok := att.MediaType(); !ok || mt != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("attach media type %q %v", mt, ok)
	}
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello\n" || stderr.Len() != 0 {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 || res.Error != nil {
			t.Errorf("wait = %+v", res)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}

	// Starting again is 304, which the client treats as success.
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Errorf("second start: %v", err)
	}
	// A second container of that name conflicts.
	_, err = c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}})
	if !errdefs.IsConflict(err) {
		t.Errorf("duplicate create error %v, want a conflict", err)
	}
}

// TestClientAttachStdinEOF checks that the client's half-close reaches the
// process as EOF while its output keeps flowing back.
func TestClientAttachStdinEOF(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: "busybox", Cmd: []string{"cat"}, OpenStdin: true}})
	if err != nil {
		t.Fatal(err)
	}
	att, err := c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := att.Conn.Write([]byte("ping\npong\n")); err != nil {
		t.Fatal(err)
	}
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, att.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "ping\npong\n" {
		t.Errorf("cat echoed %q", stdout.String())
	}
}

func TestClientWaitErrors(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "x", Config: &container.Config{Image: "busybox", Cmd: []string{"fail", "3"}}}); err != nil {
		t.Fatal(err)
	}
	bad := c.ContainerWait(ctx, "x", client.ContainerWaitOptions{Condition: "bogus"})
	select {
	case err := <-bad.Error:
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), `invalid condition: "bogus"`) {
			t.Errorf("bad condition error %v", err)
		}
	case res := <-bad.Result:
		t.Errorf("bad condition gave %+v", res)
	}
	missing := c.ContainerWait(ctx, "nosuch", client.ContainerWaitOptions{})
	if err := <-missing.Error; !errdefs.IsNotFound(err) {
		t.Errorf("wait on missing container: %v", err)
	}
	wait := c.ContainerWait(ctx, "x", client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	if _, err := c.ContainerStart(ctx, "x", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 3 {
			t.Errorf("exit status %d, want 3", res.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
}

func TestWaitBodyShape(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	c := newClient(t, sock)
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "w", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerStart(ctx, "w", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	resp := rawRequest(t, sock, "POST", "/v1.50/containers/w/wait", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != "{\"Error\":null,\"StatusCode\":0}\n" {
		t.Errorf("wait = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestClientExec(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	ex, err := c.ExecCreate(ctx, "web", client.ExecCreateOptions{Cmd: []string{"ls", "/"}, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	att, err := c.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, io.Discard, att.Reader); err != nil {
		t.Fatal(err)
	}
	att.Close()
	if stdout.String() != "ls /\n" {
		t.Errorf("exec output %q", stdout.String())
	}
	insp, err := c.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil || insp.ExitCode != 0 || insp.ID != ex.ID {
		t.Errorf("exec inspect %+v %v", insp, err)
	}

	// Detached: a plain 200, no hijack.
	ex2, err := c.ExecCreate(ctx, "web", client.ExecCreateOptions{Cmd: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecStart(ctx, ex2.ID, client.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	if e, _ := fake.exec(ex2.ID); !e.ran {
		t.Error("detached exec did not run")
	}
	if _, err := c.ExecCreate(ctx, "nosuch", client.ExecCreateOptions{Cmd: []string{"true"}}); !errdefs.IsNotFound(err) {
		t.Errorf("exec in missing container: %v", err)
	}
	if _, err := c.ExecInspect(ctx, "nosuch", client.ExecInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("inspect missing exec: %v", err)
	}
}

func TestClientLogs(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	logs, err := c.ContainerLogs(ctx, "web", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "all"})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	logs.Close()
	if stdout.String() != "hello\n" || stderr.String() != "oops\n" {
		t.Errorf("logs stdout %q stderr %q", stdout.String(), stderr.String())
	}

	_, err = c.ContainerLogs(ctx, "web", client.ContainerLogsOptions{})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "Bad parameters: you must choose at least one stream") {
		t.Errorf("logs without streams: %v", err)
	}
	// An engine error before any output is still a status, not in-band.
	_, err = c.ContainerLogs(ctx, "web", client.ContainerLogsOptions{ShowStdout: true, Tail: "bad"})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("logs with bad tail: %v", err)
	}
	_, err = c.ContainerLogs(ctx, "nosuch", client.ContainerLogsOptions{ShowStdout: true})
	if !errdefs.IsNotFound(err) {
		t.Errorf("logs of missing container: %v", err)
	}
}

func TestClientListAndInspect(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	c := newClient(t, sock)
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Limit: 2, Size: true, Filters: make(client.Filters).Add("name", "web").Add("status", "exited")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Names[0] != "/web" {
		t.Errorf("list = %+v", list.Items)
	}
	got := fake.listOpts
	if !got.All || got.Limit != 2 || !got.Size || got.Filters["name"][0] != "web" || got.Filters["status"][0] != "exited" {
		t.Errorf("engine saw list options %+v", got)
	}

	insp, err := c.ContainerInspect(ctx, "web", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if insp.Container.Name != "/web" {
		t.Errorf("inspect name %q", insp.Container.Name)
	}
	// The negotiated 1.50 carries the legacy fields...
	var raw struct{ NetworkSettings map[string]any }
	if err := json.Unmarshal(insp.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.NetworkSettings["IPAddress"] != "172.17.0.2" || raw.NetworkSettings["MacAddress"] != "02:42:ac:11:00:02" {
		t.Errorf("1.50 inspect NetworkSettings = %v", raw.NetworkSettings)
	}
	// ...and 1.52 does not.
	c52 := newClient(t, sock, client.WithAPIVersion("1.52"))
	insp, err = c52.ContainerInspect(ctx, "web", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw.NetworkSettings = nil
	if err := json.Unmarshal(insp.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.NetworkSettings["IPAddress"]; ok {
		t.Errorf("1.52 inspect has IPAddress: %v", raw.NetworkSettings)
	}

	if _, err := c.ContainerInspect(ctx, "nosuch", client.ContainerInspectOptions{}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "No such container: nosuch") {
		t.Errorf("inspect missing: %v", err)
	}
}

func TestClientRemoveLinkName(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	if _, err := c.ContainerRemove(ctx, "/web/db", client.ContainerRemoveOptions{RemoveLinks: true}); err != nil {
		t.Fatal(err)
	}
	if len(fake.removedBy) != 1 || fake.removedBy[0] != "web/db" || !fake.removed[0].Link {
		t.Errorf("engine saw remove of %q with %+v", fake.removedBy, fake.removed)
	}
	if _, err := c.ContainerRemove(ctx, "nosuch", client.ContainerRemoveOptions{Force: true}); !errdefs.IsNotFound(err) {
		t.Errorf("remove missing: %v", err)
	}
}

func TestClientImageLoad(t *testing.T) {
	fake := newFakeBackend()
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	res, err := c.ImageLoad(ctx, strings.NewReader("TARBALL"), client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res)
	res.Close()
	if string(body) != "{\"stream\":\"Loaded image: busybox:latest\\n\"}\n" {
		t.Errorf("load stream %q", body)
	}
	if string(fake.loaded) != "TARBALL" {
		t.Errorf("engine read %q", fake.loaded)
	}

	res, err = c.ImageLoad(ctx, strings.NewReader("garbage"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res)
	res.Close()
	if string(body) != "{\"errorDetail\":{\"message\":\"unexpected EOF\"},\"error\":\"unexpected EOF\"}\n" {
		t.Errorf("failed load stream %q", body)
	}
}

func TestClientImagePull(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	pull, err := c.ImagePull(ctx, "127.0.0.1:5000/busybox:latest", client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for msg, err := range pull.JSONMessages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, msg.ID+" "+msg.Status)
	}
	pull.Close()
	want := "latest Pulling from library/busybox|abc123 Pulling fs layer|abc123 Pull complete| Status: Downloaded newer image for 127.0.0.1:5000/busybox:latest"
	if got := strings.Join(statuses, "|"); got != want {
		t.Errorf("pull statuses\n got %s\nwant %s", got, want)
	}

	// Failing before any progress: a status code.
	if _, err := c.ImagePull(ctx, "nosuch", client.ImagePullOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("pull of missing repo: %v", err)
	}
	// Failing mid-stream: an in-band error the client surfaces on Wait.
	pull, err = c.ImagePull(ctx, "broken", client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pull.Wait(ctx); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("mid-stream pull failure: %v", err)
	}
	pull.Close()
}

func TestClientImages(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	insp, err := c.ImageInspect(ctx, "127.0.0.1:5000/busybox")
	if err != nil || insp.RepoTags[0] != "127.0.0.1:5000/busybox:latest" {
		t.Errorf("inspect registry image: %+v %v", insp, err)
	}
	if _, err := c.ImageInspect(ctx, "nosuch"); !errdefs.IsNotFound(err) {
		t.Errorf("inspect missing image: %v", err)
	}
	list, err := c.ImageList(ctx, client.ImageListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("image list %+v %v", list, err)
	}
	if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: "busybox", Target: "127.0.0.1:5000/busybox:v1"}); err != nil {
		t.Errorf("tag: %v", err)
	}
	rm, err := c.ImageRemove(ctx, "127.0.0.1:5000/busybox:v1", client.ImageRemoveOptions{})
	if err != nil || len(rm.Items) != 1 || rm.Items[0].Untagged != "127.0.0.1:5000/busybox:v1" {
		t.Errorf("image remove %+v %v", rm, err)
	}
	save, err := c.ImageSave(ctx, []string{"busybox", "127.0.0.1:5000/busybox"})
	if err != nil {
		t.Fatal(err)
	}
	tar, _ := io.ReadAll(save)
	save.Close()
	if string(tar) != "TAR:busybox,127.0.0.1:5000/busybox" {
		t.Errorf("save body %q", tar)
	}
	if _, err := c.ImageSave(ctx, []string{"missing"}); err == nil {
		t.Error("save of missing image succeeded")
	}
	imp, err := c.ImageImport(ctx, client.ImageImportSource{Source: strings.NewReader("rootfs"), SourceName: "-"}, "imported", client.ImageImportOptions{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(imp)
	imp.Close()
	if !strings.Contains(string(body), `"status":"sha256:`+fakeID("imported:v1")+`"`) {
		t.Errorf("import stream %q", body)
	}
}

// TestClientAttachTTY checks that a tty container's stream is raw.
func TestClientAttachTTY(t *testing.T) {
	c := newClient(t, serve(t, newFakeBackend()))
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "t", Config: &container.Config{Image: "busybox", Tty: true, Cmd: []string{"echo", "hi"}}}); err != nil {
		t.Fatal(err)
	}
	att, err := c.ContainerAttach(ctx, "t", client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if mt, _ := att.MediaType(); mt != "application/vnd.docker.raw-stream" {
		t.Errorf("tty attach media type %q", mt)
	}
	if _, err := c.ContainerStart(ctx, "t", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(att.Reader)
	if err != nil || string(out) != "hi\n" {
		t.Errorf("tty output %q %v", out, err)
	}
}
