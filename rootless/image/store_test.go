package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(s.root) })
	return s
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(512, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func configName(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// dockerSave is a `docker save`-format tarball of tag → image.
func dockerSave(t *testing.T, images map[string]v1.Image) *bytes.Buffer {
	t.Helper()
	refs := map[name.Reference]v1.Image{}
	for tag, img := range images {
		refs[mustRef(t, tag)] = img
	}
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(refs, &buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func load(t *testing.T, s *Store, r io.Reader) []string {
	t.Helper()
	lines, err := s.Load(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestLoadDockerSave(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 3)
	lines := load(t, s, dockerSave(t, map[string]v1.Image{"busybox:latest": img}))
	if want := []string{"Loaded image: busybox:latest"}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("lines %q, want %q", lines, want)
	}
	got, err := s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	id := configName(t, img)
	if got.ID != id || !reflect.DeepEqual(got.RepoTags, []string{"busybox:latest"}) || len(got.RepoDigests) != 0 {
		t.Errorf("got %s %v %v, want %s [busybox:latest] []", got.ID, got.RepoTags, got.RepoDigests, id)
	}
	if len(got.Layers) != 3 {
		t.Fatalf("layers %v", got.Layers)
	}
	for _, l := range got.Layers {
		if fi, err := os.Stat(l); err != nil || !fi.IsDir() {
			t.Errorf("layer %s not unpacked: %v", l, err)
		}
	}
	if got.Size <= 0 {
		t.Errorf("size %d", got.Size)
	}

	// The same again: nothing new, the tag stays.
	if lines := load(t, s, dockerSave(t, map[string]v1.Image{"busybox:latest": img})); lines[0] != "Loaded image: busybox:latest" {
		t.Errorf("reload: %q", lines)
	}
	// Another image takes the tag: Docker says so.
	other := randomImage(t, 1)
	lines = load(t, s, dockerSave(t, map[string]v1.Image{"busybox:latest": other}))
	want := []string{
		"The image busybox:latest already exists, renaming the old one with ID " + id + " to empty string",
		"Loaded image: busybox:latest",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if old, err := s.Get(id); err != nil || len(old.RepoTags) != 0 {
		t.Errorf("old image: %v %v, want dangling", old, err)
	}
}

func TestLoadUntagged(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 1)
	var buf bytes.Buffer
	if err := tarball.MultiRefWrite(map[name.Reference]v1.Image{mustRef(t, "x@"+configName(t, img)): img}, &buf); err != nil {
		t.Fatal(err)
	}
	lines := load(t, s, &buf)
	if want := []string{"Loaded image ID: " + configName(t, img)}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

// ociArchive tars an OCI layout holding img named ref.
func ociArchive(t *testing.T, img v1.Image, annotations map[string]string) *bytes.Buffer {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
		t.Fatal(err)
	}
	return tarDir(t, dir)
}

func tarDir(t *testing.T, dir string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link, _ := os.Readlink(p)
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name, _ = filepath.Rel(dir, p)
		if err := tw.WriteHeader(hdr); err != nil || !info.Mode().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestLoadOCIArchive(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        string
	}{
		{"containerd name", map[string]string{annotationImageName: "docker.io/library/app:1"}, "Loaded image: app:1"},
		{"full ref.name", map[string]string{annotationRefName: "127.0.0.1:5000/app:2"}, "Loaded image: 127.0.0.1:5000/app:2"},
		{"bare tag", map[string]string{annotationRefName: "latest"}, "Loaded image ID: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			img := randomImage(t, 2)
			lines := load(t, s, ociArchive(t, img, tt.annotations))
			want := tt.want
			if strings.HasSuffix(want, ": ") {
				want += configName(t, img)
			}
			if !reflect.DeepEqual(lines, []string{want}) {
				t.Fatalf("lines %q, want %q", lines, want)
			}
			if _, err := s.Get(configName(t, img)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadRefusesEscapingArchive(t *testing.T) {
	s := openStore(t)
	data := layerTar(t, file("../evil", "x"))
	_, err := s.Load(context.Background(), bytes.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "path escapes the layer") {
		t.Fatalf("got %v", err)
	}
	_, err = s.Load(context.Background(), bytes.NewReader(layerTar(t, file("hello", "x"))))
	if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("got %v, want an invalid archive", err)
	}
	assertTmpEmpty(t, s)
}

func assertTmpEmpty(t *testing.T, s *Store) {
	t.Helper()
	entries, _ := os.ReadDir(s.tmpDir())
	if len(entries) != 0 {
		t.Errorf("tmp/ not cleaned: %v", entries)
	}
}

func TestGetResolution(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 1)
	load(t, s, dockerSave(t, map[string]v1.Image{"127.0.0.1:5000/app:v1": img}))
	id := configName(t, img)
	hex := strings.TrimPrefix(id, "sha256:")
	for _, ref := range []string{id, hex, hex[:12], hex[:4], "sha256:" + hex[:12], "127.0.0.1:5000/app:v1"} {
		got, err := s.Get(ref)
		if err != nil || got.ID != id {
			t.Errorf("Get(%q) = %v, %v", ref, got, err)
		}
	}
	for ref, want := range map[string]string{
		"127.0.0.1:5000/app": "No such image: 127.0.0.1:5000/app:latest",
		"nope":               "No such image: nope:latest",
	} {
		if _, err := s.Get(ref); err == nil || err.Error() != want || !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want %q", ref, err, want)
		}
	}
}

func TestTagAndRemove(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 2)
	load(t, s, dockerSave(t, map[string]v1.Image{"busybox:latest": img}))
	id := configName(t, img)
	if err := s.Tag("busybox", "busybox:v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("busybox", "other/name"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(id)
	if want := []string{"busybox:latest", "busybox:v1", "other/name:latest"}; !reflect.DeepEqual(got.RepoTags, want) {
		t.Errorf("tags %v, want %v", got.RepoTags, want)
	}
	if got.LastTagTime.IsZero() {
		t.Error("LastTagTime not set by tag")
	}
	if err := s.Tag("busybox", "x@sha256:"+strings.Repeat("0", 64)); err == nil ||
		err.Error() != "refusing to create a tag with a digest reference" {
		t.Errorf("tag with digest: %v", err)
	}

	// By ID with references in two repositories: Docker wants force.
	_, err := s.Remove(id[:19], false)
	want := "conflict: unable to delete " + strings.TrimPrefix(id, "sha256:")[:12] + " (must be forced) - image is referenced in multiple repositories"
	if err == nil || err.Error() != want || !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("rmi by id: %v, want %q", err, want)
	}

	// By name: untag only while other references remain.
	del, err := s.Remove("busybox:v1", false)
	if err != nil || !reflect.DeepEqual(del, []deleteResponse{{Untagged: "busybox:v1"}}) {
		t.Fatalf("rmi busybox:v1 = %v, %v", del, err)
	}
	if _, err := s.Remove("busybox:v1", false); err == nil || err.Error() != "No such image: busybox:v1" {
		t.Errorf("second rmi: %v", err)
	}
	if _, err := s.Remove("other/name", false); err != nil {
		t.Fatal(err)
	}
	layers := got.Layers
	del, err = s.Remove("busybox", false)
	if err != nil {
		t.Fatal(err)
	}
	chain := chainIDs(mustConfig(t, img).RootFS.DiffIDs)
	wantDel := []deleteResponse{{Untagged: "busybox:latest"}, {Deleted: id}, {Deleted: chain[1]}, {Deleted: chain[0]}}
	if !reflect.DeepEqual(del, wantDel) {
		t.Errorf("rmi busybox = %v, want %v", del, wantDel)
	}
	for _, l := range layers {
		if _, err := os.Stat(l); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("layer %s left behind: %v", l, err)
		}
	}
	if n := len(s.List()); n != 0 {
		t.Errorf("%d images left", n)
	}
	assertTmpEmpty(t, s)
}

func TestRemoveByIDUntagsSingleRepository(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 1)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": img}))
	id := configName(t, img)
	del, err := s.Remove(strings.TrimPrefix(id, "sha256:")[:12], false)
	if err != nil {
		t.Fatal(err)
	}
	if del[0] != (deleteResponse{Untagged: "app:1"}) || del[1] != (deleteResponse{Deleted: id}) {
		t.Errorf("got %v", del)
	}
}

func TestRemoveKeepsSharedLayers(t *testing.T) {
	s := openStore(t)
	base := randomImage(t, 1)
	top, err := mutate.AppendLayers(base, mustLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	load(t, s, dockerSave(t, map[string]v1.Image{"base:1": base, "top:1": top}))
	b, _ := s.Get("base:1")
	del, err := s.Remove("top:1", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(del) != 3 { // untag, image, its own top layer
		t.Errorf("got %v", del)
	}
	if _, err := os.Stat(b.Layers[0]); err != nil {
		t.Errorf("shared layer removed: %v", err)
	}
}

func mustLayer(t *testing.T) v1.Layer {
	t.Helper()
	l, err := random.Layer(256, "application/vnd.docker.image.rootfs.diff.tar.gzip")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustConfig(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := openStore(t)
	a, b := randomImage(t, 2), randomImage(t, 1)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": a, "app:2": a, "127.0.0.1:5000/b:x": b}))

	var buf bytes.Buffer
	if err := s.Save(context.Background(), []string{"app", "127.0.0.1:5000/b:x"}, &buf); err != nil {
		t.Fatal(err)
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 {
		t.Fatalf("manifest.json has %d images: %+v", len(m), m)
	}
	s2 := openStore(t)
	lines := load(t, s2, &buf)
	want := map[string]bool{"Loaded image: app:1": true, "Loaded image: app:2": true, "Loaded image: 127.0.0.1:5000/b:x": true}
	if len(lines) != 3 {
		t.Fatalf("lines %q", lines)
	}
	for _, l := range lines {
		if !want[l] {
			t.Errorf("unexpected line %q", l)
		}
	}
	for ref, img := range map[string]v1.Image{"app:2": a, "127.0.0.1:5000/b:x": b} {
		got, err := s2.Get(ref)
		if err != nil || got.ID != configName(t, img) {
			t.Errorf("%s: %v %v", ref, got, err)
		}
	}
}

func TestReopenKeepsImages(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 1)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": img}))
	s2, err := Open(s.root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("app:1")
	if err != nil || got.ID != configName(t, img) || got.Size == 0 {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}

func TestPull(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img := randomImage(t, 2)
	ref := host + "/busybox:latest"
	if err := remote.Write(mustRef(t, ref), img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()

	s := openStore(t)
	var statuses []string
	progress := func(id, status string, cur, total int64) {
		if status != "Downloading" && status != "Extracting" {
			statuses = append(statuses, id+" "+status)
		}
	}
	got, err := s.Pull(context.Background(), host+"/busybox", progress)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	short := func(i int) string { return m.Layers[i].Digest.Hex[:12] }
	want := []string{
		"latest Pulling from busybox",
		short(0) + " Pulling fs layer", short(1) + " Pulling fs layer",
		short(0) + " Download complete", short(0) + " Pull complete",
		short(1) + " Download complete", short(1) + " Pull complete",
		" Digest: " + digest.String(),
		" Status: Downloaded newer image for " + host + "/busybox:latest",
	}
	if !reflect.DeepEqual(statuses, want) {
		t.Errorf("progress\n%q\nwant\n%q", statuses, want)
	}
	if got.ID != configName(t, img) ||
		!reflect.DeepEqual(got.RepoTags, []string{host + "/busybox:latest"}) ||
		!reflect.DeepEqual(got.RepoDigests, []string{host + "/busybox@" + digest.String()}) {
		t.Errorf("got %+v", got)
	}

	statuses = nil
	if _, err := s.Pull(context.Background(), ref, progress); err != nil {
		t.Fatal(err)
	}
	if last := statuses[len(statuses)-1]; last != " Status: Image is up to date for "+ref {
		t.Errorf("second pull ended with %q", last)
	}
	if statuses[1] != short(0)+" Already exists" {
		t.Errorf("second pull: %q", statuses)
	}

	_, err = s.Pull(context.Background(), host+"/nope:1", nil)
	if want := "manifest for " + host + "/nope:1 not found: manifest unknown: manifest unknown"; err == nil || err.Error() != want {
		t.Errorf("missing image: %v, want %q", err, want)
	}
}

func TestImport(t *testing.T) {
	s := openStore(t)
	data := layerTar(t, dir("bin/"), file("bin/hello", "hi"))
	img, err := s.Import(context.Background(), bytes.NewReader(data), "imported:1",
		[]string{`CMD ["/bin/hello", "x"]`, "ENV A=1 B=\"two words\"", "EXPOSE 80 53/udp", "WORKDIR /srv", "USER nobody", "ENTRYPOINT echo hi"})
	if err != nil {
		t.Fatal(err)
	}
	c := img.Config.Config
	if !reflect.DeepEqual(c.Cmd, []string{"/bin/hello", "x"}) ||
		!reflect.DeepEqual(c.Entrypoint, []string{"/bin/sh", "-c", "echo hi"}) ||
		!reflect.DeepEqual(c.Env, []string{"A=1", "B=two words"}) ||
		c.WorkingDir != "/srv" || c.User != "nobody" || len(c.ExposedPorts) != 2 {
		t.Errorf("config %+v", c)
	}
	if img.Comment != importComment || !reflect.DeepEqual(img.RepoTags, []string{"imported:1"}) {
		t.Errorf("comment %q tags %v", img.Comment, img.RepoTags)
	}
	assertFile(t, filepath.Join(img.Layers[0], "bin/hello"), "hi")

	if _, err := s.Import(context.Background(), bytes.NewReader(data), "", []string{"RUN x"}); err == nil ||
		err.Error() != "RUN is not a valid change command" {
		t.Errorf("RUN change: %v", err)
	}
}

func TestSummaryAndInspect(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 1)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": img}))
	got, _ := s.Get("app:1")
	sum := s.Summary(got)
	if sum.ID != got.ID || sum.Containers != -1 || sum.SharedSize != -1 || sum.RepoDigests == nil ||
		!reflect.DeepEqual(sum.RepoTags, []string{"app:1"}) || sum.Size != got.Size {
		t.Errorf("summary %+v", sum)
	}
	in := s.Inspect(got)
	cfg := mustConfig(t, img)
	if in.ID != got.ID || in.Os != cfg.OS || in.Architecture != cfg.Architecture || in.RootFS.Type != "layers" ||
		len(in.RootFS.Layers) != 1 || in.RootFS.Layers[0] != cfg.RootFS.DiffIDs[0].String() || in.Config == nil {
		t.Errorf("inspect %+v", in)
	}
}

func TestRemoveKeepsLayersInUse(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 2)
	load(t, s, dockerSave(t, map[string]v1.Image{"app:1": img}))
	got, _ := s.Get("app:1")
	used := got.Layers[0]
	s.SetLayerInUse(func(dir string) bool {
		s.List() // the hook may call back into the store: no lock is held
		return dir == used
	})
	del, err := s.Remove("app:1", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(del) != 3 { // untag, image, the unused top layer
		t.Errorf("got %v", del)
	}
	if _, err := os.Stat(used); err != nil {
		t.Errorf("layer in use removed: %v", err)
	}
	if _, err := os.Stat(got.Layers[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unused layer kept: %v", err)
	}
}

// Concurrent loads of images sharing layers unpack each layer once and
// leave a consistent store.
func TestConcurrentLoads(t *testing.T) {
	s := openStore(t)
	base := randomImage(t, 2)
	archives := make([][]byte, 4)
	for i := range archives {
		img, err := mutate.AppendLayers(base, mustLayer(t))
		if err != nil {
			t.Fatal(err)
		}
		archives[i] = dockerSave(t, map[string]v1.Image{"app:" + string(rune('a'+i)): img}).Bytes()
	}
	errs := make(chan error, len(archives))
	for _, a := range archives {
		go func() {
			_, err := s.Load(context.Background(), bytes.NewReader(a))
			errs <- err
		}()
	}
	for range archives {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.List()); n != 4 {
		t.Fatalf("%d images", n)
	}
	entries, _ := os.ReadDir(s.layersDir())
	if len(entries) != 2+4 {
		t.Errorf("%d layer folders, want 6", len(entries))
	}
	assertTmpEmpty(t, s)
}

// A layer that does not match its config fails the load and takes back
// the layers already unpacked for it.
func TestLoadFailureLeavesNothing(t *testing.T) {
	s := openStore(t)
	img := randomImage(t, 2)
	archive := dockerSave(t, map[string]v1.Image{"app:1": img})
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(archive.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	bad := layerTar(t, file("other", "content"))
	var out bytes.Buffer
	tr, tw := tar.NewReader(archive), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		body, _ := io.ReadAll(tr)
		if hdr.Name == m[0].Layers[1] {
			body = bad
		}
		hdr.Size = int64(len(body))
		tw.WriteHeader(hdr)
		tw.Write(body)
	}
	tw.Close()

	_, err = s.Load(context.Background(), &out)
	if err == nil || !strings.Contains(err.Error(), "content does not match the image config") {
		t.Fatalf("got %v", err)
	}
	for _, d := range []string{s.layersDir(), s.blobDir()} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s not empty: %v", d, entries)
		}
	}
	assertTmpEmpty(t, s)
}

// A RepoTag outside Docker's grammar refuses the whole archive before
// anything is stored; a bad tag target stores nothing.
func TestInvalidReferencesStoreNothing(t *testing.T) {
	s := openStore(t)
	layer := layerTar(t, file("hello", "x"))
	_, err := s.Load(context.Background(), bytes.NewReader(saveArchive(t, "../../x:latest", layer, layer)))
	if err == nil || err.Error() != `invalid tag "../../x:latest" in manifest.json: invalid reference format` || !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("load: got %v", err)
	}
	for _, d := range []string{s.layersDir(), s.blobDir()} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s not empty: %v", d, entries)
		}
	}
	assertTmpEmpty(t, s)
	if _, err := s.Import(context.Background(), bytes.NewReader(layer), "../../x", nil); err == nil || err.Error() != "invalid reference format" {
		t.Errorf("import: got %v", err)
	}
	img, err := s.Import(context.Background(), bytes.NewReader(layer), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]string{"../../zz": "invalid reference format", "busybox:..bad": "invalid tag format"} {
		if err := s.Tag(img.ID, target); err == nil || err.Error() != want {
			t.Errorf("tag %s: got %v, want %q", target, err, want)
		}
	}
	if refs := s.idx.Refs; len(refs) != 0 {
		t.Errorf("references stored: %v", refs)
	}
}

// Symlinks in a loaded archive resolve inside it. go-containerregistry
// refuses a blob that is itself a symlink, but follows index.json and the
// folders above the blobs: an OCI layout whose index.json or blobs folder
// links to a copy outside (so only where it is read from differs), or to
// a device, is refused.
func TestLoadArchiveLinksStayInside(t *testing.T) {
	img := randomImage(t, 1)
	up := strings.Repeat("up/", 30) // up -> ..: climbs through a link
	tests := []struct {
		name, moved, target string // moved is put outside, then linked to target
	}{
		{"index.json, absolute", "index.json", "@"},
		{"index.json, relative", "index.json", strings.Repeat("../", 30) + "@"},
		{"index.json, a device", "index.json", "/dev/zero"},
		{"blobs folder, absolute", "blobs", "@"},
		{"blobs folder, through a link", "blobs", up + "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, outer := t.TempDir(), t.TempDir()
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationImageName: "linked:1"})); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("..", filepath.Join(dir, "up")); err != nil {
				t.Fatal(err)
			}
			outside := filepath.Join(outer, tt.moved)
			if err := os.Rename(filepath.Join(dir, tt.moved), outside); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(strings.ReplaceAll(tt.target, "@", outside), filepath.Join(dir, tt.moved)); err != nil {
				t.Fatal(err)
			}
			s := openStore(t)
			if _, err := s.Load(context.Background(), tarDir(t, dir)); err == nil {
				t.Fatal("loaded through a link to outside the archive")
			}
			if len(s.List()) != 0 {
				t.Errorf("images stored: %v", s.List())
			}
			assertTmpEmpty(t, s)
		})
	}
}

// Old `docker save` archives share a layer between images with a
// relative symlink; it still loads.
func TestLoadSharedLayerSymlink(t *testing.T) {
	layer := layerTar(t, file("hello", "x"))
	archive := saveArchive(t, "shared:1", layer, layer)
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(archive)), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if hdr.Name == "layer.tar" {
			tw.WriteHeader(&tar.Header{Name: "abc/", Typeflag: tar.TypeDir, Mode: 0o755})
			tw.WriteHeader(&tar.Header{Name: "abc/layer.tar", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
			tw.Write(body)
			hdr = &tar.Header{Name: "layer.tar", Typeflag: tar.TypeSymlink, Linkname: "./abc/../abc/layer.tar"}
			body = nil
		}
		tw.WriteHeader(hdr)
		tw.Write(body)
	}
	tw.Close()
	s := openStore(t)
	if lines := load(t, s, &out); !reflect.DeepEqual(lines, []string{"Loaded image: shared:1"}) {
		t.Errorf("lines %q", lines)
	}
}

func TestRelativePath(t *testing.T) {
	tests := []struct {
		from, to []string
		want     string
	}{
		{nil, nil, "."},
		{nil, []string{"a", "b"}, "a/b"},
		{[]string{"a", "b"}, nil, "../.."},
		{[]string{"a", "b"}, []string{"a", "c"}, "../c"},
		{[]string{"a"}, []string{"a", "b"}, "b"},
	}
	for _, tt := range tests {
		if got := relativePath(tt.from, tt.to); got != tt.want {
			t.Errorf("relativePath(%q, %q) = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}
