// Command build writes the test and demo images as `docker save` tarballs
// (and busybox once more as an OCI archive) from what the machine has:
// Debian's static busybox and the static Go programs next to this folder.
// Nothing is downloaded, so the tests run offline and build in seconds.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every file's and image's creation time, so that rebuilding gives
// the same image IDs and tests can compare them across runs.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func main() {
	out := flag.String("out", "tests/images/out", "folder for the image tarballs")
	busybox := flag.String("busybox", "/usr/bin/busybox", "a static busybox binary")
	flag.Parse()
	if err := run(*out, *busybox); err != nil {
		fmt.Fprintln(os.Stderr, "build images:", err)
		os.Exit(1)
	}
}

func run(out, busybox string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	base, err := busyboxImage(busybox, types.DockerLayer)
	if err != nil {
		return err
	}
	if err := save(filepath.Join(out, "busybox.tar"), "busybox:latest", base); err != nil {
		return err
	}
	if err := saveOCI(filepath.Join(out, "busybox-oci.tar"), busybox); err != nil {
		return err
	}
	apps := []struct {
		name, port string
	}{{"webapp", "5000/tcp"}, {"db", "5432/tcp"}, {"netprobe", "7000/udp"}}
	for _, app := range apps {
		img, err := appImage(base, app.name, app.port)
		if err != nil {
			return err
		}
		if err := save(filepath.Join(out, app.name+".tar"), "warren/"+app.name+":latest", img); err != nil {
			return err
		}
	}
	return nil
}

func save(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	if err := tarball.MultiRefWriteToFile(path, map[name.Reference]v1.Image{tag: img}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Println("wrote", path, ref)
	return nil
}

// busyboxImage is the image Docker Hub's busybox resembles: the binary, one
// relative symlink per applet, the usual users and folders, Cmd ["sh"].
func busyboxImage(busybox string, layerType types.MediaType) (v1.Image, error) {
	applets, err := listApplets(busybox)
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	var files []entry
	files = append(files, baseDirs()...)
	files = append(files,
		entry{hdr: fileHeader("bin/busybox", 0o755, len(bin)), data: bin},
		textFile("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n"),
		textFile("etc/group", "root:x:0:\nnobody:x:65534:\nuser:x:1000:\n"),
	)
	for _, a := range applets {
		files = append(files, entry{hdr: &tar.Header{
			Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox",
			Mode: 0o777, ModTime: epoch,
		}})
	}
	layer, err := layerOf(files, layerType)
	if err != nil {
		return nil, err
	}
	return imageOf(empty.Image, layer, &v1.Config{Env: []string{"PATH=" + defaultPath}, Cmd: []string{"sh"}})
}

// listApplets asks busybox for its applets; each becomes /bin/<applet>.
func listApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			applets = append(applets, a)
		}
	}
	sort.Strings(applets)
	return applets, nil
}

func baseDirs() []entry {
	dirs := []struct {
		path     string
		mode     int64
		uid, gid int
	}{
		{"bin", 0o755, 0, 0}, {"dev", 0o755, 0, 0}, {"etc", 0o755, 0, 0},
		{"home", 0o755, 0, 0}, {"home/user", 0o755, 1000, 1000}, {"proc", 0o555, 0, 0},
		{"root", 0o700, 0, 0}, {"sys", 0o555, 0, 0}, {"tmp", 0o1777, 0, 0},
		{"usr", 0o755, 0, 0}, {"usr/bin", 0o755, 0, 0}, {"usr/sbin", 0o755, 0, 0},
		{"var", 0o755, 0, 0}, {"var/tmp", 0o1777, 0, 0},
	}
	var entries []entry
	for _, d := range dirs {
		entries = append(entries, entry{hdr: &tar.Header{
			Typeflag: tar.TypeDir, Name: d.path + "/", Mode: d.mode,
			Uid: d.uid, Gid: d.gid, ModTime: epoch,
		}})
	}
	return entries
}

// appImage is busybox plus one static Go program from tests/images/<app>.
func appImage(base v1.Image, app, port string) (v1.Image, error) {
	bin, err := goBuild(app)
	if err != nil {
		return nil, err
	}
	layer, err := layerOf([]entry{{hdr: fileHeader(app, 0o755, len(bin)), data: bin}}, types.DockerLayer)
	if err != nil {
		return nil, err
	}
	return imageOf(base, layer, &v1.Config{
		Env:          []string{"PATH=" + defaultPath},
		Cmd:          []string{"/" + app},
		ExposedPorts: map[string]struct{}{port: {}},
	})
}

func goBuild(app string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "warren-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, app)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "warren/tests/images/"+app)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w", app, err)
	}
	return os.ReadFile(bin)
}

func imageOf(base v1.Image, layer v1.Layer, cfg *v1.Config) (v1.Image, error) {
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	file, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	file = file.DeepCopy()
	file.Config = *cfg
	file.Architecture = goruntime.GOARCH
	file.OS = "linux"
	file.Created = v1.Time{Time: epoch}
	return mutate.ConfigFile(img, file)
}

type entry struct {
	hdr  *tar.Header
	data []byte
}

func fileHeader(path string, mode int64, size int) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(size), ModTime: epoch}
}

func textFile(path, text string) entry {
	return entry{hdr: fileHeader(path, 0o644, len(text)), data: []byte(text)}
}

// layerOf packs the entries into one uncompressed tar in memory (a few MB at
// most) that the layer compresses on demand.
func layerOf(entries []entry, mediaType types.MediaType) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		e.hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(e.hdr); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.hdr.Name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return tarball.LayerFromOpener(opener, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(mediaType))
}

// saveOCI writes busybox as an OCI image layout packed in a tar (what
// `docker save` of containerd-backed Docker and `skopeo copy oci-archive:`
// produce), named warren/busybox-oci:latest so a load test can tell it
// from the docker-save busybox.
func saveOCI(path, busybox string) error {
	img, err := busyboxImage(busybox, types.OCILayer)
	if err != nil {
		return err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	dir, err := os.MkdirTemp("", "warren-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	err = lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          "docker.io/warren/busybox-oci:latest",
		"org.opencontainers.image.ref.name": "latest",
	}))
	if err != nil {
		return fmt.Errorf("oci layout: %w", err)
	}
	if err := tarDir(dir, path); err != nil {
		return err
	}
	fmt.Println("wrote", path, "warren/busybox-oci:latest (OCI archive)")
	return nil
}

// tarDir packs a folder's regular files and folders, paths relative to it.
func tarDir(dir, path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = rel, epoch, 0, 0, "", ""
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil || !info.Mode().IsRegular() {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("tar %s: %w", dir, err)
	}
	return tw.Close()
}
