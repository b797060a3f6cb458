package api

import (
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
)

func (s *server) imageList(w http.ResponseWriter, r *http.Request, _ string) error {
	filters, err := parseFilters(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	list, err := s.b.ImageList(r.Context(), ImageListOptions{All: boolValue(r, "all"), Filters: filters})
	if err != nil {
		return err
	}
	if list == nil {
		list = []image.Summary{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// imageLoad reads a tarball from the body. Like Docker it always answers
// 200 and reports a failure inside the JSON stream.
func (s *server) imageLoad(w http.ResponseWriter, r *http.Request, _ string) error {
	out := newLazyResponse(w, "application/json")
	stream := &jsonStream{out: out}
	if err := s.b.ImageLoad(r.Context(), r.Body, stream); err != nil {
		stream.Error(err)
	}
	out.start()
	return nil
}

// imageCreate pulls (fromImage) or imports (fromSrc=-, the body). A failure
// before any progress is a plain error response; after, it is in-band.
func (s *server) imageCreate(w http.ResponseWriter, r *http.Request, _ string) error {
	out := newLazyResponse(w, "application/json")
	stream := &jsonStream{out: out}
	err := s.pullOrImport(r, stream)
	switch {
	case err == nil:
		out.start()
	case !out.Started():
		return err
	default:
		stream.Error(err)
	}
	return nil
}

func (s *server) pullOrImport(r *http.Request, stream *jsonStream) error {
	ctx := r.Context()
	if err := checkPullPlatform(r.Form.Get("platform")); err != nil {
		return err
	}
	if from := r.Form.Get("fromImage"); from != "" {
		return s.b.ImagePull(ctx, joinReference(from, r.Form.Get("tag")), stream)
	}
	switch src := r.Form.Get("fromSrc"); src {
	case "-":
		ref := joinReference(r.Form.Get("repo"), r.Form.Get("tag"))
		id, err := s.b.ImageImport(ctx, r.Body, ref, r.Form["changes"], stream)
		if err != nil {
			return err
		}
		// Docker ends an import with the new image's ID as a status.
		stream.Status("", id, 0, 0)
		return nil
	case "":
		return errdefs.ErrInvalidArgument.WithMessage("fromImage or fromSrc is required")
	default:
		return errdefs.ErrNotImplemented.WithMessage("importing from a URL is not supported; pipe the archive to `docker import -`")
	}
}

// joinReference joins the repository and tag query parameters of
// /images/create and /images/{name}/tag the way Docker does: a digest
// "tag" is joined with "@", anything else with ":".
func joinReference(repo, tag string) string {
	switch {
	case repo == "" || tag == "":
		return repo
	case digest.Digest(tag).Validate() == nil:
		return repo + "@" + tag
	default:
		return repo + ":" + tag
	}
}

// checkImageName refuses what is neither an ID nor a reference, as
// Docker's image service does before any lookup (GetImage): "../../x" is
// invalid input, not a missing image.
func checkImageName(name string) error {
	if _, err := reference.ParseAnyReference(name); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return nil
}

func (s *server) imageInspect(w http.ResponseWriter, r *http.Request, name string) error {
	if err := checkImageName(name); err != nil {
		return err
	}
	resp, err := s.b.ImageInspect(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *server) imageTag(w http.ResponseWriter, r *http.Request, name string) error {
	repo := r.Form.Get("repo")
	if repo == "" {
		return errdefs.ErrInvalidArgument.WithMessage("repository name must have at least one component")
	}
	if err := s.b.ImageTag(r.Context(), name, joinReference(repo, r.Form.Get("tag"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *server) imageRemove(w http.ResponseWriter, r *http.Request, name string) error {
	if err := checkImageName(name); err != nil {
		return err
	}
	deleted, err := s.b.ImageRemove(r.Context(), name, boolValue(r, "force"), boolValue(r, "noprune"))
	if err != nil {
		return err
	}
	if deleted == nil {
		deleted = []image.DeleteResponse{}
	}
	return writeJSON(w, http.StatusOK, deleted)
}

// imageSave streams `docker save` of GET /images/get?names=… or
// /images/{name}/get. A failure before the first byte is a plain error.
func (s *server) imageSave(w http.ResponseWriter, r *http.Request, name string) error {
	refs := r.Form["names"]
	if name != "" {
		refs = []string{name}
	}
	if len(refs) == 0 || strings.Join(refs, "") == "" {
		return errdefs.ErrInvalidArgument.WithMessage("no image names given")
	}
	for _, ref := range refs {
		if err := checkImageName(ref); err != nil {
			return err
		}
	}
	out := newLazyResponse(w, "application/x-tar")
	err := s.b.ImageSave(r.Context(), refs, out)
	switch {
	case err == nil:
		out.start()
	case !out.Started():
		return err
	default:
		(&jsonStream{out: out}).Error(err)
	}
	return nil
}
