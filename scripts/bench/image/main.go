// Command image writes the benchmark image as a `docker save` tarball:
// Debian's static busybox, the host's /usr/bin/iperf3 with the libraries
// and loader `ldd` names (at the same paths), and the static connserver.
// warren (`warren load`) and Podman (`podman load`) load the same file, so
// every tool runs the same binaries.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"warren/tests/images/imagebuild"
)

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
	layer, err := imagebuild.Layer(files, types.DockerLayer)
	if err != nil {
		return err
	}
	img, err := imagebuild.Image(empty.Image, layer, v1.Config{Env: []string{"PATH=" + imagebuild.DefaultPath}, Cmd: []string{"sh"}})
	if err != nil {
		return err
	}
	if err := imagebuild.Save(out, Ref, img); err != nil {
		return err
	}
	fmt.Println("wrote", out, Ref)
	return nil
}

// baseDirs are the image's top folders, made before anything else.
var baseDirs = []string{"bin", "dev", "etc", "proc", "root", "sys", "tmp", "usr", "usr/bin", "var"}

// rootFiles is the image's whole tree: folders, busybox and its applet
// links, iperf3 with its shared objects, connserver, passwd and group.
func rootFiles(busybox, iperf3, connserver string) ([]imagebuild.Entry, error) {
	var files []imagebuild.Entry
	for _, d := range baseDirs {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		files = append(files, imagebuild.Dir(d, mode))
	}
	files = append(files,
		imagebuild.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
		imagebuild.Text("etc/group", "root:x:0:\nnobody:x:65534:\n"),
		imagebuild.Text("etc/nsswitch.conf", "hosts: files dns\n"),
	)
	for _, bin := range []struct{ src, dst string }{
		{busybox, "bin/busybox"}, {iperf3, "usr/bin/iperf3"}, {connserver, "usr/bin/connserver"},
	} {
		e, err := imagebuild.HostFile(bin.src, bin.dst, 0o755)
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	links, err := imagebuild.AppletLinks(busybox)
	if err != nil {
		return nil, err
	}
	files = append(files, links...)
	libs, err := libFiles(iperf3)
	if err != nil {
		return nil, err
	}
	return append(files, libs...), nil
}

// libFiles is the shared objects bin needs, each at its host path and
// preceded by the folders above it that the base does not have.
func libFiles(bin string) ([]imagebuild.Entry, error) {
	libs, err := sharedObjects(bin)
	if err != nil {
		return nil, err
	}
	var files []imagebuild.Entry
	dirs := map[string]bool{}
	for _, lib := range libs {
		// The library's folder chain (lib64, usr/lib/x86_64-linux-gnu, ...)
		// must exist before the file in the tar.
		for _, d := range parents(strings.TrimPrefix(lib, "/")) {
			if !dirs[d] && !slices.Contains(baseDirs, d) {
				dirs[d] = true
				files = append(files, imagebuild.Dir(d, 0o755))
			}
		}
		e, err := imagebuild.HostFile(lib, strings.TrimPrefix(lib, "/"), 0o755)
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	return files, nil
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
