package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"

	"warren/rootless/events"
	"warren/rootless/filters"
)

// fakeBackend is an in-memory engine whose containers run a tiny command
// language: "echo a b" prints "a b", "cat" copies stdin to stdout, "fail N"
// prints "oops" on stderr and exits N.
type fakeBackend struct {
	mu         sync.Mutex
	containers map[string]*fakeContainer // by name
	execs      map[string]*fakeExec
	removed    []RemoveOptions
	removedBy  []string
	listOpts   ListOptions
	pruned     map[string][]string // the filters of the last prune
	updated    *container.UpdateConfig
	lastCreate *container.CreateRequest
	loaded     []byte
	// loadFrom, when set, replaces ImageLoad's reading of the body.
	loadFrom func(io.Reader) error
	// waitCanceled receives when a wait's context ends before the exit.
	waitCanceled chan struct{}
	// waitStarted receives when a wait is registered.
	waitStarted chan struct{}
	bus         *events.Bus
}

type fakeContainer struct {
	id, name string
	cmd      []string
	tty      bool
	streams  Streams
	started  bool
	exitCode int
	exited   chan struct{} // closed when the process ended
}

type fakeExec struct {
	id  string
	cmd []string
	ran bool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{
		containers:   map[string]*fakeContainer{},
		execs:        map[string]*fakeExec{},
		waitCanceled: make(chan struct{}, 16),
		waitStarted:  make(chan struct{}, 64),
		bus:          events.New(),
	}
}

func fakeID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fakeBackend) get(name string) (*fakeContainer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.TrimPrefix(name, "/")
	for _, c := range f.containers {
		if c.name == name || c.id == name || (len(name) >= 12 && strings.HasPrefix(c.id, name)) {
			return c, nil
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such container: " + name)
}

func (f *fakeBackend) Version(context.Context) system.VersionResponse {
	return system.VersionResponse{
		Platform:   system.PlatformInfo{Name: "warren"},
		Version:    "0.1.0",
		APIVersion: DefaultVersion, MinAPIVersion: MinVersion,
		Os: "linux", Arch: "amd64", GoVersion: "go1.26",
	}
}

func (f *fakeBackend) Info(context.Context) system.Info { return system.Info{Name: "fake"} }

func (f *fakeBackend) ContainerCreate(_ context.Context, name string, req *container.CreateRequest) (container.CreateResponse, error) {
	if req.Config.Image == "missing" {
		return container.CreateResponse{}, errdefs.ErrNotFound.WithMessage("No such image: missing:latest")
	}
	if name == "" {
		name = "fake_" + fmt.Sprint(len(f.containers))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.containers[name]; ok {
		return container.CreateResponse{}, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, f.containers[name].id))
	}
	c := &fakeContainer{id: fakeID(name), name: name, cmd: req.Config.Cmd, tty: req.Config.Tty, exited: make(chan struct{})}
	f.containers[name] = c
	f.lastCreate = req
	return container.CreateResponse{ID: c.id}, nil
}

func (f *fakeBackend) ContainerStart(_ context.Context, name string) error {
	c, err := f.get(name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if c.started {
		f.mu.Unlock()
		return errdefs.ErrNotModified
	}
	c.started = true
	streams := c.streams
	f.mu.Unlock()
	go c.run(streams)
	return nil
}

// run interprets the container's command against the attached streams.
func (c *fakeContainer) run(s Streams) {
	defer close(c.exited)
	if len(c.cmd) == 0 {
		return
	}
	out := s.Stdout
	if out == nil {
		out = io.Discard
	}
	switch c.cmd[0] {
	case "echo":
		fmt.Fprintln(out, strings.Join(c.cmd[1:], " "))
	case "cat":
		if s.Stdin != nil {
			_, _ = io.Copy(out, s.Stdin)
		}
	case "fail":
		if s.Stderr != nil {
			fmt.Fprintln(s.Stderr, "oops")
		}
		fmt.Sscan(c.cmd[1], &c.exitCode)
	}
}

func (f *fakeBackend) ContainerStop(_ context.Context, name, _ string, _ *int) error {
	c, err := f.get(name)
	if err != nil {
		return err
	}
	if !c.started {
		return errdefs.ErrNotModified
	}
	return nil
}

func (f *fakeBackend) ContainerRestart(_ context.Context, name, _ string, _ *int) error {
	_, err := f.get(name)
	return err
}

func (f *fakeBackend) ContainerKill(_ context.Context, name, _ string) error {
	_, err := f.get(name)
	return err
}

func (f *fakeBackend) ContainerWait(ctx context.Context, name string, _ container.WaitCondition) (<-chan container.WaitResponse, error) {
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	ch := make(chan container.WaitResponse, 1)
	select {
	case f.waitStarted <- struct{}{}:
	default: // nobody is watching
	}
	go func() {
		select {
		case <-c.exited:
			ch <- container.WaitResponse{StatusCode: int64(c.exitCode)}
		case <-ctx.Done():
			f.waitCanceled <- struct{}{}
		}
	}()
	return ch, nil
}

func (f *fakeBackend) ContainerAttach(_ context.Context, name string, opts AttachOptions) (*Attachment, error) {
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	if opts.Logs && opts.Stdout != nil {
		fmt.Fprintln(opts.Stdout, "logged")
	}
	if !opts.Stream {
		done := make(chan struct{})
		close(done)
		return &Attachment{Done: done}, nil
	}
	f.mu.Lock()
	c.streams = opts.Streams
	f.mu.Unlock()
	return &Attachment{Done: c.exited}, nil
}

func (f *fakeBackend) ContainerResize(_ context.Context, name string, _, _ uint) error {
	_, err := f.get(name)
	return err
}

func (f *fakeBackend) ContainerLogs(_ context.Context, name string, opts LogsOptions) error {
	if _, err := f.get(name); err != nil {
		return err
	}
	if opts.Tail == "bad" {
		return errdefs.ErrInvalidArgument.WithMessage("invalid tail")
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	if opts.Stdout != nil {
		fmt.Fprintln(opts.Stdout, "hello")
	}
	if opts.Stderr != nil {
		fmt.Fprintln(opts.Stderr, "oops")
	}
	return nil
}

func (f *fakeBackend) ContainerInspect(_ context.Context, name string, _ bool) (*container.InspectResponse, error) {
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	return &container.InspectResponse{
		ID:     c.id,
		Name:   "/" + c.name,
		Path:   "sh",
		State:  &container.State{Status: container.StateRunning, Running: true},
		Config: &container.Config{Image: "busybox", Tty: c.tty, Cmd: c.cmd},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
			"bridge": {
				IPAddress:   netip.MustParseAddr("172.17.0.2"),
				Gateway:     netip.MustParseAddr("172.17.0.1"),
				IPPrefixLen: 16,
				MacAddress:  network.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0x00, 0x02},
				EndpointID:  "ep1",
			},
		}},
		HostConfig: &container.HostConfig{NetworkMode: "bridge"},
	}, nil
}

func (f *fakeBackend) ContainerList(_ context.Context, opts ListOptions) ([]container.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listOpts = opts
	var out []container.Summary
	for _, c := range f.containers {
		out = append(out, container.Summary{ID: c.id, Names: []string{"/" + c.name}, Image: "busybox", State: container.StateRunning, Status: "Up 5 minutes"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Names[0] < out[j].Names[0] })
	return out, nil
}

func (f *fakeBackend) ContainerRemove(_ context.Context, name string, opts RemoveOptions) error {
	if opts.Link {
		if !strings.Contains(strings.TrimPrefix(name, "/"), "/") {
			return errdefs.ErrNotFound.WithMessage("No such container: " + name)
		}
	} else if _, err := f.get(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, opts)
	f.removedBy = append(f.removedBy, name)
	return nil
}

func (f *fakeBackend) ContainerIsTTY(_ context.Context, name string) (bool, error) {
	c, err := f.get(name)
	if err != nil {
		return false, err
	}
	return c.tty, nil
}

func (f *fakeBackend) ExecCreate(_ context.Context, name string, req *container.ExecCreateRequest) (string, error) {
	if _, err := f.get(name); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := &fakeExec{id: fakeID(fmt.Sprint("exec", len(f.execs))), cmd: req.Cmd}
	f.execs[e.id] = e
	return e.id, nil
}

func (f *fakeBackend) exec(id string) (*fakeExec, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.execs[id]
	if !ok {
		return nil, errdefs.ErrNotFound.WithMessage("No such exec instance: " + id)
	}
	return e, nil
}

func (f *fakeBackend) ExecStart(ctx context.Context, id string, opts ExecStartOptions) error {
	detach, s := opts.Detach, opts.Streams
	e, err := f.exec(id)
	if err != nil {
		return err
	}
	f.mu.Lock()
	e.ran = true
	f.mu.Unlock()
	switch {
	case detach || s.Stdout == nil:
	case e.cmd[0] == "sort" && s.Stdin != nil:
		// Output only after the input ended, and only while the request
		// lasts, as the engine's attached start.
		in, _ := io.ReadAll(s.Stdin)
		if ctx.Err() != nil {
			return nil
		}
		lines := strings.SplitAfter(string(in), "\n")
		sort.Strings(lines)
		fmt.Fprint(s.Stdout, strings.Join(lines, ""))
	default:
		fmt.Fprintln(s.Stdout, strings.Join(e.cmd, " "))
		if s.Stderr != nil {
			fmt.Fprintln(s.Stderr, "to stderr")
		}
	}
	return nil
}

func (f *fakeBackend) ExecResize(_ context.Context, id string, _, _ uint) error {
	_, err := f.exec(id)
	return err
}

func (f *fakeBackend) ExecInspect(_ context.Context, id string) (*container.ExecInspectResponse, error) {
	e, err := f.exec(id)
	if err != nil {
		return nil, err
	}
	code := 0
	return &container.ExecInspectResponse{ID: e.id, ExitCode: &code}, nil
}

func (f *fakeBackend) ImageList(context.Context, ImageListOptions) ([]image.Summary, error) {
	return []image.Summary{{ID: "sha256:" + fakeID("busybox"), RepoTags: []string{"busybox:latest"}}}, nil
}

func (f *fakeBackend) ImageLoad(_ context.Context, r io.Reader, p Progress) error {
	if f.loadFrom != nil {
		return f.loadFrom(r)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.loaded = data
	f.mu.Unlock()
	if string(data) == "garbage" {
		return errdefs.ErrInvalidArgument.WithMessage("unexpected EOF")
	}
	p.Stream("Loaded image: busybox:latest\n")
	return nil
}

func (f *fakeBackend) ImagePull(_ context.Context, ref string, p Progress) error {
	if strings.Contains(ref, "nosuch") {
		return errdefs.ErrNotFound.WithMessage("pull access denied for nosuch, repository does not exist or may require 'docker login'")
	}
	p.Status("latest", "Pulling from library/busybox", 0, 0)
	p.Status("abc123", "Pulling fs layer", 0, 0)
	if strings.Contains(ref, "broken") {
		return fmt.Errorf("unexpected EOF")
	}
	p.Status("abc123", "Pull complete", 0, 0)
	p.Status("", "Status: Downloaded newer image for "+ref, 0, 0)
	return nil
}

func (f *fakeBackend) ImageImport(_ context.Context, r io.Reader, ref string, changes []string, p Progress) (string, error) {
	_, _ = io.Copy(io.Discard, r)
	return "sha256:" + fakeID(ref), nil
}

func (f *fakeBackend) ImageSave(_ context.Context, refs []string, w io.Writer) error {
	if refs[0] == "missing" {
		return errdefs.ErrNotFound.WithMessage("No such image: missing")
	}
	_, err := io.WriteString(w, "TAR:"+strings.Join(refs, ","))
	return err
}

func (f *fakeBackend) ImageInspect(_ context.Context, name string) (*image.InspectResponse, error) {
	if name != "127.0.0.1:5000/busybox" && name != "busybox" {
		return nil, errdefs.ErrNotFound.WithMessage("No such image: " + name)
	}
	return &image.InspectResponse{ID: "sha256:" + fakeID(name), RepoTags: []string{name + ":latest"}}, nil
}

func (f *fakeBackend) ImageTag(context.Context, string, string) error { return nil }

func (f *fakeBackend) ImageRemove(_ context.Context, name string, _, _ bool) ([]image.DeleteResponse, error) {
	return []image.DeleteResponse{{Untagged: name}}, nil
}

func (f *fakeBackend) SubscribeEvents(_ context.Context, since, until time.Time, args map[string][]string) ([]events.Message, *events.Subscription, error) {
	ef, err := filters.ParseEvents(args)
	if err != nil {
		return nil, nil, err
	}
	past, sub := f.bus.Subscribe(since, until, func(m events.Message) bool { return ef.Include(m.Message) })
	return past, sub, nil
}
