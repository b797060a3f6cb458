package image

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"warren/internal/atomicfile"
)

// layerSource is one layer of an image being added.
type layerSource struct {
	diffID v1.Hash
	// digest and mediaType describe the blob when the source knows them
	// (registry, OCI layout); zero means "compute/detect from the bytes".
	digest    v1.Hash
	mediaType types.MediaType
	size      int64 // blob size if known, for progress
	open      func() (io.ReadCloser, error)
}

// shortID is the 12-hex id Docker shows for a layer in pull progress.
func (l *layerSource) shortID() string {
	if l.digest.Hex != "" {
		return l.digest.Hex[:12]
	}
	return l.diffID.Hex[:12]
}

// imageSource is an image to add: its raw config (whose digest is the ID)
// and its layers, bottom-most first.
type imageSource struct {
	rawConfig []byte
	layers    []layerSource
}

// layerProgress receives per-layer pull messages (Docker's texts).
type layerProgress func(l *layerSource, status string, current, total int64)

// ingest stores src's blobs and unpacks its missing layers, then records
// the image (without references). It returns the image ID. On failure it
// removes the layers it added, unless another ingest uses them meanwhile.
func (s *Store) ingest(ctx context.Context, src *imageSource, progress layerProgress) (id string, err error) {
	cfg, err := parseConfig(src.rawConfig)
	if err != nil {
		return "", fmt.Errorf("invalid image config: %w", err)
	}
	if n := len(cfg.RootFS.DiffIDs); n != len(src.layers) {
		return "", fmt.Errorf("invalid image: config lists %d layers, the image has %d", n, len(src.layers))
	}
	for i := range src.layers {
		src.layers[i].diffID = cfg.RootFS.DiffIDs[i]
	}
	if progress == nil {
		progress = func(*layerSource, string, int64, int64) {}
	}
	s.markBusy(cfg.RootFS.DiffIDs, 1)
	defer s.markBusy(cfg.RootFS.DiffIDs, -1)

	var added []string
	defer func() {
		if err != nil {
			s.dropLayers(added)
		}
	}()
	missing := s.announce(src, progress)
	for _, l := range missing {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := s.addLayer(ctx, l, progress); err != nil {
			return "", err
		}
		added = append(added, l.diffID.String())
	}
	return s.addImage(src.rawConfig, cfg)
}

// announce reports each layer as present ("Already exists") or to fetch
// ("Pulling fs layer"), and returns those to fetch, each diffID once.
func (s *Store) announce(src *imageSource, progress layerProgress) []*layerSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []*layerSource
	seen := map[v1.Hash]bool{}
	for i := range src.layers {
		l := &src.layers[i]
		if _, ok := s.idx.Layers[l.diffID.String()]; ok || seen[l.diffID] {
			progress(l, "Already exists", 0, 0)
			continue
		}
		seen[l.diffID] = true
		progress(l, "Pulling fs layer", 0, 0)
		missing = append(missing, l)
	}
	return missing
}

// markBusy counts ingests using each layer, so Remove and failed ingests
// never delete a layer another ingest is about to reference.
func (s *Store) markBusy(diffIDs []v1.Hash, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range diffIDs {
		s.busy[d.String()] += delta
		if s.busy[d.String()] <= 0 {
			delete(s.busy, d.String())
		}
	}
}

// addLayer downloads l's blob, unpacks it into layers/<diffid> and records
// it. Both steps go through tmp/ and become visible by rename.
func (s *Store) addLayer(ctx context.Context, l *layerSource, progress layerProgress) error {
	blob, err := s.fetchBlob(ctx, l, progress)
	if err != nil {
		return err
	}
	defer os.Remove(blob.tmp) // no-op once renamed into blobs/
	progress(l, "Download complete", 0, 0)

	size, err := s.unpackBlob(ctx, l, blob, progress)
	if err != nil {
		return err
	}
	if err := os.Rename(blob.tmp, s.blobPath(blob.digest.String())); err != nil {
		return fmt.Errorf("store layer blob: %w", err)
	}
	s.mu.Lock()
	s.idx.Layers[l.diffID.String()] = &layerRecord{
		Blob:      blob.digest.String(),
		MediaType: string(blob.mediaType),
		BlobSize:  blob.size,
		Size:      size,
	}
	s.mu.Unlock()
	progress(l, "Pull complete", 0, 0)
	return nil
}

// fetchedBlob is a layer blob downloaded into tmp/ and verified.
type fetchedBlob struct {
	tmp       string
	digest    v1.Hash
	mediaType types.MediaType
	size      int64
}

// fetchBlob copies l's blob to tmp/, hashing it, and checks the digest
// when the source gave one.
func (s *Store) fetchBlob(ctx context.Context, l *layerSource, progress layerProgress) (_ *fetchedBlob, err error) {
	rc, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.shortID(), err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.tmpDir(), "blob-")
	if err != nil {
		return nil, err
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	report := throttled(func(n int64) { progress(l, "Downloading", n, l.size) })
	n, err := io.Copy(io.MultiWriter(f, h), &ctxReader{ctx: ctx, r: rc, onRead: report})
	if err != nil {
		return nil, fmt.Errorf("layer %s: download: %w", l.shortID(), err)
	}
	report.flush()
	got := hashOf(h)
	if l.digest.Hex != "" && got != l.digest {
		return nil, fmt.Errorf("layer %s: digest mismatch: got %s, want %s", l.shortID(), got, l.digest)
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	mt := l.mediaType
	if mt == "" {
		if mt, err = detectMediaType(f.Name()); err != nil {
			return nil, err
		}
	}
	return &fetchedBlob{tmp: f.Name(), digest: got, mediaType: mt, size: n}, nil
}

// unpackBlob unpacks the blob into a temporary folder, checks the diffID
// and renames the folder into layers/. A folder already there (another
// pull won the race, or a crash left it complete) is kept.
func (s *Store) unpackBlob(ctx context.Context, l *layerSource, blob *fetchedBlob, progress layerProgress) (size int64, err error) {
	f, err := os.Open(blob.tmp)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	report := throttled(func(n int64) { progress(l, "Extracting", n, blob.size) })
	tar, err := decompress(&ctxReader{ctx: ctx, r: f, onRead: report})
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", l.shortID(), err)
	}
	defer tar.Close()

	dir, err := os.MkdirTemp(s.tmpDir(), "layer-")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			removeAll(dir)
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}
	h := sha256.New()
	tee := io.TeeReader(tar, h)
	size, err = unpackLayer(tee, dir)
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", l.shortID(), err)
	}
	// The tar's end padding is part of the diffID.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return 0, fmt.Errorf("layer %s: %w", l.shortID(), err)
	}
	report.flush()
	if got := hashOf(h); got != l.diffID {
		return 0, fmt.Errorf("layer %s: content does not match the image config: got %s, want %s", l.shortID(), got, l.diffID)
	}
	err = os.Rename(dir, s.layerDir(l.diffID.String()))
	if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
		removeAll(dir)
		return size, nil
	}
	return size, err
}

// addImage writes the config and a manifest for the image and records it.
func (s *Store) addImage(rawConfig []byte, cfg *storedConfig) (string, error) {
	configDigest, _, err := s.writeBlob(rawConfig)
	if err != nil {
		return "", fmt.Errorf("store image config: %w", err)
	}
	id := configDigest.String()
	s.mu.Lock()
	manifest, err := s.buildManifest(rawConfig, configDigest, cfg)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	manifestDigest, _, err := s.writeBlob(manifest)
	if err != nil {
		return "", fmt.Errorf("store image manifest: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rec, existed := s.idx.Images[id]
	if !existed {
		rec = &imageRecord{}
		s.idx.Images[id] = rec
		s.configs[id] = cfg
	}
	prev := rec.Manifest
	rec.Manifest = manifestDigest.String()
	if err := s.persist(); err != nil {
		rec.Manifest = prev
		if !existed {
			delete(s.idx.Images, id)
			delete(s.configs, id)
		}
		return "", fmt.Errorf("record image %s: %w", id, err)
	}
	return id, nil
}

// buildManifest makes the manifest `save` re-emits from the stored layer
// blobs; s.mu must be held.
func (s *Store) buildManifest(rawConfig []byte, configDigest v1.Hash, cfg *storedConfig) ([]byte, error) {
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{
			MediaType: types.DockerConfigJSON,
			Size:      int64(len(rawConfig)),
			Digest:    configDigest,
		},
	}
	for _, d := range cfg.RootFS.DiffIDs {
		l := s.idx.Layers[d.String()]
		if l == nil {
			return nil, fmt.Errorf("layer %s is missing", d)
		}
		digest, err := v1.NewHash(l.Blob)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.MediaType(l.MediaType), Size: l.BlobSize, Digest: digest})
	}
	return json.Marshal(&m)
}

// writeBlob stores data under its digest.
func (s *Store) writeBlob(data []byte) (v1.Hash, int64, error) {
	h, n, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Hash{}, 0, err
	}
	return h, n, atomicfile.Write(s.blobPath(h.String()), data, 0o600)
}

// dropLayers removes layers a failed ingest added, unless an image or
// another ingest uses them.
func (s *Store) dropLayers(diffIDs []string) {
	s.mu.Lock()
	var trash []string
	for _, d := range diffIDs {
		if s.busy[d] > 1 || s.layerReferenced(d) {
			continue
		}
		trash = append(trash, s.unlinkLayer(d)...)
	}
	s.mu.Unlock()
	for _, p := range trash {
		removeAll(p)
	}
}

// layerReferenced reports whether an image uses diffID; s.mu must be held.
func (s *Store) layerReferenced(diffID string) bool {
	for id := range s.idx.Images {
		for _, d := range s.configs[id].RootFS.DiffIDs {
			if d.String() == diffID {
				return true
			}
		}
	}
	return false
}

// unlinkLayer forgets a layer and moves its folder and blob into tmp/ (a
// quick rename, so no new unpack can collide with a half-deleted folder);
// it returns the paths to delete after unlocking. s.mu must be held.
func (s *Store) unlinkLayer(diffID string) []string {
	var trash []string
	move := func(p string) {
		dst := filepath.Join(s.tmpDir(), fmt.Sprintf("trash-%d-%s", time.Now().UnixNano(), filepath.Base(p)))
		if err := os.Rename(p, dst); err == nil {
			trash = append(trash, dst)
		}
	}
	if l := s.idx.Layers[diffID]; l != nil {
		move(s.blobPath(l.Blob))
	}
	delete(s.idx.Layers, diffID)
	move(s.layerDir(diffID))
	return trash
}

// detectMediaType names an unlabelled blob by its magic bytes.
func detectMediaType(path string) (types.MediaType, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return types.DockerLayer, nil
	case n == 4 && bytes.Equal(magic, zstdMagic):
		return types.OCILayerZStd, nil
	default:
		return types.DockerUncompressedLayer, nil
	}
}

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// decompress returns the tar stream inside a gzip, zstd or plain blob.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		return zr, nil
	case bytes.Equal(magic, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	default:
		return io.NopCloser(br), nil
	}
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// ctxReader stops a copy when ctx ends and counts bytes for progress.
type ctxReader struct {
	ctx    context.Context
	r      io.Reader
	n      int64
	onRead *throttle
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.onRead != nil {
		c.onRead.update(c.n)
	}
	return n, err
}

// throttle reports progress at most every 100ms, as Docker's progress
// reader does, plus once at the end.
type throttle struct {
	report func(int64)
	last   time.Time
	n      int64
}

func throttled(report func(int64)) *throttle { return &throttle{report: report} }

func (t *throttle) update(n int64) {
	t.n = n
	if now := time.Now(); now.Sub(t.last) >= 100*time.Millisecond {
		t.last = now
		t.report(n)
	}
}

func (t *throttle) flush() { t.report(t.n) }
