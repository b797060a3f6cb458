package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"

	"warren/rootless/api"
	"warren/rootless/image"
	"warren/rootless/sandbox"
)

// fakeStore knows one image, busybox.
type fakeStore struct{}

var busybox = &image.Image{ID: "sha256:" + strings.Repeat("ab", 32), RepoTags: []string{"busybox:latest"},
	Layers: []string{"/layers/1", "/layers/2"}}

func (fakeStore) Get(ref string) (*image.Image, error) {
	if ref == "busybox" || ref == "busybox:latest" || ref == busybox.ID {
		img := *busybox
		img.Config.Config.Env = []string{"PATH=/usr/bin:/bin"}
		img.Config.Config.Cmd = []string{"sh"}
		return &img, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such image: " + ref)
}
func (fakeStore) List() []*image.Image                              { return []*image.Image{busybox} }
func (fakeStore) Load(context.Context, io.Reader) ([]string, error) { return nil, nil }
func (fakeStore) Import(context.Context, io.Reader, string, []string) (*image.Image, error) {
	return busybox, nil
}
func (fakeStore) Pull(context.Context, string, image.PullProgress) (*image.Image, error) {
	return busybox, nil
}
func (fakeStore) Save(context.Context, []string, io.Writer) error { return nil }
func (fakeStore) Tag(string, string) error                        { return nil }
func (fakeStore) Remove(string, bool) ([]imagetypes.DeleteResponse, error) {
	return []imagetypes.DeleteResponse{{Untagged: "busybox:latest"}}, nil
}
func (fakeStore) Delete(string) ([]imagetypes.DeleteResponse, int64, error) { return nil, 0, nil }
func (fakeStore) SetLayerInUse(func(string) bool)                           {}
func (fakeStore) Summary(*image.Image) imagetypes.Summary                   { return imagetypes.Summary{} }
func (fakeStore) Inspect(*image.Image) imagetypes.InspectResponse {
	return imagetypes.InspectResponse{}
}

// fakeRunner runs tiny in-process "programs" named by Args[0].
// "uncreatable" fails in Create, as a root that cannot be built does.
type fakeRunner struct {
	mu       sync.Mutex
	specs    []*sandbox.Spec
	procs    []*fakeProc
	execPids []int // the init pid each exec joined
}

func (f *fakeRunner) Create(spec *sandbox.Spec) (process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, spec)
	if spec.Args[0] == "uncreatable" {
		return nil, errors.New("failed to create task for container: unable to start container process: error during container init: mount overlay: invalid argument")
	}
	p := newFakeProc(spec.Args, spec.OpenStdin, true)
	f.procs = append(f.procs, p)
	return p, nil
}

func (f *fakeRunner) Exec(pid int, spec *sandbox.ExecSpec) (process, error) {
	f.mu.Lock()
	f.execPids = append(f.execPids, pid)
	f.mu.Unlock()
	p := newFakeProc(spec.Args, spec.OpenStdin, false)
	return p, p.Start()
}

type fakeProc struct {
	args           []string
	stdinR         *io.PipeReader
	stdinW         *io.PipeWriter
	outR, errR     *io.PipeReader
	outW, errW     *io.PipeWriter
	sig            chan syscall.Signal
	done           chan struct{}
	code           int
	startedCreated bool
	closed         atomic.Bool

	mu      sync.Mutex
	started bool // a created init is killed by a signal before Start
}

func newFakeProc(args []string, openStdin, paused bool) *fakeProc {
	p := &fakeProc{args: args, sig: make(chan syscall.Signal, 4), done: make(chan struct{}), startedCreated: !paused}
	p.outR, p.outW = io.Pipe()
	p.errR, p.errW = io.Pipe()
	if openStdin {
		p.stdinR, p.stdinW = io.Pipe()
	}
	return p
}

// The engine's pid and the host's differ, as in the daemon's pid namespace.
func (p *fakeProc) Pid() int               { return 4242 }
func (p *fakeProc) HostPid() int           { return 104242 }
func (p *fakeProc) Console() io.ReadWriter { return nil }
func (p *fakeProc) Stdin() io.WriteCloser {
	if p.stdinW == nil {
		return nil
	}
	return p.stdinW
}
func (p *fakeProc) Stdout() io.Reader        { return p.outR }
func (p *fakeProc) Stderr() io.Reader        { return p.errR }
func (p *fakeProc) Resize(h, w uint16) error { return nil }
func (p *fakeProc) Close()                   { p.outR.Close(); p.errR.Close(); p.closed.Store(true) }

func (p *fakeProc) Start() error {
	p.mu.Lock()
	p.started = true
	p.mu.Unlock()
	switch p.args[0] {
	case "missing":
		p.finish(127)
		return &sandbox.StartError{Code: sandbox.ExitNotFound,
			Msg: `failed to create task for container: exec: "missing": executable file not found in $PATH`}
	case "/etc":
		p.finish(126)
		return &sandbox.StartError{Code: sandbox.ExitCannotInvoke,
			Msg: `failed to create task for container: exec: "/etc": is a directory`}
	case "broken":
		p.finish(128)
		return &sandbox.StartError{Code: sandbox.ExitUnknown,
			Msg: "failed to create task for container: error during container init: setuid 1000: operation not permitted"}
	}
	go p.run()
	return nil
}

func (p *fakeProc) finish(code int) {
	p.code = code
	p.outW.Close()
	p.errW.Close()
	close(p.done)
}

func (p *fakeProc) run() {
	switch p.args[0] {
	case "echo":
		fmt.Fprintln(p.outW, strings.Join(p.args[1:], " "))
		p.finish(0)
	case "fail":
		fmt.Fprintln(p.errW, "oops")
		p.finish(3)
	case "cat":
		io.Copy(p.outW, p.stdinR)
		p.finish(0)
	case "sleep": // until a signal; ignores SIGTERM when told "stubborn"
		for s := range p.sig {
			if s == syscall.SIGTERM && len(p.args) > 1 && p.args[1] == "stubborn" {
				continue
			}
			p.finish(128 + int(s))
			return
		}
	}
}

func (p *fakeProc) Wait() (int, error) {
	<-p.done
	return p.code, nil
}

func (p *fakeProc) Signal(s syscall.Signal) error {
	p.mu.Lock()
	if !p.started {
		p.started = true // no run; the signal ends it
		p.mu.Unlock()
		p.finish(128 + int(s))
		return nil
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return errors.New("process already finished")
	case p.sig <- s:
		return nil
	}
}

func newTestEngine(t *testing.T) (*Engine, *fakeRunner, string) {
	t.Helper()
	dir := t.TempDir()
	run := &fakeRunner{}
	e, err := New(testConfig(dir), Deps{Images: fakeStore{}, runner: run})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background(), time.Second) })
	return e, run, dir
}

func create(t *testing.T, e *Engine, name string, cfg container.Config, hc *container.HostConfig) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = "busybox"
	}
	resp, err := e.ContainerCreate(context.Background(), name, &container.CreateRequest{Config: &cfg, HostConfig: hc})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return resp.ID
}

func wantErr(t *testing.T, err error, is func(error) bool, text string) {
	t.Helper()
	if err == nil || !is(err) || err.Error() != text {
		t.Fatalf("error = %v, want %q", err, text)
	}
}

// syncBuffer is a writer that tests read while the engine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCreateErrors(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{}, nil)

	_, err := e.ContainerCreate(ctx, "/web", &container.CreateRequest{Config: &container.Config{Image: "busybox"}})
	wantErr(t, err, errdefs.IsConflict, fmt.Sprintf(`Conflict. The container name "/web" is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.`, id))

	_, err = e.ContainerCreate(ctx, "", &container.CreateRequest{Config: &container.Config{Image: "nope"}})
	wantErr(t, err, errdefs.IsNotFound, "No such image: nope")

	_, err = e.ContainerCreate(ctx, "x", &container.CreateRequest{Config: &container.Config{Image: "busybox"}})
	wantErr(t, err, errdefs.IsInvalidArgument, "Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")

	_, err = e.ContainerCreate(ctx, "wd", &container.CreateRequest{Config: &container.Config{Image: "busybox", WorkingDir: "rel"}})
	wantErr(t, err, errdefs.IsInvalidArgument, "the working directory 'rel' is invalid, it needs to be an absolute path")

	_, err = e.ContainerCreate(ctx, "ep", &container.CreateRequest{Config: &container.Config{Image: "busybox", Entrypoint: []string{""}}})
	wantErr(t, err, errdefs.IsInvalidArgument, "no command specified")

	// Failed creates leave nothing: the names are free, one container exists.
	if list, _ := e.ContainerList(ctx, api.ListOptions{All: true}); len(list) != 1 {
		t.Fatalf("%d containers after failed creates, want 1", len(list))
	}
	create(t, e, "wd", container.Config{}, nil)
}

func TestCreateInspect(t *testing.T) {
	e, _, _ := newTestEngine(t)
	id := create(t, e, "web", container.Config{Env: []string{"A=1"}, Labels: map[string]string{"x": "y"}}, &container.HostConfig{NetworkMode: "default"})
	got, err := e.ContainerInspect(context.Background(), "web", false)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || got.Name != "/web" || got.Path != "sh" || got.Config.Hostname != id[:12] ||
		got.State.Status != container.StateCreated || got.State.StartedAt != "0001-01-01T00:00:00Z" ||
		got.HostConfig.NetworkMode != "bridge" || got.Image != busybox.ID || got.Driver != "overlay2" {
		t.Errorf("inspect = %+v, state %+v", got, got.State)
	}
	if want := []string{"A=1", "PATH=/usr/bin:/bin"}; strings.Join(got.Config.Env, ",") != strings.Join(want, ",") {
		t.Errorf("Env = %q, want %q", got.Config.Env, want)
	}
	if data := string(mustRead(t, got.HostnamePath)); data != id[:12]+"\n" {
		t.Errorf("hostname file = %q", data)
	}
	// Lookup: full ID, name with and without slash, prefix.
	for _, ref := range []string{id, "web", "/web", id[:5]} {
		if c, err := e.lookup(ref); err != nil || c.rec.ID != id {
			t.Errorf("lookup(%q) = %v", ref, err)
		}
	}
	_, err = e.lookup("nothere")
	wantErr(t, err, errdefs.IsNotFound, "No such container: nothere")
}

func TestRunAttachWaitLogs(t *testing.T) {
	e, run, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"echo", "hello"}}, nil)

	// docker run's order: attach, wait(next-exit), start.
	var out syncBuffer
	att, err := e.ContainerAttach(ctx, id, api.AttachOptions{Streams: api.Streams{Stdout: &out, Stderr: &out}, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	waitC, err := e.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	<-att.Done
	if res := <-waitC; res.StatusCode != 0 || res.Error != nil {
		t.Errorf("wait = %+v", res)
	}
	if out.String() != "hello\n" {
		t.Errorf("attached output %q", out.String())
	}
	spec := run.specs[0]
	if strings.Join(spec.Lowers, ",") != "/layers/2,/layers/1" || spec.Args[0] != "echo" ||
		strings.Join(spec.Env, ",") != "PATH=/usr/bin:/bin,HOSTNAME="+id[:12] {
		t.Errorf("spec = %+v", spec)
	}

	var logs bytes.Buffer
	if err := e.ContainerLogs(ctx, "web", api.LogsOptions{Stdout: &logs, Tail: "all"}); err != nil || logs.String() != "hello\n" {
		t.Errorf("logs = %q, %v", logs.String(), err)
	}
	list, _ := e.ContainerList(ctx, api.ListOptions{All: true})
	if len(list) != 1 || !strings.HasPrefix(list[0].Status, "Exited (0) ") || list[0].Command != "echo hello" || list[0].Names[0] != "/web" {
		t.Errorf("list = %+v", list)
	}
	if list, _ := e.ContainerList(ctx, api.ListOptions{}); len(list) != 0 {
		t.Errorf("running list = %+v", list)
	}
	// not-running on an exited container answers at once.
	w, _ := e.ContainerWait(ctx, "web", "")
	if res := <-w; res.StatusCode != 0 {
		t.Errorf("wait not-running = %+v", res)
	}
	// Starting it again works (docker start of an exited container).
	if err := e.ContainerStart(ctx, "web"); err != nil {
		t.Fatal(err)
	}
}

func TestStopKillRemove(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}}, nil)
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerStart(ctx, id); !errdefs.IsNotModified(err) {
		t.Errorf("second start = %v, want 304", err)
	}
	err := e.ContainerRemove(ctx, "web", api.RemoveOptions{})
	wantErr(t, err, errdefs.IsConflict, `cannot remove container "web": container is running: stop the container before removing or force remove`)

	zero := 0
	if err := e.ContainerStop(ctx, "web", "", &zero); err != nil {
		t.Fatal(err)
	}
	c, _ := e.lookup(id)
	if c.rec.State.ExitCode != 143 || c.rec.State.Status != container.StateExited || c.rec.State.Pid != 0 {
		t.Errorf("after stop: %+v", c.rec.State)
	}
	if err := e.ContainerStop(ctx, "web", "", nil); !errdefs.IsNotModified(err) {
		t.Errorf("stop of stopped = %v, want 304", err)
	}
	err = e.ContainerKill(ctx, "web", "")
	wantErr(t, err, errdefs.IsConflict, fmt.Sprintf("cannot kill container: web: container %s is not running", id))
	err = e.ContainerKill(ctx, "web", "BOGUS")
	wantErr(t, err, errdefs.IsInvalidArgument, "Invalid signal: BOGUS")

	// A stubborn process gets SIGKILL after the timeout.
	id2 := create(t, e, "stubborn", container.Config{Cmd: []string{"sleep", "stubborn"}}, nil)
	e.ContainerStart(ctx, id2)
	one := 1
	if err := e.ContainerStop(ctx, id2, "", &one); err != nil {
		t.Fatal(err)
	}
	c2, _ := e.lookup(id2)
	if c2.rec.State.ExitCode != 137 {
		t.Errorf("stubborn exit = %d, want 137", c2.rec.State.ExitCode)
	}

	// Force remove of a running container kills it; removed-waiters fire.
	e.ContainerStart(ctx, id2)
	w, _ := e.ContainerWait(ctx, id2, container.WaitConditionRemoved)
	if err := e.ContainerRemove(ctx, "stubborn", api.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if res := <-w; res.StatusCode != 137 {
		t.Errorf("removed wait = %+v", res)
	}
	if _, err := e.lookup("stubborn"); !errdefs.IsNotFound(err) {
		t.Errorf("removed container still found: %v", err)
	}
	create(t, e, "stubborn", container.Config{}, nil) // the name is free again
}

// Containers created, run and removed from many clients at once: the
// engine's maps are shared by all of them (go test -race checks).
func TestConcurrentLifecycles(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				resp, err := e.ContainerCreate(ctx, "", &container.CreateRequest{
					Config:     &container.Config{Image: "busybox", Cmd: []string{"echo", "hi"}},
					HostConfig: &container.HostConfig{AutoRemove: true},
				})
				if err != nil {
					errs <- err
					return
				}
				w, err := e.ContainerWait(ctx, resp.ID, container.WaitConditionRemoved)
				if err == nil {
					err = e.ContainerStart(ctx, resp.ID)
				}
				if err != nil {
					errs <- err
					return
				}
				if res := <-w; res.StatusCode != 0 {
					errs <- fmt.Errorf("%s exited %d", resp.ID[:12], res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.containers()); n != 0 {
		t.Errorf("%d containers left after --rm runs", n)
	}
}

func TestFailedStart(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "bad", container.Config{Cmd: []string{"missing"}}, nil)
	err := e.ContainerStart(ctx, id)
	if err == nil || !strings.Contains(err.Error(), "executable file not found") {
		t.Fatalf("start = %v", err)
	}
	c, _ := e.lookup(id)
	if c.rec.State.Status != container.StateCreated || c.rec.State.ExitCode != 127 || c.rec.State.Error == "" {
		t.Errorf("state after failed start: %+v", c.rec.State)
	}

	// With --rm, the container is removed and wait(removed) answers.
	id2 := create(t, e, "", container.Config{Cmd: []string{"missing"}}, &container.HostConfig{AutoRemove: true})
	w, _ := e.ContainerWait(ctx, id2, container.WaitConditionRemoved)
	e.ContainerStart(ctx, id2)
	if res := <-w; res.StatusCode != 127 {
		t.Errorf("wait = %+v", res)
	}
	if _, err := e.lookup(id2); !errdefs.IsNotFound(err) {
		t.Errorf("--rm container kept after failed start")
	}
}

func TestAutoRemoveAfterExit(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "", container.Config{Cmd: []string{"fail"}}, &container.HostConfig{AutoRemove: true})
	w, _ := e.ContainerWait(ctx, id, container.WaitConditionRemoved)
	e.ContainerStart(ctx, id)
	if res := <-w; res.StatusCode != 3 {
		t.Errorf("wait removed = %+v", res)
	}
	if _, err := e.lookup(id); !errdefs.IsNotFound(err) {
		t.Errorf("--rm container kept")
	}
}

func TestStdinOnce(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "cat", container.Config{Cmd: []string{"cat"}, OpenStdin: true, StdinOnce: true}, nil)
	var out syncBuffer
	att, err := e.ContainerAttach(ctx, id, api.AttachOptions{
		Streams: api.Streams{Stdin: strings.NewReader("abc\n"), Stdout: &out}, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	e.ContainerStart(ctx, id)
	select {
	case <-att.Done:
	case <-time.After(5 * time.Second):
		t.Fatal("stdin EOF did not reach the process")
	}
	if out.String() != "abc\n" {
		t.Errorf("output %q", out.String())
	}
}

func TestExec(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}}, nil)
	_, err := e.ExecCreate(ctx, "web", &container.ExecCreateRequest{Cmd: []string{"echo", "hi"}})
	wantErr(t, err, errdefs.IsConflict, fmt.Sprintf("container %s is not running", id))

	e.ContainerStart(ctx, id)
	eid, err := e.ExecCreate(ctx, "web", &container.ExecCreateRequest{Cmd: []string{"echo", "hi"}, AttachStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.ExecStart(ctx, eid, api.ExecStartOptions{Streams: api.Streams{Stdout: &out}}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.ExecInspect(ctx, eid)
	if out.String() != "hi\n" || got.Running || got.ExitCode == nil || *got.ExitCode != 0 ||
		got.ContainerID != id || got.ProcessConfig.Entrypoint != "echo" {
		t.Errorf("exec output %q, inspect %+v", out.String(), got)
	}
}

// Users see host pids (inspect, exec inspect, the netns path); the engine
// joins namespaces with its own.
func TestPidsReported(t *testing.T) {
	e, run, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}}, nil)
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	got, err := e.ContainerInspect(ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Pid != 104242 || got.NetworkSettings.SandboxKey != "/proc/104242/ns/net" {
		t.Errorf("inspect: Pid %d, SandboxKey %q; want the host's pid 104242", got.State.Pid, got.NetworkSettings.SandboxKey)
	}
	eid, err := e.ExecCreate(ctx, id, &container.ExecCreateRequest{Cmd: []string{"echo"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ExecStart(ctx, eid, api.ExecStartOptions{}); err != nil {
		t.Fatal(err)
	}
	if x, _ := e.ExecInspect(ctx, eid); x.Pid != 104242 {
		t.Errorf("exec inspect Pid = %d, want 104242", x.Pid)
	}
	joined := create(t, e, "", container.Config{Cmd: []string{"sleep"}}, &container.HostConfig{NetworkMode: "container:web"})
	if err := e.ContainerStart(ctx, joined); err != nil {
		t.Fatal(err)
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	if !slices.Equal(run.execPids, []int{4242}) || run.specs[len(run.specs)-1].NetNS != "/proc/4242/ns/net" {
		t.Errorf("the engine used pids %v and netns %q, want its own 4242", run.execPids, run.specs[len(run.specs)-1].NetNS)
	}
	e.ContainerKill(ctx, id, "")
	if got, _ := e.ContainerInspect(ctx, id, false); got.State.Pid != 0 {
		t.Errorf("Pid after exit = %d, want 0", got.State.Pid)
	}
}

func TestRestoreMarksRunningExited(t *testing.T) {
	e, _, dir := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}}, nil)
	e.ContainerStart(ctx, id)
	rm := create(t, e, "gone", container.Config{Cmd: []string{"sleep"}}, &container.HostConfig{AutoRemove: true})
	e.ContainerStart(ctx, rm)

	// A second engine on the same data sees the saved state, as after a crash.
	e2, err := New(testConfig(dir), Deps{Images: fakeStore{}, runner: &fakeRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e2.lookup("web")
	if err != nil || c.rec.State.Status != container.StateExited || c.rec.State.ExitCode != 137 {
		t.Errorf("restored = %+v, %v", c, err)
	}
	if _, err := e2.lookup("gone"); !errdefs.IsNotFound(err) {
		t.Errorf("--rm container survived the restart: %v", err)
	}
}

func TestPrefixAmbiguity(t *testing.T) {
	e, _, _ := newTestEngine(t)
	a := newContainer(record{ID: "aa11", Name: "/a", Config: &container.Config{}, HostConfig: &container.HostConfig{}}, "")
	b := newContainer(record{ID: "aa22", Name: "/b", Config: &container.Config{}, HostConfig: &container.HostConfig{}}, "")
	e.byID["aa11"], e.byID["aa22"] = a, b
	_, err := e.lookup("aa")
	wantErr(t, err, errdefs.IsInvalidArgument, "multiple IDs found with provided prefix: aa")
	if c, _ := e.lookup("aa2"); c != b {
		t.Error("unique prefix not resolved")
	}
}

func TestGoroutinesEnd(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		id := create(t, e, "", container.Config{Cmd: []string{"echo", "x"}, OpenStdin: true}, nil)
		att, _ := e.ContainerAttach(ctx, id, api.AttachOptions{Streams: api.Streams{Stdout: io.Discard}, Stream: true})
		w, _ := e.ContainerWait(ctx, id, container.WaitConditionRemoved)
		e.ContainerStart(ctx, id)
		<-att.Done
		idle := create(t, e, "", container.Config{Cmd: []string{"echo"}}, nil)
		e.ContainerAttach(ctx, idle, api.AttachOptions{Streams: api.Streams{Stdout: io.Discard}, Stream: true})
		e.ContainerRemove(ctx, idle, api.RemoveOptions{})
		e.ContainerRemove(ctx, id, api.RemoveOptions{Force: true})
		<-w
	}
	e.wg.Wait()
	// Goroutines that just closed a channel may still be returning.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the load, %d before", n, before)
	}
}
