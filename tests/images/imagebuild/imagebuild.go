// Package imagebuild makes small, reproducible images from what the host
// has: tar entries stamped with one fixed time, a layer packed from them,
// busybox's applet links, an image config on top of a base, and the
// `docker save` tarball. It owns only these shared steps; what goes into an
// image stays with the command that builds it (tests/images/build for the
// test images, scripts/bench/image for the benchmark image), so both build
// the same way and rebuilding gives the same image IDs.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is every entry's and image's time, so that rebuilding gives the
// same image IDs and tests can compare them across runs.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultPath is the PATH Docker Hub's images set.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Entry is one file of a layer: its tar header and, for a regular file,
// its content.
type Entry struct {
	Header *tar.Header
	Data   []byte
}

// Dir is a folder owned by root.
func Dir(path string, mode int64) Entry {
	return Entry{Header: &tar.Header{Typeflag: tar.TypeDir, Name: path + "/", Mode: mode, ModTime: Epoch}}
}

// File is a regular file owned by root.
func File(path string, mode int64, data []byte) Entry {
	return Entry{
		Header: &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(data)), ModTime: Epoch},
		Data:   data,
	}
}

// Text is a regular file of mode 0644 holding text.
func Text(path, text string) Entry { return File(path, 0o644, []byte(text)) }

// HostFile is the content of the host's file src at dst in the image. It
// follows symlinks: ldd names a library's link, and the image needs the
// content at that path.
func HostFile(src, dst string, mode int64) (Entry, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return Entry{}, fmt.Errorf("read %s: %w", src, err)
	}
	return File(dst, mode, data), nil
}

// AppletLinks asks busybox for its applets and returns one relative
// symlink bin/<applet> → busybox for each, sorted, as Docker Hub's busybox
// has them.
func AppletLinks(busybox string) ([]Entry, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var links []Entry
	for _, a := range applets(string(out)) {
		links = append(links, Entry{Header: &tar.Header{
			Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox",
			Mode: 0o777, ModTime: Epoch,
		}})
	}
	return links, nil
}

// applets parses `busybox --list`, sorted; busybox itself and any name
// with a slash (a path, not an applet) get no link.
func applets(list string) []string {
	var names []string
	for _, a := range strings.Fields(list) {
		if a != "busybox" && !strings.Contains(a, "/") {
			names = append(names, a)
		}
	}
	sort.Strings(names)
	return names
}

// Layer packs the entries, in order, into one uncompressed tar in memory (a
// few MB at most) that the layer compresses on demand.
func Layer(entries []Entry, mediaType types.MediaType) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		e.Header.Format = tar.FormatPAX
		if err := tw.WriteHeader(e.Header); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.Header.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.Header.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return tarball.LayerFromOpener(opener, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(mediaType))
}

// Image is base with layer on top and cfg as its config, for linux on this
// machine's architecture, created at Epoch.
func Image(base v1.Image, layer v1.Layer, cfg v1.Config) (v1.Image, error) {
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	file, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	file = file.DeepCopy()
	file.Config = cfg
	file.Architecture = runtime.GOARCH
	file.OS = "linux"
	file.Created = v1.Time{Time: Epoch}
	return mutate.ConfigFile(img, file)
}

// Save writes img as a `docker save` tarball at path, tagged ref. A failed
// write leaves no partial file.
func Save(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	if err := tarball.MultiRefWriteToFile(path, map[name.Reference]v1.Image{tag: img}); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
