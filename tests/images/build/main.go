// Command build writes the test and demo images as `docker save` tarballs
// (and busybox once more as an OCI archive) from what the machine has:
// Debian's static busybox and the static Go programs next to this folder.
// Nothing is downloaded, so the tests run offline and build in seconds.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"warren/tests/images/imagebuild"
)

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
	}{{"webapp", "5000/tcp"}, {"db", "5432/tcp"}, {"netprobe", "7000/udp"}, {"procprobe", ""}}
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
	if err := imagebuild.Save(path, ref, img); err != nil {
		return err
	}
	fmt.Println("wrote", path, ref)
	return nil
}

// busyboxImage is the image Docker Hub's busybox resembles: the binary, one
// relative symlink per applet, the usual users and folders, Cmd ["sh"].
func busyboxImage(busybox string, layerType types.MediaType) (v1.Image, error) {
	bin, err := imagebuild.HostFile(busybox, "bin/busybox", 0o755)
	if err != nil {
		return nil, err
	}
	links, err := imagebuild.AppletLinks(busybox)
	if err != nil {
		return nil, err
	}
	files := append(baseDirs(),
		bin,
		imagebuild.Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n"),
		imagebuild.Text("etc/group", "root:x:0:\nnobody:x:65534:\nuser:x:1000:\n"),
	)
	layer, err := imagebuild.Layer(append(files, links...), layerType)
	if err != nil {
		return nil, err
	}
	return imagebuild.Image(empty.Image, layer, v1.Config{Env: []string{"PATH=" + imagebuild.DefaultPath}, Cmd: []string{"sh"}})
}

func baseDirs() []imagebuild.Entry {
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
	var entries []imagebuild.Entry
	for _, d := range dirs {
		e := imagebuild.Dir(d.path, d.mode)
		e.Header.Uid, e.Header.Gid = d.uid, d.gid
		entries = append(entries, e)
	}
	return entries
}

// appImage is busybox plus one static Go program from tests/images/<app>.
func appImage(base v1.Image, app, port string) (v1.Image, error) {
	bin, err := goBuild(app)
	if err != nil {
		return nil, err
	}
	layer, err := imagebuild.Layer([]imagebuild.Entry{imagebuild.File(app, 0o755, bin)}, types.DockerLayer)
	if err != nil {
		return nil, err
	}
	cfg := v1.Config{Env: []string{"PATH=" + imagebuild.DefaultPath}, Cmd: []string{"/" + app}}
	if port != "" {
		cfg.ExposedPorts = map[string]struct{}{port: {}}
	}
	return imagebuild.Image(base, layer, cfg)
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
		hdr.Name, hdr.ModTime, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = rel, imagebuild.Epoch, 0, 0, "", ""
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
