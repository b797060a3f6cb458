// Command image writes the benchmark image as a `docker save` tarball:
// Debian's static busybox, the host's /usr/bin/iperf3 with the libraries
// and loader `ldd` names (at the same paths), and the static connserver.
// warren (`warren load`) and Podman (`podman load`) load the same file, so
// every tool runs the same binaries.
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
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's time, so rebuilding gives the same image ID.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Ref is the name both warren and Podman know the image by; "localhost/"
// keeps Podman from qualifying it with docker.io.
const Ref = "localhost/warrenbench:latest"

func main() {
	out := flag.String("out", "bench-image.tar", "tarball to write")
	busybox := flag.String("busybox", "/usr/bin/busybox", "a static busybox")
	iperf3 := flag.String("iperf3", "/usr/bin/iperf3", "the iperf3 binary to pack")
	connserver := flag.String("connserver", "", "a static connserver binary (built with CGO_ENABLED=0)")
	flag.Parse()
	if *connserver == "" {
		fmt.Fprintln(os.Stderr, "image: -connserver is required")
		os.Exit(2)
	}
	if err := build(*out, *busybox, *iperf3, *connserver); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func build(out, busybox, iperf3, connserver string) error {
	files, err := rootFiles(busybox, iperf3, connserver)
	if err != nil {
		return err
	}
	layer, err := layerOf(files)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = goruntime.GOARCH, "linux", v1.Time{Time: epoch}
	cf.Config = v1.Config{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"sh"},
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(Ref)
	if err != nil {
		return err
	}
	if err := tarball.MultiRefWriteToFile(out, map[name.Reference]v1.Image{tag: img}); err != nil {
		os.Remove(out)
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Println("wrote", out, Ref)
	return nil
}

type entry struct {
	hdr  *tar.Header
	data []byte
}

// rootFiles is the image's whole tree: folders, busybox and its applet
// links, iperf3 with its shared objects, connserver, passwd and group.
func rootFiles(busybox, iperf3, connserver string) ([]entry, error) {
	var files []entry
	for _, d := range []string{"bin", "dev", "etc", "proc", "root", "sys", "tmp", "usr", "usr/bin", "var"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		files = append(files, entry{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode, ModTime: epoch}})
	}
	files = append(files,
		text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
		text("etc/group", "root:x:0:\nnobody:x:65534:\n"),
		text("etc/nsswitch.conf", "hosts: files dns\n"),
	)
	for _, bin := range []struct{ src, dst string }{
		{busybox, "bin/busybox"}, {iperf3, "usr/bin/iperf3"}, {connserver, "usr/bin/connserver"},
	} {
		e, err := hostFile(bin.src, bin.dst, 0o755)
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	applets, err := applets(busybox)
	if err != nil {
		return nil, err
	}
	for _, a := range applets {
		files = append(files, entry{hdr: &tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: epoch}})
	}
	libs, err := sharedObjects(iperf3)
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for _, lib := range libs {
		// The library's folder chain (lib64, usr/lib/x86_64-linux-gnu, ...)
		// must exist before the file in the tar.
		for _, d := range parents(strings.TrimPrefix(lib, "/")) {
			if !dirs[d] && !isBase(d) {
				dirs[d] = true
				files = append(files, entry{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}})
			}
		}
		e, err := hostFile(lib, strings.TrimPrefix(lib, "/"), 0o755)
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	return files, nil
}

func isBase(d string) bool {
	switch d {
	case "bin", "dev", "etc", "proc", "root", "sys", "tmp", "usr", "usr/bin", "var":
		return true
	}
	return false
}

// parents lists a path's folders from the top: "a/b/c.so" -> a, a/b.
func parents(p string) []string {
	var out []string
	for d := filepath.Dir(p); d != "." && d != "/"; d = filepath.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

// sharedObjects runs ldd on bin and returns the absolute paths it resolves.
func sharedObjects(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	return parseLdd(string(out)), nil
}

// parseLdd takes "libx.so => /path (0x..)" and "/lib64/ld-linux... (0x..)"
// lines; the vDSO has no file and is skipped. Sorted and unique.
func parseLdd(out string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		var p string
		switch {
		case len(f) >= 3 && f[1] == "=>":
			p = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			p = f[0]
		}
		if strings.HasPrefix(p, "/") {
			seen[p] = true
		}
	}
	libs := make([]string, 0, len(seen))
	for p := range seen {
		libs = append(libs, p)
	}
	sort.Strings(libs)
	return libs
}

func applets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var list []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			list = append(list, a)
		}
	}
	sort.Strings(list)
	return list, nil
}

// hostFile reads a host file, following symlinks (ldd names the link, the
// image needs the content at that path).
func hostFile(src, dst string, mode int64) (entry, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return entry{}, fmt.Errorf("read %s: %w", src, err)
	}
	return entry{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: mode, Size: int64(len(data)), ModTime: epoch}, data: data}, nil
}

func text(p, s string) entry {
	return entry{hdr: &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(s)), ModTime: epoch}, data: []byte(s)}
}

// layerOf packs the entries into one in-memory tar (a few MB).
func layerOf(entries []entry) (v1.Layer, error) {
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
	return tarball.LayerFromOpener(opener, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(types.DockerLayer))
}
