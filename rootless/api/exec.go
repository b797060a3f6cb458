package api

import (
	"net/http"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"
)

func (s *server) execCreate(w http.ResponseWriter, r *http.Request, name string) error {
	var req container.ExecCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	id, err := s.b.ExecCreate(r.Context(), name, &req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, &common.IDResponse{ID: id})
}

// execStart runs an exec. Detached it answers a plain 200 once the process
// started; attached it hijacks the connection like attach and closes it when
// the process's output has ended.
func (s *server) execStart(w http.ResponseWriter, r *http.Request, id string) error {
	var req container.ExecStartRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	if req.Detach {
		if err := s.b.ExecStart(ctx, id, ExecStartOptions{Detach: true}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	// The exec must exist before the connection is taken over.
	if _, err := s.b.ExecInspect(ctx, id); err != nil {
		return err
	}
	// The framing follows the start request's Tty, not the exec's, as
	// Docker's postContainerExecStart decides: a client that starts with
	// Tty reads raw bytes whatever the exec was created with.
	tty := req.Tty
	conn, stdin, err := hijack(w, r, streamContentType(apiVersion(ctx), tty))
	if err != nil {
		return err
	}
	defer conn.Close()

	streams := Streams{Stdin: stdin}
	// With Tty a process without one has its stderr dropped, as in Docker.
	streams.Stdout, streams.Stderr = outputStreams(conn, tty, true, !tty)
	opts := ExecStartOptions{Streams: streams}
	// A console size without a tty, or from a client older than 1.42, is
	// ignored, as by Docker.
	if req.ConsoleSize != nil && tty && !versionLess(apiVersion(ctx), "1.42") {
		opts.ConsoleSize = req.ConsoleSize
	}
	if err := s.b.ExecStart(ctx, id, opts); err != nil {
		// Docker reports a failed attached start on the client's stdout.
		_, _ = streams.Stdout.Write([]byte(err.Error() + "\r\n"))
	}
	return nil
}

func (s *server) execResize(w http.ResponseWriter, r *http.Request, id string) error {
	height, width, err := dimensions(r)
	if err != nil {
		return err
	}
	if err := s.b.ExecResize(r.Context(), id, height, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) execInspect(w http.ResponseWriter, r *http.Request, id string) error {
	resp, err := s.b.ExecInspect(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}
