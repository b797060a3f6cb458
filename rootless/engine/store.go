package engine

import (
	"errors"

	imagetypes "github.com/moby/moby/api/types/image"

	"warren/rootless/image"
)

// storeAdapter gives *image.Store the engine's imageStore shape. The image
// package was gaining its removal API while the engine was written, so the
// removal methods are found at run time; this is the one place to adjust
// when that API settles.
type storeAdapter struct{ *image.Store }

type storeRemover interface {
	Remove(ref string, force, noPrune bool) ([]imagetypes.DeleteResponse, error)
}

var errNoRemoval = errors.New("image removal is not supported by this image store")

func (s storeAdapter) Remove(ref string, force, noPrune bool) ([]imagetypes.DeleteResponse, error) {
	r, ok := any(s.Store).(storeRemover)
	if !ok {
		return nil, errNoRemoval
	}
	resp, err := r.Remove(ref, force, noPrune)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
