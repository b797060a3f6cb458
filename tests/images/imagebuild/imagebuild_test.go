package imagebuild

import (
	"archive/tar"
	"io"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestApplets(t *testing.T) {
	tests := []struct {
		name, list string
		want       []string
	}{
		{"sorted", "sh\nls\ncat\n", []string{"cat", "ls", "sh"}},
		{"busybox itself has no link", "busybox\nsh\n", []string{"sh"}},
		{"paths are not applets", "/bin/sh\nusr/bin/env\nls\n", []string{"ls"}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		if got := applets(tc.list); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: applets(%q) = %q, want %q", tc.name, tc.list, got, tc.want)
		}
	}
}

// The layer holds the entries in order, each stamped with Epoch.
func TestLayerKeepsOrderAndTime(t *testing.T) {
	entries := []Entry{Dir("etc", 0o755), Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), File("bin/x", 0o755, []byte{1, 2})}
	layer, err := Layer(entries, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var got []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s: mtime %v, want %v", hdr.Name, hdr.ModTime, Epoch)
		}
		got = append(got, hdr.Name)
	}
	if want := []string{"etc/", "etc/passwd", "bin/x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("layer entries = %q, want %q", got, want)
	}
}

// Building the same image twice gives the same ID: tests compare them.
func TestImageIsReproducible(t *testing.T) {
	build := func() v1.Hash {
		layer, err := Layer([]Entry{Text("hello", "hi\n")}, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Image(empty.Image, layer, v1.Config{Cmd: []string{"sh"}})
		if err != nil {
			t.Fatal(err)
		}
		id, err := img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if a, b := build(), build(); a != b {
		t.Errorf("two builds gave image IDs %s and %s", a, b)
	}
}
