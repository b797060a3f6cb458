package api

import (
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// containerUpdate is POST /containers/{id}/update: 200 with
// {"Warnings":null}, as moby answers.
func (s *server) containerUpdate(w http.ResponseWriter, r *http.Request, name string) error {
	var req container.UpdateConfig
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	resp, err := s.b.ContainerUpdate(r.Context(), name, &req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}
