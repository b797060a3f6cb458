package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"warren/internal/treesnap"
)

// canaryMark in a seed's names and link targets stands for the canary
// folder's absolute path, which only exists at run time.
const canaryMark = "@CANARY@"

// FuzzUnpack unpacks arbitrary tars into a folder beside a canary folder
// and checks that nothing outside the folder changed: no new file, no
// changed mode, owner, size, time or content. A tar that parses is also
// unpacked a second time with canaryMark replaced by the canary's path.
// The seeds (testdata/fuzz/FuzzUnpack) include the escapes of issue 11.
func FuzzUnpack(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		outer := t.TempDir()
		canary := filepath.Join(outer, "canary")
		writeCanary(t, canary)
		targets := []string{filepath.Join(outer, "a", "b", "raw"), filepath.Join(outer, "a", "b", "marked")}
		for _, p := range targets {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, p := range targets {
				removeAll(p)
			}
		}()
		before := treesnap.Take(outer, targets...)
		_, rawErr := unpackLayer(bytes.NewReader(data), targets[0])
		if marked, ok := replaceMark(data, canary); ok {
			_, _ = unpackLayer(bytes.NewReader(marked), targets[1])
		}
		after := treesnap.Take(outer, targets...)
		if diff := treesnap.Diff(before, after); diff != "" {
			t.Fatalf("unpack (error %v) changed files outside the layer:\n%s", rawErr, diff)
		}
	})
}

// writeCanary makes a folder with a file, a sub-folder and a file in it,
// all 0700 with an old time.
func writeCanary(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, p := range []string{"file", "sub/file"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("canary"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"sub/file", "file", "sub", ""} {
		if err := os.Chtimes(filepath.Join(dir, p), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// replaceMark rewrites a tar that parses whole, putting the canary's path
// where its names and link targets say canaryMark.
func replaceMark(data []byte, canary string) ([]byte, bool) {
	if !bytes.Contains(data, []byte(canaryMark)) {
		return nil, false
	}
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		hdr.Name = strings.ReplaceAll(hdr.Name, canaryMark, canary)
		hdr.Linkname = strings.ReplaceAll(hdr.Linkname, canaryMark, canary)
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, false
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, false
		}
	}
	if err := tw.Close(); err != nil {
		return nil, false
	}
	return out.Bytes(), true
}
