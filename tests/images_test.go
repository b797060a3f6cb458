package tests

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestLoadDockerSave(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "load", "-i", filepath.Join(suite.images, "db.tar"))
		if !containsLine(out, "Loaded image: warren/db:latest") {
			t.Errorf("load printed %q, want the line %q", out, "Loaded image: warren/db:latest")
		}
	})
}

func TestLoadOCIArchive(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "load", "-i", filepath.Join(suite.images, "busybox-oci.tar"))
	if !strings.Contains(out, "Loaded image: warren/busybox-oci:latest") {
		t.Fatalf("load printed %q, want %q", out, "Loaded image: warren/busybox-oci:latest")
	}
	if got := mustWarren(t, "run", "--rm", "warren/busybox-oci", "echo", "from oci"); got != "from oci\n" {
		t.Errorf("run from the OCI image printed %q", got)
	}
}

// The image ID is the digest of the image's config, as Docker shows it.
func TestImageID(t *testing.T) {
	t.Parallel()
	img, err := tarball.ImageFromPath(filepath.Join(suite.images, "busybox.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		got := strings.TrimSpace(c.mustRun(t, "image", "inspect", "-f", "{{.Id}}", "busybox"))
		if got != want.String() {
			t.Errorf("busybox ID = %q, want %q", got, want)
		}
		short := strings.TrimPrefix(want.String(), "sha256:")[:12]
		if q := c.mustRun(t, "images", "-q", "busybox"); strings.TrimSpace(q) != short {
			t.Errorf("images -q busybox = %q, want %q", q, short)
		}
	})
}

func TestImages(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "images")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		header := regexp.MustCompile(`^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$`)
		if !header.MatchString(lines[0]) {
			t.Fatalf("images header = %q", lines[0])
		}
		for _, repo := range []string{"busybox", "warren/webapp", "warren/db"} {
			row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(repo) + ` +latest +[0-9a-f]{12} +\S.* ago +\d+(\.\d+)?[kMG]?B$`)
			if !row.MatchString(out) {
				t.Errorf("images lists no row for %s:latest in\n%s", repo, out)
			}
		}
		// Column alignment: IMAGE ID starts at the same offset on every line.
		col := strings.Index(lines[0], "IMAGE ID")
		for _, l := range lines[1:] {
			if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
				t.Errorf("row %q is not aligned with the IMAGE ID column at %d", l, col)
			}
		}
	})
}

func TestPull(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		image := ref("test/pull-" + c.name)
		out := c.mustRun(t, "pull", image)
		if !strings.Contains(out, "Using default tag: latest") {
			t.Errorf("pull output lacks %q:\n%s", "Using default tag: latest", out)
		}
		if !strings.HasSuffix(out, image+":latest\n") {
			t.Errorf("pull output should end with the full reference %s:latest:\n%s", image, out)
		}
		if got := c.mustRun(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !containsLine(got, image+":latest") {
			t.Errorf("images does not list %s:latest:\n%s", image, got)
		}
		if got := c.mustRun(t, "run", "--rm", image, "echo", "pulled"); got != "pulled\n" {
			t.Errorf("run of the pulled image printed %q", got)
		}
	})
}

func TestRunAutoPull(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		image := ref("test/auto-" + c.name)
		stdout, stderr, code := c.run(t, "run", "--rm", image, "echo", "auto")
		if code != 0 {
			t.Fatalf("run exit %d: %s", code, stderr)
		}
		want := "Unable to find image '" + image + ":latest' locally"
		if !strings.HasPrefix(stderr, want) {
			t.Errorf("stderr should start with %q:\n%s", want, stderr)
		}
		if !strings.HasSuffix(stdout, "auto\n") {
			t.Errorf("stdout = %q, want the pull progress then %q", stdout, "auto\n")
		}
	})
}
