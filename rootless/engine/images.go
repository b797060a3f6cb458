package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	eventtypes "github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"

	"warren/rootless/api"
	"warren/rootless/filters"
	"warren/rootless/image"
	"warren/rootless/names"
)

// ImageList is docker images, filtered as Docker's (see package
// filters); a reference filter lists only the tags it matched, so the CLI
// prints a row per matching tag.
func (e *Engine) ImageList(ctx context.Context, opts api.ImageListOptions) ([]imagetypes.Summary, error) {
	filter, err := filters.ParseImages(opts.Filters, e.imageByRef, time.Now())
	if err != nil {
		return nil, err
	}
	out := []imagetypes.Summary{}
	for _, img := range e.images.List() {
		tags, digests, ok := filter.Match(imageCandidate(img))
		if !ok {
			continue
		}
		s := e.images.Summary(img)
		s.RepoTags, s.RepoDigests = append([]string{}, tags...), append([]string{}, digests...)
		out = append(out, s)
	}
	return out, nil
}

// repoOf is a tag's repository: "127.0.0.1:5000/busybox:latest" →
// "127.0.0.1:5000/busybox".
func repoOf(tag string) string {
	if i := strings.LastIndex(tag, ":"); i > strings.LastIndex(tag, "/") {
		return tag[:i]
	}
	return tag
}

// ImageInspect is GET /images/{name}/json.
func (e *Engine) ImageInspect(ctx context.Context, name string) (*imagetypes.InspectResponse, error) {
	img, err := e.images.Get(name)
	if err != nil {
		return nil, err
	}
	resp := e.images.Inspect(img)
	return &resp, nil
}

// ImageLoad reads a docker save or OCI archive.
func (e *Engine) ImageLoad(ctx context.Context, r io.Reader, progress api.Progress) error {
	lines, err := e.images.Load(ctx, r)
	if err != nil {
		return err
	}
	e.loaded(lines)
	for _, l := range lines {
		progress.Stream(l + "\n")
	}
	return nil
}

// ImagePull pulls ref and reports Docker's progress messages.
func (e *Engine) ImagePull(ctx context.Context, ref string, progress api.Progress) error {
	_, err := e.images.Pull(ctx, ref, func(id, status string, current, total int64) {
		progress.Status(id, status, current, total)
	})
	if err == nil {
		e.pulled(ref)
	}
	return err
}

// ImageImport makes an image from a root filesystem tarball; the HTTP
// layer reports its ID.
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, ref string, changes []string, _ api.Progress) (string, error) {
	img, err := e.images.Import(ctx, r, ref, changes)
	if err != nil {
		return "", err
	}
	if ref != "" {
		e.tagged(ref)
	}
	e.imageEvent(eventtypes.ActionImport, img.ID, img.ID)
	return img.ID, nil
}

// ImageSave writes refs as one docker save tarball.
func (e *Engine) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	if err := e.images.Save(ctx, refs, w); err != nil {
		return err
	}
	e.imagesEvent(eventtypes.ActionSave, refs...)
	return nil
}

// ImageTag is docker tag.
func (e *Engine) ImageTag(ctx context.Context, source, target string) error {
	if err := e.images.Tag(source, target); err != nil {
		return err
	}
	e.tagged(target)
	return nil
}

// ImageRemove is docker rmi. noPrune has nothing to keep: warren's images
// have no parent images. An image a container uses is refused unless
// forced; forced, the store keeps the layers containers use (layerInUse).
func (e *Engine) ImageRemove(ctx context.Context, name string, force, noPrune bool) ([]imagetypes.DeleteResponse, error) {
	img, err := e.images.Get(name)
	if err != nil {
		return nil, err
	}
	if err := e.checkImageRemove(name, img, force); err != nil {
		return nil, err
	}
	records, err := e.images.Remove(name, force)
	e.removed(img.ID, records)
	return records, err
}

// checkImageRemove refuses an rmi of an image a container uses, as
// Docker does.
func (e *Engine) checkImageRemove(name string, img *image.Image, force bool) error {
	user, running := e.containerUsing(img.ID)
	if user == "" {
		return nil
	}
	byID := strings.HasPrefix(img.ID, name) || strings.HasPrefix(strings.TrimPrefix(img.ID, "sha256:"), name)
	if !byID && !singleReference(img.RepoTags, img.RepoDigests) {
		// Only a name goes and the image keeps another: Docker allows it.
		return nil
	}
	if !force || byID {
		return errdefs.ErrConflict.WithMessage(imageInUse(name, byID, running, user, img.ID))
	}
	return nil
}

// singleReference is Docker's isSingleReference: the image has at most one
// tag, and its digests (if any) are of that tag's repository, so removing
// the name would leave it nameless.
func singleReference(tags, digests []string) bool {
	if len(tags) > 1 {
		return false
	}
	repos := map[string]bool{}
	for _, d := range digests {
		repo, _, _ := strings.Cut(d, "@")
		repos[repo] = true
	}
	if len(tags) == 1 {
		delete(repos, repoOf(tags[0]))
		return len(repos) == 0
	}
	return len(repos) <= 1
}

// imageInUse is Docker's conflict text for rmi of a used image.
func imageInUse(ref string, byID, running bool, containerID, imageID string) string {
	switch {
	case byID && running:
		return fmt.Sprintf("conflict: unable to delete %s (cannot be forced) - image is being used by running container %s",
			names.ShortID(imageID), names.ShortID(containerID))
	case byID:
		return fmt.Sprintf("conflict: unable to delete %s (must be forced) - image is being used by stopped container %s",
			names.ShortID(imageID), names.ShortID(containerID))
	}
	return fmt.Sprintf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
		ref, names.ShortID(containerID), names.ShortID(imageID))
}

// containerUsing returns a container created from imageID, preferring a
// running one as Docker's message does.
func (e *Engine) containerUsing(imageID string) (id string, running bool) {
	for _, c := range e.containers() {
		r := c.snapshot()
		if r.ImageID == imageID && (id == "" || r.State.running()) {
			id, running = r.ID, r.State.running()
		}
	}
	return id, running
}
