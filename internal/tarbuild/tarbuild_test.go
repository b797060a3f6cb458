package tarbuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

var mtime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// readTar returns each entry's header and body.
func readTar(t *testing.T, data []byte) ([]*tar.Header, []string) {
	t.Helper()
	var hdrs []*tar.Header
	var bodies []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return hdrs, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs, bodies = append(hdrs, hdr), append(bodies, string(body))
	}
}

func TestLayer(t *testing.T) {
	in := []Entry{
		{Name: "bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "bin/hello", Body: "evil", Type: tar.TypeReg, Mode: 0o4755},
		{Name: "l", Link: "../../etc", Type: tar.TypeSymlink, Mode: 0o777},
		{Name: "h", Link: "bin/hello", Type: tar.TypeLink, Mode: 0o644},
		{Name: "null", Type: tar.TypeChar, Mode: 0o666, Major: 1, Minor: 3},
	}
	data := Layer(t, mtime, in...)
	if !bytes.Equal(data, Layer(t, mtime, in...)) {
		t.Error("the same entries gave different bytes")
	}
	hdrs, bodies := readTar(t, data)
	if len(hdrs) != len(in) {
		t.Fatalf("%d entries, want %d", len(hdrs), len(in))
	}
	for i, e := range in {
		h := hdrs[i]
		got := Entry{Name: h.Name, Link: h.Linkname, Body: bodies[i], Type: h.Typeflag, Mode: h.Mode, Major: h.Devmajor, Minor: h.Devminor}
		if got != e {
			t.Errorf("entry %d = %+v, want %+v", i, got, e)
		}
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("entry %d: mtime %v owner %d:%d, want %v 0:0", i, h.ModTime, h.Uid, h.Gid, mtime)
		}
	}
}

func TestGzip(t *testing.T) {
	want := []byte(strings.Repeat("layer ", 100))
	for _, corrupt := range []bool{false, true} {
		zr, err := gzip.NewReader(bytes.NewReader(Gzip(t, want, corrupt)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if !bytes.Equal(got, want) {
			t.Errorf("corrupt=%v: content not whole: %q", corrupt, got)
		}
		if corrupt != (err == gzip.ErrChecksum) || (!corrupt && err != nil) {
			t.Errorf("corrupt=%v: read error %v", corrupt, err)
		}
	}
}

func TestDockerSave(t *testing.T) {
	diffTar := Layer(t, mtime, Entry{Name: "a", Body: "x", Type: tar.TypeReg, Mode: 0o644})
	blob := Gzip(t, diffTar, false)
	hdrs, bodies := readTar(t, DockerSave(t, []string{"a:1", "b:2"}, blob, diffTar))
	files := map[string]string{}
	for i, h := range hdrs {
		files[h.Name] = bodies[i]
	}
	if files["layer.tar"] != string(blob) {
		t.Error("layer.tar is not the blob")
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal([]byte(files["manifest.json"]), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || manifest[0].Config != "config.json" || strings.Join(manifest[0].RepoTags, ",") != "a:1,b:2" ||
		strings.Join(manifest[0].Layers, ",") != "layer.tar" {
		t.Errorf("manifest %+v", manifest)
	}
	var config struct {
		OS     string
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		}
	}
	if err := json.Unmarshal([]byte(files["config.json"]), &config); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(diffTar)
	if want := fmt.Sprintf("sha256:%x", sum); config.OS != "linux" || len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != want {
		t.Errorf("config %+v, want os linux and diff_ids [%s]", config, want)
	}
}
