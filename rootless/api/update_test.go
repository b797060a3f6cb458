package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The fake records the policy and refuses a memory limit, as the engine.
func (f *fakeBackend) ContainerUpdate(_ context.Context, name string, req *container.UpdateConfig) (container.UpdateResponse, error) {
	c, err := f.get(name)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if req.Memory != 0 {
		return container.UpdateResponse{}, errdefs.ErrInvalidArgument.WithMessage("Cannot update container " + c.id + ": no limits")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updated = req
	return container.UpdateResponse{}, nil
}

func TestUpdateRoute(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	c := newClient(t, sock)
	ctx := testContext(t)
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}}); err != nil {
		t.Fatal(err)
	}

	p := container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}
	if _, err := c.ContainerUpdate(ctx, "web", client.ContainerUpdateOptions{RestartPolicy: &p}); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	got := fake.updated
	fake.mu.Unlock()
	if got == nil || got.RestartPolicy != p {
		t.Errorf("the engine got %+v", got)
	}
	_, err := c.ContainerUpdate(ctx, "web", client.ContainerUpdateOptions{Resources: &container.Resources{Memory: 1 << 20}})
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("memory update: %v", err)
	}
	_, err = c.ContainerUpdate(ctx, "nope", client.ContainerUpdateOptions{RestartPolicy: &p})
	if !errdefs.IsNotFound(err) {
		t.Errorf("update of a missing container: %v", err)
	}

	// moby answers {"Warnings":null}.
	resp := rawRequest(t, sock, http.MethodPost, "/v1.50/containers/web/update", strings.NewReader(`{"RestartPolicy":{"Name":"always"}}`))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"Warnings":null}` {
		t.Errorf("update = %d %s", resp.StatusCode, body)
	}
}
