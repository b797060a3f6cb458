package tests

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"warren/internal/tarbuild"
	"warren/internal/treesnap"
)

// hostileEntry is one entry of a hand-made layer.
type hostileEntry = tarbuild.Entry

func hFile(name string, mode int64) hostileEntry {
	return hostileEntry{Name: name, Body: "evil", Type: tar.TypeReg, Mode: mode}
}
func hDir(name string, mode int64) hostileEntry {
	return hostileEntry{Name: name, Type: tar.TypeDir, Mode: mode}
}
func hSymlink(name, to string) hostileEntry {
	return hostileEntry{Name: name, Link: to, Type: tar.TypeSymlink, Mode: 0o777}
}
func hLink(name, to string) hostileEntry {
	return hostileEntry{Name: name, Link: to, Type: tar.TypeLink, Mode: 0o644}
}

// hostileLayer is a layer tar aimed at a canary folder outside the data
// folder, with what warren must do with it: want "" is accepted (the
// entries stay inside the layer), else the error text the CLI prints.
type hostileLayer struct {
	name    string
	entries func(canary string) []hostileEntry
	want    string
}

// deep climbs out of any layer folder: far more ".." than it is deep.
var deep = strings.Repeat("../", 40)

var hostileLayers = []hostileLayer{
	// The issue: a folder's deferred chmod followed the symlink that
	// replaced it, making a user's file world-writable or setuid.
	{"dir 0666 then symlink to the canary folder", func(c string) []hostileEntry {
		return []hostileEntry{hDir("d", 0o666), hSymlink("d", c)}
	}, ""},
	{"dir 04777 then symlink to the canary folder", func(c string) []hostileEntry {
		return []hostileEntry{hDir("d", 0o4777), hSymlink("d", c)}
	}, ""},
	{"dir 04777 then symlink to the canary file", func(c string) []hostileEntry {
		return []hostileEntry{hDir("d", 0o4777), hSymlink("d", c+"/file")}
	}, ""},
	{"dir 0666 then relative symlink out", func(c string) []hostileEntry {
		return []hostileEntry{hDir("d", 0o666), hSymlink("d", deep+c)}
	}, ""},
	{"nested dir 0666, its parent replaced by a symlink", func(c string) []hostileEntry {
		return []hostileEntry{hDir("a/", 0o755), hDir("a/sub", 0o666), hSymlink("a", c)}
	}, ""},
	{"root entry 04777 after a symlinked child", func(c string) []hostileEntry {
		return []hostileEntry{hDir("./", 0o4777), hDir("d", 0o777), hSymlink("d", c)}
	}, ""},
	{"file 04777 replacing a symlink to the canary file", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("f", c+"/file"), hFile("f", 0o4777)}
	}, ""},
	{"file through an absolute symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hFile("s/new", 0o644), hFile("s/file", 0o666)}
	}, ""},
	{"folder through a relative symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", deep+c), hDir("s/sub", 0o777), hFile("s/sub/new", 0o644)}
	}, ""},
	{"chained symlinks to the canary", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("a", "b"), hSymlink("b", c), hDir("a/sub", 0o4777), hFile("a/x", 0o644)}
	}, ""},
	{"symlink in the middle of a path", func(c string) []hostileEntry {
		return []hostileEntry{hDir("p/", 0o755), hSymlink("p/mid", c), hFile("p/mid/sub/new", 0o600)}
	}, ""},
	{"folder replacing a symlink to the canary", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hDir("s", 0o777), hFile("s/new", 0o644)}
	}, ""},
	{"file replacing a symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("p", c), hFile("p", 0o666)}
	}, ""},
	{"whiteout through a symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hFile("s/.wh.file", 0o644), hFile("s/.wh.sub", 0o644)}
	}, ""},
	{"opaque whiteout through a symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hFile("s/.wh..wh..opq", 0o644)}
	}, ""},
	{"whiteout of a symlink to the canary", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hFile(".wh.s", 0o644)}
	}, ""},
	{"hardlink of a symlink to the canary, then written", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c+"/file"), hLink("h", "s"), hFile("h", 0o4777)}
	}, ""},
	{"device nodes", func(c string) []hostileEntry {
		return []hostileEntry{
			{Name: "null", Type: tar.TypeChar, Mode: 0o666, Major: 1, Minor: 3},
			{Name: "sda", Type: tar.TypeBlock, Mode: 0o666, Major: 8, Minor: 0},
			{Name: "fifo", Type: tar.TypeFifo, Mode: 0o666},
		}
	}, ""},
	{"device node through a symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), {Name: "s/fifo", Type: tar.TypeFifo, Mode: 0o666}}
	}, ""},
	{"hardlink through a symlinked parent", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("s", c), hLink("h", "s/file")}
	}, "no such file or directory"},
	{"hardlink to an absolute path", func(c string) []hostileEntry {
		return []hostileEntry{hLink("h", c+"/file")}
	}, `refusing layer entry "h": hardlink target`},
	{"hardlink up with ..", func(c string) []hostileEntry {
		return []hostileEntry{hLink("h", deep+c+"/file")}
	}, `refusing layer entry "h": hardlink target`},
	{"name climbing with ..", func(c string) []hostileEntry {
		return []hostileEntry{hFile(deep+c+"/new", 0o644)}
	}, "path escapes the layer"},
	{"name climbing inside a folder", func(c string) []hostileEntry {
		return []hostileEntry{hDir("a/", 0o755), hFile("a/../../new", 0o644)}
	}, "path escapes the layer"},
	{"absolute name", func(c string) []hostileEntry {
		return []hostileEntry{hFile(c+"/new", 0o644)}
	}, "path escapes the layer"},
	{"whiteout of ..", func(c string) []hostileEntry {
		return []hostileEntry{hDir("a/", 0o755), hFile("a/.wh...", 0o644)}
	}, "path escapes the layer"},
	{"symlink loop", func(c string) []hostileEntry {
		return []hostileEntry{hSymlink("a", "b"), hSymlink("b", "a"), hFile("a/x", 0o644)}
	}, "too many levels of symbolic links"},
}

// Hostile layers, through import and load with both CLIs, never touch a
// canary folder outside the data folder, whether they are refused or not;
// a refused one leaves no layer, image or temporary folder behind.
func TestUnpackHostileLayers(t *testing.T) {
	if len(hostileLayers) < 20 {
		t.Fatalf("only %d hostile layers", len(hostileLayers))
	}
	d := startOwnDaemon(t)
	dataDir := envValue(d.env, "WARREN_DATA_DIR")
	clients := []cli{d.cli()}
	if suite.docker != "" {
		clients = append(clients, cli{"docker", func(t testing.TB, args ...string) (string, string, int) {
			t.Helper()
			r := runCmd(suite.docker, d.env, nil, args...)
			t.Logf("$ docker %s → %d (own daemon)", strings.Join(args, " "), r.code)
			return r.stdout, r.stderr, r.code
		}})
	}
	work := t.TempDir()
	canary := filepath.Join(work, "canary")
	makeCanary(t, canary)
	t.Cleanup(func() { unlockTree(canary) })
	before := treesnap.Take(work)
	layersBefore := dirNames(t, filepath.Join(dataDir, "images", "layers"))

	for i, h := range hostileLayers {
		layer := hostileTar(t, h.entries(canary))
		for _, c := range clients {
			for _, how := range []string{"import", "load"} {
				ref := fmt.Sprintf("evil-%s-%s-%d:latest", how, c.name, i)
				archive := filepath.Join(t.TempDir(), "x.tar")
				var args []string
				if how == "import" {
					writeBytes(t, archive, layer)
					args = []string{"import", archive, ref}
				} else {
					writeBytes(t, archive, dockerSave(t, ref, layer))
					args = []string{"load", "-i", archive}
				}
				_, stderr, code := c.run(t, args...)
				what := fmt.Sprintf("%s %s of %q", c.name, how, h.name)
				if diff := treesnap.Diff(before, treesnap.Take(work)); diff != "" {
					t.Errorf("%s changed files outside the data folder (exit %d, %q):\n%s", what, code, stderr, diff)
					resetCanary(t, canary)
					before = treesnap.Take(work)
				}
				_, _, inspected := c.run(t, "image", "inspect", ref)
				switch {
				case h.want == "" && code != 0:
					t.Errorf("%s: exit %d, %q; want it accepted", what, code, stderr)
				case h.want == "":
					c.mustRun(t, "rmi", ref)
				case code == 0:
					t.Errorf("%s was accepted; want %q", what, h.want)
				case !strings.Contains(stderr, h.want):
					t.Errorf("%s: stderr %q, want %q", what, stderr, h.want)
				case strings.Count(strings.TrimSpace(stderr), "\n") != 0:
					t.Errorf("%s: error is not one line: %q", what, stderr)
				case inspected == 0:
					t.Errorf("%s: refused, yet the image %s exists", what, ref)
				}
				if left := dirNames(t, filepath.Join(dataDir, "images", "tmp")); len(left) != 0 {
					t.Errorf("%s left %v in the store's tmp folder", what, left)
				}
			}
		}
	}
	if after := dirNames(t, filepath.Join(dataDir, "images", "layers")); len(after) != len(layersBefore) {
		t.Errorf("layers before %v, after removing every image %v", layersBefore, after)
	}
}

// makeCanary writes a folder with a file and a sub-folder, modes and
// times set apart from anything a layer asks for.
func makeCanary(t *testing.T, dir string) {
	t.Helper()
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, p := range []string{dir, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeBytes(t, filepath.Join(dir, "file"), []byte("canary"))
	writeBytes(t, filepath.Join(dir, "sub", "file"), []byte("canary"))
	for _, p := range []string{filepath.Join(dir, "sub", "file"), filepath.Join(dir, "file"), filepath.Join(dir, "sub"), dir} {
		if err := os.Chmod(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// resetCanary puts back a canary a layer changed.
func resetCanary(t *testing.T, dir string) {
	t.Helper()
	unlockTree(dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	makeCanary(t, dir)
}

// unlockTree makes every folder under dir traversable and writable again
// (a layer may have made it 0666), so that it can be removed.
func unlockTree(dir string) {
	_ = os.Chmod(dir, 0o700)
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func writeBytes(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// hostileTar writes entries as a tar, with a fixed time.
func hostileTar(t *testing.T, entries []hostileEntry) []byte {
	return tarbuild.Layer(t, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), entries...)
}

// dockerSave wraps one layer in a `docker save` archive tagged ref.
func dockerSave(t *testing.T, ref string, layer []byte) []byte {
	return tarbuild.DockerSave(t, []string{ref}, layer, layer)
}

// A gzip layer or a gzip archive whose trailer CRC is wrong (the content
// whole) is refused by load, and no image is left.
func TestLoadCorruptGzip(t *testing.T) {
	t.Parallel()
	layer := hostileTar(t, []hostileEntry{hDir("bin/", 0o755), hFile("bin/hello", 0o755)})
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, whole := range []string{"layer", "archive"} {
			ref := "corrupt-" + whole + "/" + uniqueName(t) + ":1"
			var data []byte
			if whole == "layer" {
				data = tarbuild.DockerSave(t, []string{ref}, tarbuild.Gzip(t, layer, true), layer)
			} else {
				data = tarbuild.Gzip(t, dockerSave(t, ref, layer), true)
			}
			archive := filepath.Join(t.TempDir(), "x.tar")
			writeBytes(t, archive, data)
			_, stderr, code := c.run(t, "load", "-i", archive)
			if code == 0 || !strings.Contains(stderr, "gzip: invalid checksum") {
				t.Errorf("load of a gzip %s with a bad CRC: exit %d, %q; want gzip: invalid checksum", whole, code, stderr)
			}
			if _, _, code := c.run(t, "image", "inspect", ref); code == 0 {
				t.Errorf("%s exists after a refused load", ref)
			}
		}
	})
}
