// Package image keeps images: pull, load, save, import, tag, remove, and
// their layers unpacked once (with their real owners, inside the user
// namespace) for containers' overlay roots.
package image

import (
	"context"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is a stored image.
type Image struct {
	ID          string // "sha256:<hex of the config>"
	RepoTags    []string
	RepoDigests []string
	Config      v1.ConfigFile
	// Layers are the unpacked layer folders, bottom-most first.
	Layers  []string
	Created time.Time
	Size    int64
}

// PullProgress receives Docker's pull messages: id is a layer's short digest
// ("" for whole-image lines), status e.g. "Pulling fs layer", "Downloading",
// "Pull complete", "Digest: sha256:…".
type PullProgress func(id, status string, current, total int64)

// Store is the image store under one folder.
type Store struct{}

// Open opens (creating) the store at root.
func Open(root string) (*Store, error) { panic("not implemented") }

// Get resolves ref: "name[:tag]" (docker.io/library/ implied), full or short
// ID, "sha256:…". Missing → errdefs.ErrNotFound "No such image: <ref>".
func (s *Store) Get(ref string) (*Image, error) { panic("not implemented") }

// List returns all images, newest first.
func (s *Store) List() []*Image { panic("not implemented") }

// Load reads a `docker save` tarball or an OCI archive; it returns the
// lines Docker prints: "Loaded image: busybox:latest" or "Loaded image ID: sha256:…".
func (s *Store) Load(ctx context.Context, r io.Reader) ([]string, error) { panic("not implemented") }

// Pull fetches ref from its registry.
func (s *Store) Pull(ctx context.Context, ref string, progress PullProgress) (*Image, error) {
	panic("not implemented")
}

// Import makes a one-layer image from a root filesystem tarball; ref may be "".
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, changes []string) (*Image, error) {
	panic("not implemented")
}

// Save writes refs as one `docker save` tarball.
func (s *Store) Save(ctx context.Context, refs []string, w io.Writer) error { panic("not implemented") }

// Tag adds target ("name[:tag]") to the image source resolves to.
func (s *Store) Tag(source, target string) error { panic("not implemented") }
