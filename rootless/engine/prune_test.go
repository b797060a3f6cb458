package engine

import (
	"context"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/rootless/api"
)

func listNames(t *testing.T, e *Engine, opts api.ListOptions) []string {
	t.Helper()
	list, err := e.ContainerList(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Names[0])
	}
	return names
}

// Several label filters must all hold: compose asks for its project and
// service labels and must get only that service's containers.
func TestListLabelsAreANDed(t *testing.T) {
	e, _, _ := newTestEngine(t)
	create(t, e, "ab", container.Config{Labels: map[string]string{"a": "1", "b": "2"}}, nil)
	create(t, e, "only-a", container.Config{Labels: map[string]string{"a": "1"}}, nil)
	create(t, e, "only-b", container.Config{Labels: map[string]string{"b": "2"}}, nil)
	got := listNames(t, e, api.ListOptions{All: true, Filters: map[string][]string{"label": {"a=1", "b=2"}}})
	if !slices.Equal(got, []string{"/ab"}) {
		t.Errorf("ps -a --filter label=a=1 --filter label=b=2 = %v, want [/ab]", got)
	}
	// A status filter lists stopped containers without -a; its values are ORed.
	got = listNames(t, e, api.ListOptions{Filters: map[string][]string{"status": {"created", "exited"}, "label": {"b"}}})
	if !slices.Equal(got, []string{"/only-b", "/ab"}) {
		t.Errorf("ps --filter status=created --filter status=exited --filter label=b = %v", got)
	}
	_, err := e.ContainerList(context.Background(), api.ListOptions{Filters: map[string][]string{"before": {"nosuch"}}})
	wantErr(t, err, errdefs.IsNotFound, "No such container: nosuch")
	_, err = e.ContainerList(context.Background(), api.ListOptions{Filters: map[string][]string{"x": {"1"}}})
	wantErr(t, err, errdefs.IsInvalidArgument, "invalid filter 'x'")
}

func TestContainerPrune(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	keep := create(t, e, "other-project", container.Config{Labels: map[string]string{"project": "b"}}, nil)
	gone := create(t, e, "stopped", container.Config{Labels: map[string]string{"project": "a"}}, nil)
	running := create(t, e, "running", container.Config{Cmd: []string{"sleep"}, Labels: map[string]string{"project": "a"}}, nil)
	if err := e.ContainerStart(ctx, running); err != nil {
		t.Fatal(err)
	}
	rep, err := e.ContainerPrune(ctx, map[string][]string{"label": {"project=a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.ContainersDeleted, []string{gone}) {
		t.Errorf("pruned %v, want only %s", rep.ContainersDeleted, gone)
	}
	if got := listNames(t, e, api.ListOptions{All: true}); !slices.Equal(got, []string{"/running", "/other-project"}) {
		t.Errorf("left %v", got)
	}
	// label! keeps what has the label.
	rep, err = e.ContainerPrune(ctx, map[string][]string{"label!": {"project=b"}})
	if err != nil || len(rep.ContainersDeleted) != 0 {
		t.Errorf("prune label!=project=b = %+v, %v; want nothing", rep, err)
	}
	if _, err := e.lookup(keep); err != nil {
		t.Errorf("label! pruned the container it excludes: %v", err)
	}

	_, err = e.ContainerPrune(ctx, map[string][]string{"name": {"x"}})
	wantErr(t, err, errdefs.IsInvalidArgument, "invalid filter 'name'")
	e.containerPruning.Store(true)
	_, err = e.ContainerPrune(ctx, nil)
	wantErr(t, err, errdefs.IsConflict, "a prune operation is already running")
	e.containerPruning.Store(false)
}

// fakeStore's only image is busybox, tagged: a default (dangling) prune
// leaves it, and -a leaves it while a container uses it.
func TestImagePruneKeepsTaggedAndUsed(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	create(t, e, "user", container.Config{}, nil)
	for _, args := range []map[string][]string{nil, {"dangling": {"false"}}} {
		rep, err := e.ImagePrune(ctx, args)
		if err != nil || len(rep.ImagesDeleted) != 0 {
			t.Errorf("image prune %v = %+v, %v; want nothing", args, rep, err)
		}
	}
	_, err := e.ImagePrune(ctx, map[string][]string{"reference": {"x"}})
	wantErr(t, err, errdefs.IsInvalidArgument, "invalid filter 'reference'")
}
