package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Pull fetches ref from its registry, reporting Docker's messages:
// "<tag>: Pulling from <path>", per layer "Pulling fs layer" (or
// "Already exists"), "Downloading", "Download complete", "Extracting",
// "Pull complete", then "Digest: sha256:…" and "Status: Downloaded newer
// image for <ref>" (or "Status: Image is up to date for <ref>").
func (s *Store) Pull(ctx context.Context, ref string, progress PullProgress) (*Image, error) {
	if progress == nil {
		progress = func(string, string, int64, int64) {}
	}
	parsed, err := parseReference(ref)
	if err != nil {
		return nil, err
	}
	remoteRef, err := parsed.remoteName()
	if err != nil {
		return nil, invalidReference(ref)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(defaultPlatform()), remote.WithTransport(s.transport())}
	desc, err := remote.Get(remoteRef, opts...)
	if err != nil {
		return nil, pullError(parsed, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, pullError(parsed, err)
	}
	src, err := sourceOf(img)
	if err != nil {
		return nil, pullError(parsed, err)
	}

	progress(remoteRef.Identifier(), "Pulling from "+remoteRef.Context().RepositoryStr(), 0, 0)
	before := s.refTarget(parsed)
	id, err := s.ingest(ctx, src, func(l *layerSource, status string, cur, total int64) {
		progress(l.shortID(), status, cur, total)
	})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", parsed.Familiar(), err)
	}
	refs := []reference{{repo: parsed.repo, digest: desc.Digest.String()}}
	if !parsed.isDigest() {
		refs = append(refs, parsed)
	}
	s.mu.Lock()
	_, err = s.setRefs(id, refs, time.Time{})
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}

	progress("", "Digest: "+desc.Digest.String(), 0, 0)
	if before == id {
		progress("", "Status: Image is up to date for "+parsed.Familiar(), 0, 0)
	} else {
		progress("", "Status: Downloaded newer image for "+parsed.Familiar(), 0, 0)
	}
	return s.Get(id)
}

// refTarget is the image ref points to now, "" if none.
func (s *Store) refTarget(ref reference) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.Refs[ref.String()]
}

// pullError turns a registry answer into Docker's texts: a missing
// manifest or repository is a 404 the CLI shows verbatim.
func pullError(ref reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode):
			return errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
				"manifest for %s not found: manifest unknown: manifest unknown", ref.Familiar()))
		case terr.StatusCode == http.StatusUnauthorized || hasCode(terr, transport.NameUnknownErrorCode):
			return errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
				"pull access denied for %s, repository does not exist or may require 'docker login'", familiarRepo(ref.repo)))
		}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("pull %s: %w", ref.Familiar(), err)
}

func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}
