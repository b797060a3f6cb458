// Package dockerctx owns the docker CLI context that points at warren's
// socket, written through the docker CLI's own context store (under
// $DOCKER_CONFIG or ~/.docker), so that `docker --context NAME` works.
package dockerctx

import (
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/context/store"
)

// contextMeta and endpoint are the docker CLI's context metadata
// (command.DockerContext) and docker endpoint (context.EndpointMetaBase),
// as its store reads and writes them.
type contextMeta struct {
	Description string `json:",omitempty"`
}

type endpoint struct {
	Host          string `json:",omitempty"`
	SkipTLSVerify bool
}

func open() *store.ContextStore {
	cfg := store.NewConfig(func() any { return &contextMeta{} },
		store.EndpointTypeGetter("docker", func() any { return &endpoint{} }))
	return store.New(dockerconfig.ContextStoreDir(), cfg)
}

// Change says what Ensure did.
type Change string

const (
	Unchanged Change = ""
	Created   Change = "created"
	Updated   Change = "updated"
)

// Ensure makes context name point at host, changing it only if it differs.
func Ensure(name, host, description string) (Change, error) {
	st := open()
	change := Created
	old, err := st.GetMetadata(name)
	switch {
	case err == nil:
		// The store hands back the getter's type dereferenced.
		if ep, ok := old.Endpoints["docker"].(endpoint); ok && ep.Host == host && !ep.SkipTLSVerify {
			return Unchanged, nil
		}
		change = Updated
	case !cerrdefs.IsNotFound(err):
		return Unchanged, fmt.Errorf("read docker context %q: %w", name, err)
	}
	meta := store.Metadata{
		Name:      name,
		Metadata:  contextMeta{Description: description},
		Endpoints: map[string]any{"docker": endpoint{Host: host}},
	}
	if err := st.CreateOrUpdate(meta); err != nil {
		return Unchanged, fmt.Errorf("write docker context %q: %w", name, err)
	}
	return change, nil
}

// Remove removes context name, and makes the docker CLI's current context
// the default again if it was name, as `docker context rm -f` does. It
// reports whether there was a context, and whether it was the current one.
func Remove(name string) (removed, wasCurrent bool, err error) {
	st := open()
	if _, err := st.GetMetadata(name); err != nil {
		if cerrdefs.IsNotFound(err) {
			return false, false, nil
		}
		return false, false, fmt.Errorf("read docker context %q: %w", name, err)
	}
	cf, err := dockerconfig.Load(dockerconfig.Dir())
	if err != nil {
		return false, false, err
	}
	if cf.CurrentContext == name {
		cf.CurrentContext = ""
		if err := cf.Save(); err != nil {
			return false, false, err
		}
		wasCurrent = true
	}
	if err := st.Remove(name); err != nil {
		return false, wasCurrent, err
	}
	return true, wasCurrent, nil
}
