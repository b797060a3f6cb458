package api

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// The fake prunes "web" (and its image) unless a filter key is unknown.
func (f *fakeBackend) ContainerPrune(_ context.Context, filters map[string][]string) (container.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruned = filters
	if _, ok := filters["x"]; ok {
		return container.PruneReport{}, errdefs.ErrInvalidArgument.WithMessage("invalid filter 'x'")
	}
	return container.PruneReport{ContainersDeleted: []string{fakeID("web")}, SpaceReclaimed: 212}, nil
}

func (f *fakeBackend) ImagePrune(_ context.Context, filters map[string][]string) (image.PruneReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruned = filters
	return image.PruneReport{ImagesDeleted: []image.DeleteResponse{{Untagged: "busybox:old"}, {Deleted: "sha256:" + fakeID("old")}}, SpaceReclaimed: 2048}, nil
}

// lastPrune is the filters of the last prune. The server's goroutine wrote
// them; a reply over a socket is no synchronisation the race detector sees.
func (f *fakeBackend) lastPrune() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pruned
}

func TestPruneRoutes(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	c := newClient(t, sock)
	ctx := testContext(t)

	res, err := c.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: make(client.Filters).Add("label", "a=1").Add("label", "b=2")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.ContainersDeleted) != 1 || res.Report.SpaceReclaimed != 212 {
		t.Errorf("container prune report %+v", res.Report)
	}
	if got := fake.lastPrune(); len(got["label"]) != 2 {
		t.Errorf("container prune filters reached the engine as %v", got)
	}
	_, err = c.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: make(client.Filters).Add("x", "1")})
	if err == nil || !errdefs.IsInvalidArgument(err) || err.Error() != "Error response from daemon: invalid filter 'x'" {
		t.Errorf("container prune x=1: %v", err)
	}

	img, err := c.ImagePrune(ctx, client.ImagePruneOptions{Filters: make(client.Filters).Add("dangling", "false")})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Report.ImagesDeleted) != 2 || img.Report.SpaceReclaimed != 2048 {
		t.Errorf("image prune report %+v", img.Report)
	}
	if got := fake.lastPrune()["dangling"]; len(got) != 1 || got[0] != "false" {
		t.Errorf("image prune filters reached the engine as %v", got)
	}

	// GET is no prune.
	resp := rawRequest(t, sock, http.MethodGet, "/v1.50/containers/prune", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /containers/prune = %d %s", resp.StatusCode, body)
	}
}

// The docker CLI's prune commands print the report as Docker's.
func TestDockerCLIPrune(t *testing.T) {
	dockerCLI(t)
	fake := newFakeBackend()
	sock := serve(t, fake)
	out, errOut, code := runDocker(t, sock, "container", "prune", "-f", "--filter", "label=a")
	want := "Deleted Containers:\n" + fakeID("web") + "\n\nTotal reclaimed space: 212B\n"
	if out != want || code != 0 {
		t.Errorf("docker container prune = %q (exit %d, stderr %q), want %q", out, code, errOut, want)
	}
	out, errOut, code = runDocker(t, sock, "image", "prune", "-af")
	want = "Deleted Images:\nuntagged: busybox:old\ndeleted: sha256:" + fakeID("old") + "\n\nTotal reclaimed space: 2.048kB\n"
	if out != want || code != 0 {
		t.Errorf("docker image prune -af = %q (exit %d, stderr %q), want %q", out, code, errOut, want)
	}
	if got := fake.lastPrune()["dangling"]; len(got) != 1 || got[0] != "false" {
		t.Errorf("image prune -a sent %v", got)
	}
	_, errOut, code = runDocker(t, sock, "container", "prune", "-f", "--filter", "x=1")
	if errOut != "Error response from daemon: invalid filter 'x'\n" || code != 1 {
		t.Errorf("docker container prune --filter x=1: exit %d, stderr %q", code, errOut)
	}
}
