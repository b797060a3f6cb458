package api

import "net/http"

// containerPrune is POST /containers/prune: 200 with
// {"ContainersDeleted":[…],"SpaceReclaimed":N}.
func (s *server) containerPrune(w http.ResponseWriter, r *http.Request, _ string) error {
	filters, err := parseFilters(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	rep, err := s.b.ContainerPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// imagePrune is POST /images/prune: 200 with
// {"ImagesDeleted":[{"Untagged":…},{"Deleted":…}],"SpaceReclaimed":N}.
func (s *server) imagePrune(w http.ResponseWriter, r *http.Request, _ string) error {
	filters, err := parseFilters(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	rep, err := s.b.ImagePrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
