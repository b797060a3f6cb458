package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"warren/internal/tarbuild"
	"warren/internal/testenv"
)

// entry is a tar entry for layerTar.
type entry = tarbuild.Entry

func file(name, body string) entry {
	return entry{Name: name, Body: body, Type: tar.TypeReg, Mode: 0o644}
}
func dir(name string) entry { return entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }
func symlink(name, to string) entry {
	return entry{Name: name, Link: to, Type: tar.TypeSymlink, Mode: 0o777}
}
func hardlink(name, to string) entry {
	return entry{Name: name, Link: to, Type: tar.TypeLink, Mode: 0o644}
}

var testTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

func layerTar(t *testing.T, entries ...entry) []byte {
	return tarbuild.Layer(t, testTime, entries...)
}

func TestClassifyWhiteout(t *testing.T) {
	tests := []struct {
		base   string
		kind   whiteout
		hidden string
	}{
		{"file", notWhiteout, ""},
		{".wh.file", whiteoutFile, "file"},
		{".wh..wh..opq", whiteoutDir, ""},
		{".wh.", notWhiteout, ""},
		{".whfile", notWhiteout, ""},
		{".wh..hidden", whiteoutFile, ".hidden"},
	}
	for _, tt := range tests {
		kind, hidden := classifyWhiteout(tt.base)
		if kind != tt.kind || hidden != tt.hidden {
			t.Errorf("classifyWhiteout(%q) = %v %q, want %v %q", tt.base, kind, hidden, tt.kind, tt.hidden)
		}
	}
}

func TestEntryPath(t *testing.T) {
	tests := []struct {
		in, want string
		escapes  bool
	}{
		{"etc/passwd", "etc/passwd", false},
		{"./etc/", "etc", false},
		{"./", ".", false},
		{"a/../b", "b", false},
		{"../x", "", true},
		{"a/../../x", "", true},
		{"..", "", true},
		{"/etc/passwd", "", true},
	}
	for _, tt := range tests {
		got, err := entryPath(tt.in)
		if tt.escapes {
			want := `refusing layer entry "` + tt.in + `": path escapes the layer`
			if err == nil || err.Error() != want {
				t.Errorf("entryPath(%q) error = %v, want %q", tt.in, err, want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("entryPath(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestUnpackLayer(t *testing.T) {
	root := t.TempDir()
	data := layerTar(t,
		dir("./"),
		dir("bin/"),
		file("bin/busybox", "BB"),
		hardlink("bin/sh", "bin/busybox"),
		symlink("bin/ls", "/bin/busybox"),
		entry{Name: "bin/tool", Body: "x", Type: tar.TypeReg, Mode: 0o4755},
		file("etc/implied/parent", "p"),
		entry{Name: "ro/", Type: tar.TypeDir, Mode: 0o555},
		file("ro/f", "in a read-only folder"),
	)
	size, err := unpackLayer(bytes.NewReader(data), root)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len("BB") + 1 + 1 + len("in a read-only folder")); size != want {
		t.Errorf("size %d, want %d", size, want)
	}
	assertFile(t, filepath.Join(root, "bin/sh"), "BB")
	assertFile(t, filepath.Join(root, "etc/implied/parent"), "p")
	a, _ := os.Stat(filepath.Join(root, "bin/busybox"))
	b, _ := os.Stat(filepath.Join(root, "bin/sh"))
	if !os.SameFile(a, b) {
		t.Error("bin/sh is not a hard link of bin/busybox")
	}
	if l, _ := os.Readlink(filepath.Join(root, "bin/ls")); l != "/bin/busybox" {
		t.Errorf("bin/ls -> %q", l)
	}
	if fi, _ := os.Stat(filepath.Join(root, "bin/tool")); fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("bin/tool mode %v lost setuid", fi.Mode())
	}
	fi, _ := os.Stat(filepath.Join(root, "ro"))
	if fi.Mode().Perm() != 0o555 || !fi.ModTime().Equal(testTime) {
		t.Errorf("ro: mode %v mtime %v, want 0555 %v", fi.Mode().Perm(), fi.ModTime(), testTime)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "ro"), 0o755) })
}

func TestUnpackRefusesEscapes(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"dotdot", []entry{file("../x", "x")}, `refusing layer entry "../x": path escapes the layer`},
		{"nested dotdot", []entry{file("a/../../x", "x")}, `refusing layer entry "a/../../x": path escapes the layer`},
		{"absolute", []entry{file("/etc/passwd", "x")}, `refusing layer entry "/etc/passwd": path escapes the layer`},
		{"hardlink out", []entry{hardlink("x", "../../etc/passwd")},
			`refusing layer entry "x": hardlink target "../../etc/passwd" escapes the layer`},
		{"hardlink absolute", []entry{hardlink("x", "/etc/passwd")},
			`refusing layer entry "x": hardlink target "/etc/passwd" escapes the layer`},
		{"whiteout dotdot", []entry{file("a/.wh...", "")}, `refusing layer entry "a/.wh...": path escapes the layer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer := t.TempDir()
			root := filepath.Join(outer, "layer", "root")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := unpackLayer(bytes.NewReader(layerTar(t, tt.entries...)), root)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			assertNothingOutside(t, outer, root)
		})
	}
}

// Symlinks resolve as if the layer were "/": writing through them lands
// inside the layer, never outside.
func TestUnpackSymlinksStayInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		inside  string // where the file must land
	}{
		{"absolute link", []entry{symlink("a", "/etc"), file("a/passwd", "x")}, "etc/passwd"},
		{"relative link up", []entry{symlink("a", "../../../../etc"), file("a/passwd", "x")}, "etc/passwd"},
		{"chained links", []entry{symlink("a", "b"), symlink("b", "/../c"), file("a/f", "x")}, "c/f"},
		{"hardlink through link", []entry{symlink("a", "/"), file("real", "x"), hardlink("h", "a/real")}, "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outer := t.TempDir()
			root := filepath.Join(outer, "x", "y", "root")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := unpackLayer(bytes.NewReader(layerTar(t, tt.entries...)), root); err != nil {
				t.Fatal(err)
			}
			assertFile(t, filepath.Join(root, tt.inside), "x")
			assertNothingOutside(t, outer, root)
		})
	}
}

func TestUnpackSymlinkLoop(t *testing.T) {
	root := t.TempDir()
	_, err := unpackLayer(bytes.NewReader(layerTar(t, symlink("a", "b"), symlink("b", "a"), file("a/f", "x"))), root)
	if err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Fatalf("got %v, want a symlink loop error", err)
	}
}

// Whiteouts need mknod of 0/0 (root, or uid 0 of a user namespace) and
// user xattrs on the test's filesystem.
func TestUnpackWhiteouts(t *testing.T) {
	root := t.TempDir()
	probe := filepath.Join(root, "probe")
	err := unix.Mknod(probe, unix.S_IFCHR, 0)
	testenv.Requiref(t, err == nil, "mknod of a whiteout needs privileges: %v", err)
	err = unix.Lsetxattr(root, "user.probe", []byte("y"), 0)
	testenv.Requiref(t, err == nil, "user xattrs unsupported here: %v", err)
	os.Remove(probe)
	data := layerTar(t, dir("d/"), file("d/.wh..wh..opq", ""), file(".wh.gone", ""), file("d/.wh.old", ""))
	if _, err := unpackLayer(bytes.NewReader(data), root); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"gone", "d/old"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %d, want a 0/0 char device", p, st.Mode, st.Rdev)
		}
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(root, "d"), opaqueXattr, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("d: %s = %q, %v; want y", opaqueXattr, buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(root, "d/.wh..wh..opq")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the opaque marker itself was written: %v", err)
	}
}

func assertFile(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil || string(got) != want {
		t.Errorf("%s = %q, %v; want %q", p, got, err, want)
	}
}

// assertNothingOutside checks that outer holds only the path down to root.
func assertNothingOutside(t *testing.T, outer, root string) {
	t.Helper()
	filepath.Walk(outer, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == root || strings.HasPrefix(p, root+"/") || strings.HasPrefix(root, p+"/") || p == outer {
			return nil
		}
		t.Errorf("written outside the layer: %s", p)
		return nil
	})
}

// BenchmarkUnpackLayer unpacks 5000 small files four folders deep.
func BenchmarkUnpackLayer(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := range 5000 {
		d := fmt.Sprintf("usr/lib/pkg%d/sub%d/", i/100, i/10)
		if i%10 == 0 {
			tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: testTime})
		}
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sf%d", d, i), Typeflag: tar.TypeReg, Mode: 0o644, Size: 100, ModTime: testTime})
		tw.Write(make([]byte, 100))
	}
	tw.Close()
	b.ResetTimer()
	for range b.N {
		root := b.TempDir()
		if _, err := unpackLayer(bytes.NewReader(buf.Bytes()), root); err != nil {
			b.Fatal(err)
		}
	}
}

// A folder listed twice takes its last entry's mode and time, as Docker,
// which applies each entry as it comes.
func TestUnpackRepeatedFolder(t *testing.T) {
	root := t.TempDir()
	later := testTime.Add(time.Hour)
	data := layerTar(t, entry{Name: "d/", Type: tar.TypeDir, Mode: 0o700}, file("d/f", "x"))
	var buf bytes.Buffer
	buf.Write(data[:len(data)-1024]) // drop the end blocks, append one more entry
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: later})
	tw.Close()
	if _, err := unpackLayer(&buf, root); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "d"))
	if err != nil || fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(later) {
		t.Errorf("d: %v %v, %v; want 0750 %v", fi.Mode().Perm(), fi.ModTime(), err, later)
	}
}
