package image

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"warren/internal/tarbuild"
)

// saveArchive is a `docker save` tarball of one image with one layer:
// blob as stored, diffTar the tar the config's diff_id hashes.
func saveArchive(t *testing.T, tag string, blob, diffTar []byte) []byte {
	return tarbuild.DockerSave(t, []string{tag}, blob, diffTar)
}

func TestUnpackChecksGzipTrailer(t *testing.T) {
	layer := layerTar(t, file("a", "hello"))
	for _, corrupt := range []bool{false, true} {
		rc, err := decompress(bytes.NewReader(tarbuild.Gzip(t, layer, corrupt)))
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
			_, err := s.Load(context.Background(), bytes.NewReader(saveArchive(t, "gz:1", tarbuild.Gzip(t, layer, corrupt), layer)))
			return err
		}},
		{"load of a gzip archive", func(s *Store, corrupt bool) error {
			_, err := s.Load(context.Background(), bytes.NewReader(tarbuild.Gzip(t, saveArchive(t, "gz:1", layer, layer), corrupt)))
			return err
		}},
		{"import of a gzip tar", func(s *Store, corrupt bool) error {
			_, err := s.Import(context.Background(), bytes.NewReader(tarbuild.Gzip(t, layer, corrupt)), "gz:1", nil)
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
