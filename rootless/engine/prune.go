package engine

import (
	"context"
	"log"
	"path/filepath"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"

	"warren/rootless/filters"
)

var errPruneRunning = errdefs.ErrConflict.WithMessage("a prune operation is already running")

// ContainerPrune is POST /containers/prune: it removes the stopped
// containers the filters (until, label, label!) match, newest first, and
// reports their IDs and the bytes their writable layers held. A container
// that cannot be removed is skipped, as in Docker.
func (e *Engine) ContainerPrune(ctx context.Context, args map[string][]string) (container.PruneReport, error) {
	if !e.containerPruning.CompareAndSwap(false, true) {
		return container.PruneReport{}, errPruneRunning
	}
	defer e.containerPruning.Store(false)
	filter, err := filters.ParseContainerPrune(args, time.Now())
	if err != nil {
		return container.PruneReport{}, err
	}
	type candidate struct {
		c   *Container
		rec record
	}
	var stopped []candidate
	for _, c := range e.containers() {
		c.mu.Lock()
		if !c.removed && !c.removing && !c.rec.State.alive() {
			stopped = append(stopped, candidate{c, c.rec})
		}
		c.mu.Unlock()
	}
	slices.SortFunc(stopped, func(a, b candidate) int { return b.rec.Created.Compare(a.rec.Created) })
	var rep container.PruneReport
	for _, s := range stopped {
		if ctx.Err() != nil {
			break // Docker answers with what it removed so far
		}
		if !filter.Match(s.rec.Created, s.rec.Config.Labels) {
			continue
		}
		size := dirSize(filepath.Join(e.root, s.rec.ID, "upper"))
		if err := e.remove(ctx, s.c, false); err != nil {
			log.Printf("engine: prune container %s: %v", s.rec.ID, err)
			continue
		}
		rep.ContainersDeleted = append(rep.ContainersDeleted, s.rec.ID)
		rep.SpaceReclaimed += uint64(size)
	}
	e.pruned(eventtypes.ContainerEventType, rep.SpaceReclaimed)
	return rep, nil
}

// ImagePrune is POST /images/prune: it deletes the images no container
// uses that the filters (dangling, until, label, label!) match; only
// untagged ones unless dangling=false. Each goes with all its references.
func (e *Engine) ImagePrune(ctx context.Context, args map[string][]string) (imagetypes.PruneReport, error) {
	if !e.imagePruning.CompareAndSwap(false, true) {
		return imagetypes.PruneReport{}, errPruneRunning
	}
	defer e.imagePruning.Store(false)
	filter, err := filters.ParseImagePrune(args, time.Now())
	if err != nil {
		return imagetypes.PruneReport{}, err
	}
	var rep imagetypes.PruneReport
	for _, img := range e.images.List() {
		if ctx.Err() != nil {
			break
		}
		if filter.Dangling && len(img.RepoTags) > 0 || !filter.Match(img.Created, img.Config.Config.Labels) {
			continue
		}
		if user, _ := e.containerUsing(img.ID); user != "" {
			continue
		}
		records, freed, err := e.images.Delete(img.ID)
		e.removed(img.ID, records)
		if err != nil {
			log.Printf("engine: prune image %s: %v", img.ID, err)
			continue
		}
		rep.ImagesDeleted = append(rep.ImagesDeleted, records...)
		rep.SpaceReclaimed += uint64(freed)
	}
	e.pruned(eventtypes.ImageEventType, rep.SpaceReclaimed)
	return rep, nil
}
