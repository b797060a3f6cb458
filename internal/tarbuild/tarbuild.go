// Package tarbuild writes the archives image tests feed to warren: layer
// tars (hostile ones included), gzip streams with a spoiled trailer, and
// `docker save` archives. It is for tests only; every failure fails t.
package tarbuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"runtime"
	"testing"
	"time"
)

// Entry is one entry of a layer tar. Body is the content of a regular
// file; other types take none.
type Entry struct {
	Name, Link, Body string
	Type             byte
	Mode             int64
	Major, Minor     int64
}

// Layer writes entries as a PAX tar, every entry owned by 0:0 and dated
// mtime, so that the same entries give the same bytes.
func Layer(t testing.TB, mtime time.Time, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Linkname: e.Link, Typeflag: e.Type, Mode: e.Mode,
			Size: int64(len(e.Body)), Devmajor: e.Major, Devminor: e.Minor, ModTime: mtime,
			Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Gzip compresses data. With corrupt, the trailer's CRC-32 is wrong while
// the content stays whole, so only a CRC check can notice.
func Gzip(t testing.TB, data []byte, corrupt bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if corrupt {
		out[len(out)-8] ^= 0xff // first byte of the CRC-32
	}
	return out
}

// DockerSave is a `docker save` archive of one image for this machine's
// architecture with one layer, tagged tags: blob is the layer as stored
// (perhaps compressed), diffTar the tar whose digest the config lists.
func DockerSave(t testing.TB, tags []string, blob, diffTar []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(diffTar)
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(sum[:])}},
	})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": tags, "Layers": []string{"layer.tar"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"config.json", config}, {"layer.tar", blob}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
