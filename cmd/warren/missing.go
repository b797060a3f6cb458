package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
)

// missedEndpoint remembers the last request the daemon answered with 404,
// so that dockerd's bare "page not found" can name what was missing.
type missedEndpoint struct {
	mu   sync.Mutex
	last string
}

// hook is a client response hook.
func (m *missedEndpoint) hook(resp *http.Response) {
	if resp.StatusCode != http.StatusNotFound || resp.Request == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = resp.Request.Method + " " + resp.Request.URL.Path
}

// explain names the endpoint behind a "page not found" error, on a line of
// its own so the first stays docker's.
func (m *missedEndpoint) explain(err error) error {
	m.mu.Lock()
	last := m.last
	m.mu.Unlock()
	if last == "" || !errdefs.IsNotFound(err) || !strings.HasSuffix(err.Error(), "page not found") {
		return err
	}
	return fmt.Errorf("%w\nThe daemon does not serve %s.", err, last)
}
