package image

import (
	imagetypes "github.com/moby/moby/api/types/image"
)

// Delete removes image id with every reference to it, as image prune does
// (a forced rmi by ID; the engine has checked no container uses it), and
// reports the unpacked bytes of the layers that went with it.
func (s *Store) Delete(id string) ([]imagetypes.DeleteResponse, int64, error) {
	s.mu.Lock()
	sizes := map[string]int64{} // chain ID → unpacked size
	if cfg := s.configs[id]; cfg != nil {
		chain := chainIDs(cfg.RootFS.DiffIDs)
		for i, d := range cfg.RootFS.DiffIDs {
			if l := s.idx.Layers[d.String()]; l != nil {
				sizes[chain[i]] = l.Size
			}
		}
	}
	s.mu.Unlock()
	records, err := s.Remove(id, true)
	if err != nil {
		return nil, 0, err
	}
	var freed int64
	for _, r := range records {
		freed += sizes[r.Deleted]
	}
	return records, freed, nil
}
