package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// TestMissedEndpointNamed: dockerd's bare 404 gets the endpoint the
// client asked for; other errors, and other 404s, are left as they are.
func TestMissedEndpointNamed(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Api-Version", "1.50")
		w.WriteHeader(http.StatusNotFound)
		if r.URL.Path == "/v1.50/containers/x/json" {
			w.Write([]byte(`{"message":"No such container: x"}` + "\n"))
			return
		}
		w.Write([]byte(`{"message":"page not found"}` + "\n"))
	})}
	go srv.Serve(l)
	defer srv.Close()

	var m missedEndpoint
	api, err := client.New(client.WithHost("unix://"+sock), client.WithAPIVersion("1.50"), client.WithHTTPResponseHook(m.hook))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	_, err = api.NetworkList(context.Background(), client.NetworkListOptions{})
	want := "Error response from daemon: page not found\nThe daemon does not serve GET /v1.50/networks."
	if got := m.explain(err); got == nil || got.Error() != want || !errdefs.IsNotFound(got) {
		t.Errorf("explain(%v) = %v, want %q", err, got, want)
	}
	_, err = api.ContainerInspect(context.Background(), "x", client.ContainerInspectOptions{})
	if got := m.explain(err); got != err {
		t.Errorf("explain(%v) = %v, want it unchanged", err, got)
	}
	other := errors.New("boom")
	if got := m.explain(other); got != other {
		t.Errorf("explain(boom) = %v", got)
	}
}
