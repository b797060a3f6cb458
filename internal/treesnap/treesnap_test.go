package treesnap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name          string
		before, after map[string]string
		want          []string // substrings of the diff; none means ""
	}{
		{"same", map[string]string{"/a": "x"}, map[string]string{"/a": "x"}, nil},
		{"removed", map[string]string{"/a": "x"}, map[string]string{}, []string{"removed /a (x)"}},
		{"changed", map[string]string{"/a": "x"}, map[string]string{"/a": "y"}, []string{"changed /a: x → y"}},
		{"new", map[string]string{}, map[string]string{"/b": "y"}, []string{"new /b (y)"}},
		{"all three", map[string]string{"/a": "x", "/c": "1"}, map[string]string{"/b": "y", "/c": "2"},
			[]string{"removed /a (x)", "new /b (y)", "changed /c: 1 → 2"}},
	}
	for _, tt := range tests {
		got := Diff(tt.before, tt.after)
		if len(tt.want) == 0 && got != "" {
			t.Errorf("%s: Diff = %q, want none", tt.name, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: Diff = %q, want it to say %q", tt.name, got, w)
			}
		}
		if n := strings.Count(got, "\n"); n != len(tt.want) {
			t.Errorf("%s: Diff has %d lines, want %d: %q", tt.name, n, len(tt.want), got)
		}
	}
}

// Each kind of change to a tree shows in the diff of two snapshots; a
// change under a skipped folder does not.
func TestTakeSeesChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(root string) error
		want   string // the start of a diff line, root-relative; "" for no difference
	}{
		{"nothing", func(string) error { return nil }, ""},
		{"content", func(r string) error { return os.WriteFile(filepath.Join(r, "f"), []byte("other"), 0o644) }, "changed f:"},
		{"mode", func(r string) error { return os.Chmod(filepath.Join(r, "f"), 0o600) }, "changed f:"},
		{"mtime", func(r string) error {
			return os.Chtimes(filepath.Join(r, "f"), time.Unix(1, 0), time.Unix(1, 0))
		}, "changed f:"},
		{"removed", func(r string) error { return os.Remove(filepath.Join(r, "d", "g")) }, "removed d/g "},
		{"new", func(r string) error { return os.WriteFile(filepath.Join(r, "d", "h"), nil, 0o644) }, "new d/h "},
		{"symlink retargeted", func(r string) error {
			l := filepath.Join(r, "l")
			if err := os.Remove(l); err != nil {
				return err
			}
			return os.Symlink("elsewhere-longer", l)
		}, "changed l:"},
		{"under the skipped folder", func(r string) error {
			return os.WriteFile(filepath.Join(r, "skip", "x"), []byte("x"), 0o644)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"d", "skip"} {
				if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"f", "d/g"} {
				if err := os.WriteFile(filepath.Join(root, f), []byte("hello"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("f", filepath.Join(root, "l")); err != nil {
				t.Fatal(err)
			}
			skip := filepath.Join(root, "skip")
			before := Take(root, skip)
			if before[skip] != "(layer)" {
				t.Errorf("skipped folder recorded as %q", before[skip])
			}
			if err := tt.change(root); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(Diff(before, Take(root, skip)), root+"/", "")
			if tt.want == "" {
				if got != "" {
					t.Errorf("diff %q, want none", got)
				}
				return
			}
			found := false
			for _, line := range strings.Split(got, "\n") {
				found = found || strings.HasPrefix(line, tt.want)
			}
			if !found {
				t.Errorf("diff %q, want a line starting %q", got, tt.want)
			}
		})
	}
}
