package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// gzipped compresses data; with corrupt, the trailer's CRC is wrong while
// the content stays whole (only a CRC check can notice).
func gzipped(t *testing.T, data []byte, corrupt bool) []byte {
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

// saveArchive is a `docker save` tarball of one image with one layer:
// blob as stored, diffTar the tar the config's diff_id hashes.
func saveArchive(t *testing.T, tag string, blob, diffTar []byte) []byte {
	t.Helper()
	config := fmt.Sprintf(`{"architecture":%q,"os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%x"]}}`,
		runtime.GOARCH, sha256.Sum256(diffTar))
	manifest, err := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{tag}, "Layers": []string{"layer.tar"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"config.json", []byte(config)}, {"layer.tar", blob}, {"manifest.json", manifest}} {
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

func TestUnpackChecksGzipTrailer(t *testing.T) {
	layer := layerTar(t, file("a", "hello"))
	for _, corrupt := range []bool{false, true} {
		rc, err := decompress(bytes.NewReader(gzipped(t, layer, corrupt)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = unpackLayer(rc, t.TempDir())
		if corrupt != (err != nil) || (corrupt && !strings.Contains(err.Error(), "gzip: invalid checksum")) {
			t.Errorf("corrupt=%v: unpack error %v", corrupt, err)
		}
	}
}

// A gzip layer, a gzip archive and a gzip import, each with a bad CRC, are
// refused, and nothing of them stays in the store.
func TestCorruptGzipRefused(t *testing.T) {
	layer := layerTar(t, dir("bin/"), file("bin/hello", "hi"))
	tests := []struct {
		name string
		run  func(s *Store, corrupt bool) error
	}{
		{"load of a gzip layer", func(s *Store, corrupt bool) error {
			_, err := s.Load(context.Background(), bytes.NewReader(saveArchive(t, "gz:1", gzipped(t, layer, corrupt), layer)))
			return err
		}},
		{"load of a gzip archive", func(s *Store, corrupt bool) error {
			_, err := s.Load(context.Background(), bytes.NewReader(gzipped(t, saveArchive(t, "gz:1", layer, layer), corrupt)))
			return err
		}},
		{"import of a gzip tar", func(s *Store, corrupt bool) error {
			_, err := s.Import(context.Background(), bytes.NewReader(gzipped(t, layer, corrupt)), "gz:1", nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			if err := tt.run(s, true); err == nil || !strings.Contains(err.Error(), "gzip: invalid checksum") {
				t.Fatalf("corrupt trailer: got %v, want gzip: invalid checksum", err)
			}
			for _, d := range []string{s.layersDir(), s.blobDir()} {
				if entries, _ := os.ReadDir(d); len(entries) != 0 {
					t.Errorf("%s not empty: %v", d, entries)
				}
			}
			assertTmpEmpty(t, s)
			if len(s.List()) != 0 {
				t.Errorf("images stored: %v", s.List())
			}
			if err := tt.run(s, false); err != nil {
				t.Fatalf("the same, whole: %v", err)
			}
		})
	}
}
