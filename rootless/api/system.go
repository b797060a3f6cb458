package api

import (
	"io"
	"net/http"
)

// ping answers HEAD and GET /_ping with the headers the docker CLI reads to
// negotiate (Api-Version, Ostype) and to decide on features (the rest).
func (s *server) ping(w http.ResponseWriter, r *http.Request, _ string) error {
	h := w.Header()
	h.Set("Docker-Experimental", "false")
	h.Set("Builder-Version", "")
	h.Set("Swarm", "inactive")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	_, err := io.WriteString(w, "OK")
	return err
}

func (s *server) version(w http.ResponseWriter, r *http.Request, _ string) error {
	v := s.b.Version(r.Context())
	return writeJSON(w, http.StatusOK, &v)
}

func (s *server) info(w http.ResponseWriter, r *http.Request, _ string) error {
	info := s.b.Info(r.Context())
	return writeJSON(w, http.StatusOK, &info)
}
