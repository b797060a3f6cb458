package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Save writes refs as one `docker save` tarball. As in Docker, a name
// without a tag saves every tag of that repository, and an ID saves the
// image untagged.
func (s *Store) Save(ctx context.Context, refs []string, w io.Writer) error {
	refToImage := map[name.Reference]v1.Image{}
	// One v1.Image per ID, so an image with several tags is written once.
	byID := map[string]v1.Image{}
	var diffIDs []v1.Hash
	// Layers of saved images must outlive a concurrent rmi until written.
	defer func() { s.markBusy(diffIDs, -1) }()
	for _, ref := range refs {
		found, err := s.saveTargets(ref)
		if err != nil {
			return err
		}
		for _, t := range found {
			if byID[t.id] == nil {
				stored, err := s.openStored(t.id)
				if err != nil {
					return err
				}
				s.markBusy(stored.diffIDs, 1)
				diffIDs = append(diffIDs, stored.diffIDs...)
				if byID[t.id], err = partial.CompressedToImage(stored); err != nil {
					return err
				}
			}
			refToImage[t.ref] = byID[t.id]
		}
	}
	return tarball.MultiRefWrite(refToImage, &ctxWriter{ctx: ctx, w: w})
}

// saveTarget is one (reference, image) pair of a save.
type saveTarget struct {
	ref name.Reference
	id  string
}

// saveTargets resolves one argument of `docker save`.
func (s *Store) saveTargets(ref string) ([]saveTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if parsed, err := parseReference(ref); err == nil && nameOnly(ref) {
		if keys := s.tagsOfRepo(parsed.repo); len(keys) > 0 {
			return s.tagTargets(keys)
		}
	}
	id, key, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.Contains(key, "@") {
		d, err := name.NewDigest("image@" + id)
		return []saveTarget{{ref: d, id: id}}, err
	}
	return s.tagTargets([]string{key})
}

// tagsOfRepo lists the tag references of repo; s.mu must be held.
func (s *Store) tagsOfRepo(repo string) []string {
	var keys []string
	for k := range s.idx.Refs {
		if !strings.Contains(k, "@") && repoOf(k) == repo {
			keys = append(keys, k)
		}
	}
	return keys
}

// tagTargets pairs tag keys with their images; s.mu must be held.
func (s *Store) tagTargets(keys []string) ([]saveTarget, error) {
	var out []saveTarget
	for _, k := range keys {
		tag, err := name.NewTag(familiarString(k))
		if err != nil {
			return nil, err
		}
		out = append(out, saveTarget{ref: tag, id: s.idx.Refs[k]})
	}
	return out, nil
}

// nameOnly reports whether ref has neither tag nor digest.
func nameOnly(ref string) bool {
	return !strings.Contains(ref, "@") && strings.LastIndex(ref, ":") <= strings.LastIndex(ref, "/")
}

// storedImage is a stored image as go-containerregistry's compressed image
// core: the kept config and manifest, and the layer blobs as received.
type storedImage struct {
	config, manifest []byte
	mediaType        types.MediaType
	layers           map[v1.Hash]*storedLayer
	diffIDs          []v1.Hash
}

// openStored reads image id's config and manifest now, so a concurrent
// rmi cannot take them away mid-save.
func (s *Store) openStored(id string) (*storedImage, error) {
	s.mu.Lock()
	rec := s.idx.Images[id]
	cfg := s.configs[id]
	s.mu.Unlock()
	if rec == nil {
		return nil, notFound(id)
	}
	config, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	manifest, err := os.ReadFile(s.blobPath(rec.Manifest))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", id, err)
	}
	img := &storedImage{config: config, manifest: manifest, mediaType: m.MediaType,
		layers: map[v1.Hash]*storedLayer{}, diffIDs: cfg.RootFS.DiffIDs}
	for _, d := range m.Layers {
		img.layers[d.Digest] = &storedLayer{desc: d, path: s.blobPath(d.Digest.String())}
	}
	return img, nil
}

func (i *storedImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *storedImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *storedImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }

func (i *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("layer %s not in image", h)
}

// storedLayer is a layer blob in blobs/.
type storedLayer struct {
	desc v1.Descriptor
	path string
}

func (l *storedLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storedLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storedLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *storedLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

// ctxWriter stops a save when the client goes away.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
