package image

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Delete untags and deletes an image referenced in two repositories and
// counts only the layer that went: the shared base layer stays.
func TestDeleteReportsFreedLayers(t *testing.T) {
	s := openStore(t)
	base := randomImage(t, 1)
	top, err := mutate.AppendLayers(base, mustLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	load(t, s, dockerSave(t, map[string]v1.Image{"base:1": base, "top:1": top, "other:2": top}))
	img, err := s.Get("top:1")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	cfg := s.configs[img.ID]
	want := s.idx.Layers[cfg.RootFS.DiffIDs[1].String()].Size
	s.mu.Unlock()
	records, freed, err := s.Delete(img.ID)
	if err != nil {
		t.Fatal(err)
	}
	var untagged, deleted int
	for _, r := range records {
		if r.Untagged != "" {
			untagged++
		} else {
			deleted++
		}
	}
	if untagged != 2 || deleted != 2 { // other:2, top:1; the image, its top layer
		t.Errorf("records %v, want 2 untagged and 2 deleted", records)
	}
	if freed != want || want == 0 {
		t.Errorf("freed %d bytes, want the top layer's %d", freed, want)
	}
	if _, err := s.Get("base:1"); err != nil {
		t.Errorf("base image went with it: %v", err)
	}
	if _, _, err := s.Delete(img.ID); err == nil {
		t.Error("deleting a deleted image succeeded")
	}
}
