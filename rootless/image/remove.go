package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	imagetypes "github.com/moby/moby/api/types/image"
)

// Remove is `docker rmi` without the container checks (the engine makes
// them first): a name untags, and deletes the image only when that was its
// last reference; an ID deletes the image, untagging it first if all its
// references are in one repository, else only with force. The records are
// Docker's: "Untagged: busybox:latest", "Deleted: sha256:…" (the image,
// then each layer no longer used, top first, by chain ID).
func (s *Store) Remove(ref string, force bool) ([]imagetypes.DeleteResponse, error) {
	used := s.layersInUse()
	s.mu.Lock()
	records, trash, err := s.remove(ref, force, func(dir string) bool { return used[dir] })
	s.mu.Unlock()
	for _, p := range trash {
		removeAll(p)
	}
	return records, err
}

// layersInUse asks the engine's hook about every layer folder before
// Remove takes the lock: the hook takes the engine's locks, and the engine
// may call the store while holding them.
func (s *Store) layersInUse() map[string]bool {
	s.mu.Lock()
	f := s.layerInUse
	dirs := make([]string, 0, len(s.idx.Layers))
	for d := range s.idx.Layers {
		dirs = append(dirs, s.layerDir(d))
	}
	s.mu.Unlock()
	used := map[string]bool{}
	if f == nil {
		return used
	}
	for _, dir := range dirs {
		if f(dir) {
			used[dir] = true
		}
	}
	return used
}

// remove plans and applies an rmi; s.mu must be held. It returns the
// paths to delete once the lock is released.
func (s *Store) remove(ref string, force bool, inUse func(string) bool) ([]imagetypes.DeleteResponse, []string, error) {
	id, key, err := s.resolve(ref)
	if err != nil {
		return nil, nil, err
	}
	snapshot := cloneRefs(s.idx.Refs)
	var records []imagetypes.DeleteResponse
	untag := func(k string) {
		delete(s.idx.Refs, k)
		records = append(records, imagetypes.DeleteResponse{Untagged: familiarString(k)})
	}

	if key != "" && !isIDPrefix(id, ref) {
		untag(key)
		refs := s.refsOf(id)
		if !strings.Contains(key, "@") {
			refs = s.dropOrphanDigests(key, refs, untag)
		}
		if len(refs) > 0 {
			return records, nil, s.commitRemove(snapshot)
		}
	} else if refs := s.refsOf(id); isSingleRepository(refs) {
		for _, k := range refs {
			untag(k)
		}
	}

	if refs := s.refsOf(id); len(refs) > 0 {
		if !force {
			s.idx.Refs = snapshot
			return nil, nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(id)))
		}
		for _, k := range refs {
			untag(k)
		}
	}
	deleted, trash := s.deleteImage(id, inUse)
	records = append(records, deleted...)
	if err := s.commitRemove(snapshot); err != nil {
		return nil, nil, err
	}
	return records, trash, nil
}

// dropOrphanDigests: when a tag goes and no other tag of its repository
// remains, Docker also removes that repository's digest references.
func (s *Store) dropOrphanDigests(key string, refs []string, untag func(string)) []string {
	repo := repoOf(key)
	for _, k := range refs {
		if !strings.Contains(k, "@") && repoOf(k) == repo {
			return refs
		}
	}
	var remaining []string
	for _, k := range refs {
		if strings.Contains(k, "@") && repoOf(k) == repo {
			untag(k)
		} else {
			remaining = append(remaining, k)
		}
	}
	return remaining
}

// commitRemove persists the index; on failure it restores the references.
// Deleted images stay forgotten only if persisting worked.
func (s *Store) commitRemove(snapshot map[string]string) error {
	if err := s.persist(); err != nil {
		s.idx.Refs = snapshot
		return fmt.Errorf("remove image: %w", err)
	}
	return nil
}

// deleteImage forgets image id and the layers nothing else uses; s.mu must
// be held. Folders and blobs are moved aside for deletion after unlock.
func (s *Store) deleteImage(id string, inUse func(string) bool) ([]imagetypes.DeleteResponse, []string) {
	cfg := s.configs[id]
	rec := s.idx.Images[id]
	delete(s.idx.Images, id)
	delete(s.configs, id)
	records := []imagetypes.DeleteResponse{{Deleted: id}}
	trash := []string{}
	for _, blob := range []string{rec.Manifest, id} {
		if blob != "" {
			trash = append(trash, s.blobPath(blob))
		}
	}
	chain := chainIDs(cfg.RootFS.DiffIDs)
	for i := len(cfg.RootFS.DiffIDs) - 1; i >= 0; i-- {
		d := cfg.RootFS.DiffIDs[i].String()
		if _, ok := s.idx.Layers[d]; !ok || s.busy[d] > 0 || s.layerReferenced(d) || inUse(s.layerDir(d)) {
			continue
		}
		trash = append(trash, s.unlinkLayer(d)...)
		records = append(records, imagetypes.DeleteResponse{Deleted: chain[i]})
	}
	return records, trash
}

// chainIDs are the layer store's IDs for a stack of layers (image-spec
// config.md): the first is its diffID, then sha256(parent + " " + diffID).
func chainIDs[H fmt.Stringer](diffIDs []H) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d.String()
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d.String()))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// isSingleRepository is Docker's isSingleReference: deleting by ID untags
// first when there is at most one tag and every reference is in one
// repository.
func isSingleRepository(refs []string) bool {
	if len(refs) <= 1 {
		return len(refs) == 1
	}
	tag := ""
	digestRepos := map[string]bool{}
	for _, k := range refs {
		switch {
		case strings.Contains(k, "@"):
			digestRepos[repoOf(k)] = true
		case tag == "":
			tag = k
		default:
			return false
		}
	}
	if tag == "" {
		tag = refs[0]
	}
	return len(digestRepos) == 1 && digestRepos[repoOf(tag)]
}

// isIDPrefix reports whether ref names id by (a prefix of) its ID.
func isIDPrefix(id, ref string) bool {
	return strings.HasPrefix(id, ref) || strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), ref)
}

// repoOf is the repository of a full reference key.
func repoOf(key string) string {
	if i := strings.Index(key, "@"); i >= 0 {
		return key[:i]
	}
	if i := strings.LastIndex(key, ":"); i > strings.LastIndex(key, "/") {
		return key[:i]
	}
	return key
}

// shortID is Docker's TruncateID: 12 hex, no algorithm.
func shortID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

func cloneRefs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// deleteResponse is the API's rmi record.
type deleteResponse = imagetypes.DeleteResponse
