// Package image keeps images: pull, load, save, import, tag, remove, and
// their layers unpacked once (with their real owners, inside the user
// namespace) for containers' overlay roots.
//
// On disk, under the store's root:
//
//	index.json             references → image IDs, images, layers (atomic rewrite)
//	blobs/sha256/<hex>     configs, manifests and layer blobs as received
//	layers/<diffid-hex>/   each layer unpacked once, shared by all users
//	tmp/                   downloads and unpacks in progress (cleared on Open)
package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"warren/internal/atomicfile"
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
	// LastTagTime is when a tag last moved to this image (inspect's
	// Metadata.LastTagTime); zero if never tagged here.
	LastTagTime time.Time
	// Comment is the config's "comment" (go-containerregistry's ConfigFile
	// has no field for it); `import` sets it.
	Comment string
}

// PullProgress receives Docker's pull messages: id is a layer's short digest
// ("" for whole-image lines), status e.g. "Pulling fs layer", "Downloading",
// "Pull complete", "Digest: sha256:…".
type PullProgress func(id, status string, current, total int64)

// Store is the image store under one folder. It is safe for concurrent use:
// one mutex guards the index, held only for in-memory work and the small
// index rewrite; downloads and unpacking run outside it.
type Store struct {
	root string

	mu      sync.Mutex
	idx     index
	configs map[string]*storedConfig // by image ID
	busy    map[string]int           // diffID → ingests in progress using it

	layerInUse   func(dir string) bool
	loopbackDial DialFunc     // see SetLoopbackDialer
	timeouts     PullTimeouts // see SetPullTimeouts
}

// index is index.json.
type index struct {
	// Refs maps a full reference ("docker.io/library/busybox:latest",
	// "docker.io/library/busybox@sha256:…") to an image ID.
	Refs   map[string]string       `json:"refs"`
	Images map[string]*imageRecord `json:"images"`
	Layers map[string]*layerRecord `json:"layers"` // by diffID
}

type imageRecord struct {
	Manifest    string    `json:"manifest"` // digest of the manifest blob `save` re-emits
	LastTagTime time.Time `json:"lastTagTime,omitzero"`
}

type layerRecord struct {
	Blob      string `json:"blob"` // digest of the blob as received
	MediaType string `json:"mediaType"`
	BlobSize  int64  `json:"blobSize"`
	Size      int64  `json:"size"` // unpacked bytes
}

// Open opens (creating) the store at root.
func Open(root string) (*Store, error) {
	s := &Store{root: root, configs: map[string]*storedConfig{}, busy: map[string]int{}, timeouts: DefaultPullTimeouts}
	for _, dir := range []string{s.blobDir(), s.layersDir(), s.tmpDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	// Leftovers of a crash are never referenced: unpacks and downloads
	// only become visible by rename.
	if err := removeContents(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("open image store: clear %s: %w", s.tmpDir(), err)
	}
	if err := s.readIndex(); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	return s, nil
}

// SetLayerInUse tells Remove which layer folders must stay although no
// image refers to them any more (the roots of containers whose image was
// force-removed). Remove calls f for each layer folder before taking the
// store's lock, so f may take the caller's own locks.
func (s *Store) SetLayerInUse(f func(dir string) bool) {
	s.mu.Lock()
	s.layerInUse = f
	s.mu.Unlock()
}

func (s *Store) blobDir() string   { return filepath.Join(s.root, "blobs", "sha256") }
func (s *Store) layersDir() string { return filepath.Join(s.root, "layers") }
func (s *Store) tmpDir() string    { return filepath.Join(s.root, "tmp") }
func (s *Store) indexPath() string { return filepath.Join(s.root, "index.json") }

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.blobDir(), strings.TrimPrefix(digest, "sha256:"))
}

func (s *Store) layerDir(diffID string) string {
	return filepath.Join(s.layersDir(), strings.TrimPrefix(diffID, "sha256:"))
}

// readIndex loads index.json and every image's config.
func (s *Store) readIndex() error {
	s.idx = index{Refs: map[string]string{}, Images: map[string]*imageRecord{}, Layers: map[string]*layerRecord{}}
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &s.idx); err != nil {
		return fmt.Errorf("read %s: %w", s.indexPath(), err)
	}
	for id := range s.idx.Images {
		cfg, err := s.readConfig(id)
		if err != nil {
			return err
		}
		s.configs[id] = cfg
	}
	return nil
}

// storedConfig is a parsed image config.
type storedConfig struct {
	v1.ConfigFile
	Comment string `json:"comment,omitempty"`
}

func (s *Store) readConfig(id string) (*storedConfig, error) {
	data, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	cfg, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	return cfg, nil
}

// parseConfig parses a raw image config.
func parseConfig(data []byte) (*storedConfig, error) {
	var cfg storedConfig
	if err := json.Unmarshal(data, &cfg.ConfigFile); err != nil {
		return nil, err
	}
	var extra struct {
		Comment string `json:"comment"`
	}
	if err := json.Unmarshal(data, &extra); err != nil {
		return nil, err
	}
	cfg.Comment = extra.Comment
	return &cfg, nil
}

// persist rewrites index.json atomically; s.mu must be held. It is one
// small file, so the lock is not held long.
func (s *Store) persist() error {
	data, err := json.Marshal(&s.idx)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.indexPath(), data, 0o600)
}

// Get resolves ref: "name[:tag]" (docker.io/library/ implied), name@digest,
// full or short ID, "sha256:…". Missing → errdefs.ErrNotFound
// "No such image: <ref>".
func (s *Store) Get(ref string) (*Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	return s.image(id), nil
}

// resolve finds the image ref names, in Docker's order: full ID, then
// reference, then unique ID prefix. key is the matched reference ("" when
// matched by ID). s.mu must be held.
func (s *Store) resolve(ref string) (id, key string, err error) {
	if fullID.MatchString(ref) {
		id = "sha256:" + strings.TrimPrefix(ref, "sha256:")
		if _, ok := s.idx.Images[id]; ok {
			return id, "", nil
		}
		return "", "", notFound(ref)
	}
	parsed, perr := parseReference(ref)
	if perr == nil {
		if id, ok := s.idx.Refs[parsed.String()]; ok {
			return id, parsed.String(), nil
		}
	}
	if id := s.searchPrefix(strings.TrimPrefix(ref, "sha256:")); id != "" {
		return id, "", nil
	}
	if perr != nil && !hexPrefix.MatchString(strings.TrimPrefix(ref, "sha256:")) {
		return "", "", perr
	}
	return "", "", notFound(ref)
}

// searchPrefix returns the one image whose ID hex starts with prefix, ""
// if none or several (Docker treats an ambiguous prefix as not found).
func (s *Store) searchPrefix(prefix string) string {
	if !hexPrefix.MatchString(prefix) {
		return ""
	}
	found := ""
	for id := range s.idx.Images {
		if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), prefix) {
			if found != "" {
				return ""
			}
			found = id
		}
	}
	return found
}

// image builds the caller's copy of image id; s.mu must be held.
func (s *Store) image(id string) *Image {
	cfg := s.configs[id]
	img := &Image{
		ID:          id,
		RepoTags:    []string{},
		RepoDigests: []string{},
		Config:      cfg.ConfigFile,
		Comment:     cfg.Comment,
		Created:     cfg.Created.Time,
		LastTagTime: s.idx.Images[id].LastTagTime,
	}
	for _, key := range s.refsOf(id) {
		if strings.Contains(key, "@") {
			img.RepoDigests = append(img.RepoDigests, familiarString(key))
		} else {
			img.RepoTags = append(img.RepoTags, familiarString(key))
		}
	}
	for _, diffID := range cfg.RootFS.DiffIDs {
		img.Layers = append(img.Layers, s.layerDir(diffID.String()))
		if l := s.idx.Layers[diffID.String()]; l != nil {
			img.Size += l.Size
		}
	}
	return img
}

// refsOf returns the references to id, sorted by their familiar form as
// Docker's reference store does.
func (s *Store) refsOf(id string) []string {
	var keys []string
	for key, target := range s.idx.Refs {
		if target == id {
			keys = append(keys, key)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return familiarString(keys[i]) < familiarString(keys[j]) })
	return keys
}

// List returns all images, newest first.
func (s *Store) List() []*Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*Image, 0, len(s.idx.Images))
	for id := range s.idx.Images {
		list = append(list, s.image(id))
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Created.Equal(list[j].Created) {
			return list[i].Created.After(list[j].Created)
		}
		return list[i].ID < list[j].ID
	})
	return list
}

// Tag adds target ("name[:tag]") to the image source resolves to. A tag
// already on another image moves, as in Docker.
func (s *Store) Tag(source, target string) error {
	ref, err := parseTagTarget(target)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _, err := s.resolve(source)
	if err != nil {
		return err
	}
	_, err = s.setRefs(id, []reference{ref}, time.Now())
	return err
}

// parseTagTarget parses a tag's target (tag, load, import), with Docker's
// grammar; Docker refuses digests there.
func parseTagTarget(target string) (reference, error) {
	if err := checkReference(target); err != nil {
		return reference{}, err
	}
	ref, err := parseReference(target)
	if err != nil {
		return reference{}, err
	}
	if ref.isDigest() {
		return reference{}, errdefs.ErrInvalidArgument.WithMessage("refusing to create a tag with a digest reference")
	}
	return ref, nil
}

// setRefs points refs at id and persists; s.mu must be held. tagTime,
// when set, becomes the image's LastTagTime (an explicit `tag`; pulls and
// loads leave it, as Docker does). It returns the IDs the references
// pointed to before ("" if new). On failure the index is as before.
func (s *Store) setRefs(id string, refs []reference, tagTime time.Time) (map[string]string, error) {
	old := map[string]string{}
	for _, ref := range refs {
		old[ref.String()] = s.idx.Refs[ref.String()]
		s.idx.Refs[ref.String()] = id
	}
	rec := s.idx.Images[id]
	prevTag := rec.LastTagTime
	if !tagTime.IsZero() {
		rec.LastTagTime = tagTime
	}
	if err := s.persist(); err != nil {
		for key, was := range old {
			if was == "" {
				delete(s.idx.Refs, key)
			} else {
				s.idx.Refs[key] = was
			}
		}
		rec.LastTagTime = prevTag
		return nil, fmt.Errorf("tag %s: %w", id, err)
	}
	return old, nil
}

// removeContents empties dir, keeping dir itself.
func removeContents(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeAll is os.RemoveAll that also gets through read-only folders
// (an unpacked layer may hold 0555 folders; unprivileged, the first try
// fails).
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
