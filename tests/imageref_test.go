package tests

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"warren/internal/tarbuild"
)

// A RepoTag outside Docker's grammar in a loaded manifest.json refuses the
// archive with Docker's text, and stores nothing of it.
func TestLoadInvalidRepoTag(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		layer := hostileTar(t, []hostileEntry{hFile(uniqueName(t), 0o644)})
		archive := filepath.Join(t.TempDir(), "x.tar")
		data := tarbuild.DockerSave(t, []string{"../../x:latest"}, layer, layer)
		writeBytes(t, archive, data)
		_, stderr, code := c.run(t, "load", "-i", archive)
		if code == 0 || !strings.Contains(stderr, "invalid reference format") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("load of a RepoTag ../../x:latest: exit %d, %q; want one line with invalid reference format", code, stderr)
		}
		// The image's ID is its config's digest: it must not exist.
		if _, _, code := c.run(t, "image", "inspect", configID(t, data)); code == 0 {
			t.Error("the refused archive's image was stored")
		}
	})
}

// configID is the ID of the one image of a tarbuild.DockerSave archive.
func configID(t *testing.T, archive []byte) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no config.json: %v", err)
		}
		if hdr.Name == "config.json" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		}
	}
}

// Both CLIs refuse an invalid tag target themselves; the daemon refuses
// it too, with Docker's 400 texts, and stores nothing.
func TestTagInvalidReference(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		_, stderr, code := c.run(t, "tag", "busybox", "../../zz")
		if code == 0 || !strings.Contains(stderr, "invalid reference format") {
			t.Errorf("tag busybox ../../zz: exit %d, %q", code, stderr)
		}
	})
	client := unixClient(suite.socket, cmdTimeout)
	defer client.CloseIdleConnections()
	for _, tt := range []struct{ query, want string }{
		{"repo=../../zz", "invalid reference format"},
		{"repo=../../zz&tag=latest", "invalid reference format"},
		{"repo=ok-repo&tag=..bad", "invalid tag format"},
		{"repo=a//b", "invalid reference format"},
	} {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Post("http://warren/images/busybox/tag?"+q.Encode(), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var msg struct{ Message string }
		_ = json.Unmarshal(body, &msg)
		if resp.StatusCode != http.StatusBadRequest || msg.Message != tt.want {
			t.Errorf("POST /images/busybox/tag?%s: %d %s, want 400 %q", tt.query, resp.StatusCode, body, tt.want)
		}
	}
	for _, line := range strings.Split(mustWarren(t, "images", "--format", "{{.Repository}}:{{.Tag}}"), "\n") {
		if strings.Contains(line, "zz") || strings.Contains(line, "..") || strings.Contains(line, "ok-repo") {
			t.Errorf("images lists %q after refused tags", line)
		}
	}
}
