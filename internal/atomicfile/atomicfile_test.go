package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	for _, tc := range []struct {
		data string
		perm os.FileMode
	}{
		{"first", 0o600},
		{"second, longer than the first", 0o644}, // replaces, perm follows
		{"", 0o600},
	} {
		if err := Write(path, []byte(tc.data), tc.perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tc.data {
			t.Fatalf("content %q, %v; want %q", got, err, tc.data)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != tc.perm {
			t.Fatalf("mode %v, %v; want %v", st.Mode().Perm(), err, tc.perm)
		}
	}
	assertOnly(t, dir, "config.json")
}

// A replaced file is a new inode: a reader holding the old one keeps the
// old content whole.
func TestWriteKeepsOpenReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.json")
	if err := Write(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(old); string(got) != "old" {
		t.Fatalf("the open reader sees %q, want old", got)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A failed write leaves the file as it was and no temporary file behind.
func TestWriteFromFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "image.tar")
	if err := Write(path, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := io.MultiReader(strings.NewReader("partial"), failingReader{})
	if err := WriteFrom(path, r, 0o600); err == nil || err.Error() != "connection reset" {
		t.Fatalf("WriteFrom = %v, want the reader's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "before" {
		t.Fatalf("content %q after a failed write, want before", got)
	}
	assertOnly(t, dir, "image.tar")

	// No folder: nothing to clean up, the error names the path.
	missing := filepath.Join(dir, "nosuch", "f")
	if err := Write(missing, nil, 0o600); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write into a missing folder = %v", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Fatalf("folder holds %q, want %q", got, names)
	}
}
