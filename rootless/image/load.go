package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"

	"github.com/containerd/errdefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// OCI annotations naming an image in an archive: containerd's (and
// Docker's) full reference, and the OCI one (often just a tag).
const (
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// loaded is one image found in an archive, with the tags to give it.
type loaded struct {
	src  *imageSource
	tags []reference
}

// Load reads a `docker save` tarball or an OCI archive (optionally gzip
// or zstd compressed); it returns the lines Docker prints, without
// newlines: "Loaded image: busybox:latest" or "Loaded image ID: sha256:…".
func (s *Store) Load(ctx context.Context, r io.Reader) ([]string, error) {
	dir, err := os.MkdirTemp(s.tmpDir(), "load-")
	if err != nil {
		return nil, err
	}
	defer removeAll(dir)
	if err := extractArchive(ctx, r, dir); err != nil {
		return nil, err
	}
	images, err := readArchive(dir)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, img := range images {
		out, err := s.loadOne(ctx, img)
		lines = append(lines, out...)
		if err != nil {
			return lines, err
		}
	}
	return lines, nil
}

// loadOne ingests one image and tags it, reporting a tag taken from
// another image as Docker does.
func (s *Store) loadOne(ctx context.Context, img loaded) ([]string, error) {
	id, err := s.ingest(ctx, img.src, nil)
	if err != nil {
		return nil, err
	}
	if len(img.tags) == 0 {
		return []string{"Loaded image ID: " + id}, nil
	}
	var lines []string
	for _, tag := range img.tags {
		s.mu.Lock()
		prev, err := s.setRefs(id, []reference{tag}, time.Time{})
		s.mu.Unlock()
		if err != nil {
			return lines, err
		}
		if was := prev[tag.String()]; was != "" && was != id {
			lines = append(lines, fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string", tag.Familiar(), was))
		}
		lines = append(lines, "Loaded image: "+tag.Familiar())
	}
	return lines, nil
}

// readArchive finds the images of an extracted archive: Docker's
// manifest.json first (a `docker save` since 25 also holds index.json),
// else an OCI layout.
func readArchive(dir string) ([]loaded, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return readDockerArchive(dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return readOCIArchive(dir)
	}
	return nil, errdefs.ErrInvalidArgument.WithMessage(
		"invalid archive: no manifest.json (docker save) or index.json (OCI layout) found")
}

// readDockerArchive reads manifest.json of a `docker save` tarball.
func readDockerArchive(dir string) ([]loaded, error) {
	data, err := readIn(dir, "manifest.json")
	if err != nil {
		return nil, err
	}
	var manifest tarball.Manifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("invalid manifest.json: %w", err)
	}
	var images []loaded
	for _, m := range manifest {
		raw, err := readIn(dir, m.Config)
		if err != nil {
			return nil, err
		}
		img := loaded{src: &imageSource{rawConfig: raw}}
		for _, p := range m.Layers {
			img.src.layers = append(img.src.layers, layerSource{open: openIn(dir, p)})
		}
		for _, t := range m.RepoTags {
			tag, err := parseTagTarget(t)
			if err != nil {
				return nil, fmt.Errorf("invalid tag %q in manifest.json: %w", t, err)
			}
			img.tags = append(img.tags, tag)
		}
		images = append(images, img)
	}
	return images, nil
}

// readOCIArchive reads an OCI image layout: each image of index.json (an
// index in it contributes its linux/GOARCH image).
func readOCIArchive(dir string) ([]loaded, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("invalid OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("invalid OCI layout: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("invalid OCI layout: %w", err)
	}
	var images []loaded
	for _, desc := range im.Manifests {
		img, err := imageFor(idx, desc)
		if err != nil {
			return nil, err
		}
		src, err := sourceOf(img)
		if err != nil {
			return nil, err
		}
		l := loaded{src: src}
		if tag, ok := annotatedName(desc.Annotations); ok {
			l.tags = append(l.tags, tag)
		}
		images = append(images, l)
	}
	return images, nil
}

// imageFor returns the image desc names, choosing this machine's platform
// when desc is an index.
func imageFor(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	if !desc.MediaType.IsIndex() {
		return idx.Image(desc.Digest)
	}
	child, err := idx.ImageIndex(desc.Digest)
	if err != nil {
		return nil, err
	}
	im, err := child.IndexManifest()
	if err != nil {
		return nil, err
	}
	want := defaultPlatform()
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.Satisfies(want) {
			return imageFor(child, d)
		}
	}
	return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
		"no matching manifest for %s in the manifest list entries", platformString(want)))
}

// annotatedName is the reference an OCI archive gives an image: the full
// containerd name, else a ref.name that is a whole reference (a bare tag
// such as "latest" names no repository, so the image stays untagged).
func annotatedName(a map[string]string) (reference, bool) {
	for _, key := range []string{annotationImageName, annotationRefName} {
		v := a[key]
		if v == "" || (key == annotationRefName && !containsRepo(v)) {
			continue
		}
		if ref, err := parseTagTarget(v); err == nil {
			return ref, true
		}
	}
	return reference{}, false
}

// containsRepo tells a full reference ("busybox:1", "x/y") from a bare tag.
func containsRepo(v string) bool {
	for _, c := range v {
		if c == ':' || c == '/' || c == '@' {
			return true
		}
	}
	return false
}

// sourceOf describes a go-containerregistry image for ingest, keeping its
// blobs as they are (compressed) with their known digests.
func sourceOf(img v1.Image) (*imageSource, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read image manifest: %w", err)
	}
	src := &imageSource{rawConfig: raw}
	for _, d := range m.Layers {
		layer, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		src.layers = append(src.layers, layerSource{
			digest:    d.Digest,
			mediaType: d.MediaType,
			size:      d.Size,
			open:      layer.Compressed,
		})
	}
	return src, nil
}

// extractArchive unpacks the archive r into dir, accepting only folders,
// files and symlinks (old `docker save` links shared layer.tar files),
// all written beneath dir. It reads r to its end, so that a compressed
// archive's checksum is verified.
func extractArchive(ctx context.Context, r io.Reader, dir string) error {
	rc, err := decompress(&ctxReader{ctx: ctx, r: r})
	if err != nil {
		return err
	}
	defer rc.Close()
	t, err := openTree(dir)
	if err != nil {
		return err
	}
	defer t.close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if err := extractEntry(t, hdr, tr); err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	// The OCI layout reader opens paths the ordinary way.
	if err := t.pinLinks(); err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	return nil
}

func extractEntry(t *tree, hdr *tar.Header, body io.Reader) error {
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	parent, err := t.openDir(path.Dir(rel), true)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	defer parent.close(t)
	base := path.Base(rel)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(parent.fd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
	case tar.TypeReg:
		if err := removeAt(parent.fd, base); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		f, err := createAt(parent.fd, base)
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		defer f.Close()
		if _, err := io.Copy(f, body); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		return f.Close()
	case tar.TypeSymlink:
		if err := removeAt(parent.fd, base); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		if err := unix.Symlinkat(hdr.Linkname, parent.fd, base); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
	}
	return nil
}

// readIn reads the archive file rel, resolving links inside dir.
func readIn(dir, rel string) ([]byte, error) {
	rc, err := openIn(dir, rel)()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// openIn opens the archive file rel, resolving links inside dir.
func openIn(dir, rel string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		clean, err := entryPath(rel)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid archive: %v", err))
		}
		t, err := openTree(dir)
		if err != nil {
			return nil, err
		}
		defer t.close()
		f, err := t.openFile(clean)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid archive: %s: %v", rel, err))
		}
		return f, nil
	}
}

// defaultPlatform is the platform images are chosen for: this machine's.
func defaultPlatform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
