package engine

import (
	"time"

	"github.com/moby/moby/api/types/container"

	"warren/rootless/filters"
	"warren/rootless/image"
)

// psFilter parses a ps request's filters, resolving the containers
// (before=, since=) and images (ancestor=) they name.
func (e *Engine) psFilter(args map[string][]string) (*filters.Ps, error) {
	return filters.ParsePs(args, filters.Resolver{
		Container: func(ref string) (filters.Container, error) {
			c, err := e.lookup(ref)
			if err != nil {
				return filters.Container{}, err
			}
			c.mu.Lock()
			r := c.rec
			c.mu.Unlock()
			return psCandidate(r, summary(r, time.Now())), nil
		},
		Image: func(ref string) (string, bool) {
			id := e.imageIDOf(ref)
			return id, id != ""
		},
	})
}

// psCandidate is a container as the ps filters see it; s is its ps row.
// No warren container has a healthcheck, so all are "none".
func psCandidate(r record, s container.Summary) filters.Container {
	nets := map[string]string{}
	if s.NetworkSettings != nil {
		for name := range s.NetworkSettings.Networks {
			nets[name] = "" // warren's networks have no IDs yet
		}
	}
	return filters.Container{
		ID: r.ID, Name: r.Name, Created: r.Created, Labels: r.Config.Labels,
		State: r.State.Status, Running: r.State.running(), Started: !r.State.StartedAt.IsZero(),
		ExitCode: r.State.ExitCode, ImageID: r.ImageID, Health: container.NoHealthcheck,
		Mounts: s.Mounts, Networks: nets, Ports: s.Ports,
	}
}

// imageCandidate is an image as the images filters see it.
func imageCandidate(img *image.Image) filters.Image {
	return filters.Image{ID: img.ID, Tags: img.RepoTags, Digests: img.RepoDigests,
		Labels: img.Config.Config.Labels, Created: img.Created}
}

func (e *Engine) imageByRef(ref string) (filters.Image, error) {
	img, err := e.images.Get(ref)
	if err != nil {
		return filters.Image{}, err
	}
	return imageCandidate(img), nil
}
