package tests

import (
	"archive/tar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tag adds a name; rmi of one of several names only untags, as Docker does.
func TestTagAndRmi(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		repo := "tagged/" + uniqueName(t)
		c.mustRun(t, "tag", "busybox", repo+":v1")
		if out := c.mustRun(t, "images", "--format", "{{.Repository}}:{{.Tag}}", repo); out != repo+":v1\n" {
			t.Errorf("images %s = %q, want %s:v1", repo, out, repo)
		}
		id := strings.TrimSpace(c.mustRun(t, "image", "inspect", "-f", "{{.Id}}", repo+":v1"))
		if want := strings.TrimSpace(c.mustRun(t, "image", "inspect", "-f", "{{.Id}}", "busybox")); id != want {
			t.Errorf("%s:v1 is %s, want busybox's %s", repo, id, want)
		}
		if out := c.mustRun(t, "rmi", repo+":v1"); out != "Untagged: "+repo+":v1\n" {
			t.Errorf("rmi printed %q, want only the untag line", out)
		}
		if _, stderr, code := c.run(t, "image", "inspect", repo+":v1"); code == 0 || !strings.Contains(stderr, "No such image: "+repo+":v1") {
			t.Errorf("inspect after rmi: exit %d, %q", code, stderr)
		}
		c.mustRun(t, "image", "inspect", "busybox") // the image itself stays
		if _, stderr, code := c.run(t, "rmi", "nosuch/image:none"); code != 1 || !strings.Contains(stderr, "No such image: nosuch/image:none") {
			t.Errorf("rmi of a missing image: exit %d, %q", code, stderr)
		}
	})
}

// An image a container uses cannot lose its last name without -f.
func TestRmiInUse(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		repo := "inuse/" + uniqueName(t)
		importImage(t, c, repo+":latest", `CMD ["/bin/busybox","true"]`)
		name := container(t)
		c.mustRun(t, "create", "--name", name, repo)
		_, stderr, code := c.run(t, "rmi", repo)
		if code != 1 || !regexp.MustCompile(`conflict: unable to remove repository reference "`+regexp.QuoteMeta(repo)+`" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}`).MatchString(stderr) {
			t.Errorf("rmi of an image in use: exit %d, %q", code, stderr)
		}
		// With a second name, the first can go: the image stays named.
		c.mustRun(t, "tag", repo, repo+":second")
		if out := c.mustRun(t, "rmi", repo); out != "Untagged: "+repo+":latest\n" {
			t.Errorf("rmi of one of two names of a used image printed %q, want only the untag line", out)
		}
		c.mustRun(t, "rm", name)
		if out := c.mustRun(t, "rmi", repo+":second"); !strings.Contains(out, "Untagged: "+repo+":second") || !strings.Contains(out, "Deleted: sha256:") {
			t.Errorf("rmi once unused printed %q, want Untagged and Deleted lines", out)
		}
	})
}

// save writes a docker-save tarball that load brings back under its name.
func TestSaveAndLoad(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		repo := "saved/" + uniqueName(t)
		c.mustRun(t, "tag", "busybox", repo+":1")
		file := filepath.Join(t.TempDir(), "saved.tar")
		c.mustRun(t, "save", "-o", file, repo+":1")
		if !tarHas(t, file, "manifest.json") {
			t.Fatalf("%s has no manifest.json: not a docker save tarball", file)
		}
		c.mustRun(t, "rmi", repo+":1")
		if out := c.mustRun(t, "load", "-i", file); !containsLine(out, "Loaded image: "+repo+":1") {
			t.Errorf("load printed %q", out)
		}
		if out := c.mustRun(t, "run", "--rm", repo+":1", "echo", "round trip"); out != "round trip\n" {
			t.Errorf("run of the reloaded image printed %q", out)
		}
		c.mustRun(t, "rmi", repo+":1")
	})
}

// import makes a one-layer image from a root filesystem tarball, with
// Dockerfile-style changes.
func TestImport(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		repo := "imported/" + uniqueName(t)
		importImage(t, c, repo+":v1", `CMD ["/bin/busybox","echo","imported"]`)
		if out := c.mustRun(t, "run", "--rm", repo+":v1"); out != "imported\n" {
			t.Errorf("run of the imported image printed %q", out)
		}
		if cmd := c.mustRun(t, "image", "inspect", "-f", "{{json .Config.Cmd}}", repo+":v1"); cmd != `["/bin/busybox","echo","imported"]`+"\n" {
			t.Errorf("imported Config.Cmd = %q", cmd)
		}
		c.mustRun(t, "rmi", repo+":v1")
	})
}

// importImage imports a root holding only a static busybox as ref.
func importImage(t *testing.T, c cli, ref, change string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs.tar")
	writeTar(t, root, map[string]string{"bin/busybox": "/usr/bin/busybox"})
	out := c.mustRun(t, "import", "-c", change, root, ref)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("import printed %q, want the image ID", out)
	}
}

// writeTar writes a tarball of host files (name in the tar → host path).
func writeTar(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for name, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func tarHas(t *testing.T, path, name string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		if h.Name == name {
			return true
		}
	}
}
