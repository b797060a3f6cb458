package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/term"
)

func (s *server) containerCreate(w http.ResponseWriter, r *http.Request, _ string) error {
	var req container.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Config == nil {
		return errdefs.ErrInvalidArgument.WithMessage("config cannot be empty in order to create a container")
	}
	normalizeCreate(&req, apiVersion(r.Context()))
	if err := s.checkPlatform(r.Context(), req.Image, r.Form.Get("platform")); err != nil {
		return err
	}
	resp, err := s.b.ContainerCreate(r.Context(), r.Form.Get("name"), &req)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{} // Docker sends [], never null
	}
	return writeJSON(w, http.StatusCreated, &resp)
}

// normalizeCreate applies the daemon's request rewrites before the engine
// sees a create: "default" (or no) network mode means the bridge, and the
// endpoint settings the CLI files under "default" move to "bridge".
func normalizeCreate(req *container.CreateRequest, version string) {
	if req.HostConfig == nil {
		req.HostConfig = &container.HostConfig{}
	}
	if req.NetworkingConfig == nil {
		req.NetworkingConfig = &network.NetworkingConfig{}
	}
	if req.NetworkingConfig.EndpointsConfig == nil {
		req.NetworkingConfig.EndpointsConfig = map[string]*network.EndpointSettings{}
	}
	// Before 1.25 the client, not the daemon, removed --rm containers.
	if versionLess(version, "1.25") {
		req.HostConfig.AutoRemove = false
	}
	hc, eps := req.HostConfig, req.NetworkingConfig.EndpointsConfig
	if hc.NetworkMode == "" || hc.NetworkMode.IsDefault() {
		hc.NetworkMode = network.NetworkBridge
		if ep, ok := eps[network.NetworkDefault]; ok {
			eps[network.NetworkBridge] = ep
			delete(eps, network.NetworkDefault)
		}
	}
}

func (s *server) containerList(w http.ResponseWriter, r *http.Request, _ string) error {
	limit, _, err := intValue(r, "limit")
	if err != nil {
		return err
	}
	filters, err := parseFilters(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	list, err := s.b.ContainerList(r.Context(), ListOptions{
		All:     boolValue(r, "all"),
		Limit:   limit,
		Size:    boolValue(r, "size"),
		Filters: filters,
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []container.Summary{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// parseFilters decodes the filters query: {"name":{"web":true}} as the
// CLI sends it, or the legacy {"name":["web"]}. Values mapped to false are
// dropped, as in Docker's filters package.
func parseFilters(raw string) (map[string][]string, error) {
	if raw == "" {
		return nil, nil
	}
	var byKey map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &byKey); err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter: " + err.Error())
	}
	out := make(map[string][]string, len(byKey))
	for key, val := range byKey {
		var set map[string]bool
		if err := json.Unmarshal(val, &set); err == nil {
			for v, on := range set {
				if on {
					out[key] = append(out[key], v)
				}
			}
			continue
		}
		var list []string
		if err := json.Unmarshal(val, &list); err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: %q: %v", key, err))
		}
		out[key] = append(out[key], list...)
	}
	return out, nil
}

func (s *server) containerInspect(w http.ResponseWriter, r *http.Request, name string) error {
	resp, err := s.b.ContainerInspect(r.Context(), name, boolValue(r, "size"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, shapeInspect(resp, apiVersion(r.Context())))
}

func (s *server) containerStart(w http.ResponseWriter, r *http.Request, name string) error {
	if err := s.b.ContainerStart(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// stopTimeout reads ?t=: nil when absent, so the engine uses the
// container's own StopTimeout.
func stopTimeout(r *http.Request) (*int, error) {
	t, ok, err := intValue(r, "t")
	if err != nil || !ok {
		return nil, err
	}
	return &t, nil
}

func (s *server) containerStop(w http.ResponseWriter, r *http.Request, name string) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	if err := s.b.ContainerStop(r.Context(), name, r.Form.Get("signal"), timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) containerRestart(w http.ResponseWriter, r *http.Request, name string) error {
	timeout, err := stopTimeout(r)
	if err != nil {
		return err
	}
	if err := s.b.ContainerRestart(r.Context(), name, r.Form.Get("signal"), timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) containerKill(w http.ResponseWriter, r *http.Request, name string) error {
	if err := s.b.ContainerKill(r.Context(), name, r.Form.Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// waitCondition validates ?condition= as Docker does; absent means
// not-running.
func waitCondition(v string) (container.WaitCondition, error) {
	switch c := container.WaitCondition(v); c {
	case "":
		return container.WaitConditionNotRunning, nil
	case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
		return c, nil
	}
	return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid condition: %q", v))
}

// waitBody is container.WaitResponse as Docker 28 encodes it: Error is
// always present, null when the wait succeeded.
type waitBody struct {
	Error      *container.WaitExitError `json:"Error"`
	StatusCode int64                    `json:"StatusCode"`
}

// containerWait registers the waiter, then answers 200 at once (the CLI
// issues the wait before start and must know it is registered) and sends
// the result when it comes. A client that hangs up cancels the wait.
func (s *server) containerWait(w http.ResponseWriter, r *http.Request, name string) error {
	cond, err := waitCondition(r.Form.Get("condition"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	ch, err := s.b.ContainerWait(ctx, name, cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	select {
	case res := <-ch:
		return json.NewEncoder(w).Encode(&waitBody{Error: res.Error, StatusCode: res.StatusCode})
	case <-ctx.Done():
		return nil
	}
}

func (s *server) containerAttach(w http.ResponseWriter, r *http.Request, name string) error {
	ctx := r.Context()
	tty, err := s.b.ContainerIsTTY(ctx, name)
	if err != nil {
		return err
	}
	conn, stdin, err := hijackQuiet(w)
	if err != nil {
		return err
	}
	defer conn.Close()

	// The client starts the container as soon as it reads our answer, so
	// the streams are wired first and output waits behind the head. A log
	// replay is written while the backend wires the attach, so then the
	// head goes first (the container's existence is known already).
	out := newGatedWriter(conn)
	opts := AttachOptions{Logs: boolValue(r, "logs"), Stream: boolValue(r, "stream")}
	opts.Stdout, opts.Stderr = outputStreams(out, tty, boolValue(r, "stdout"), boolValue(r, "stderr"))
	if boolValue(r, "stdin") {
		opts.Stdin = stdin
	}
	if opts.DetachKeys, err = detachKeys(r.Form.Get("detachKeys")); err != nil {
		writeRawError(conn, err)
		return nil
	}
	head := streamHead(r, streamContentType(apiVersion(ctx), tty))
	if opts.Logs {
		if err := out.open(head); err != nil {
			return nil
		}
	}
	att, err := s.b.ContainerAttach(ctx, name, opts)
	if err != nil {
		if opts.Logs {
			streamWriteError(conn, tty, err.Error())
		} else {
			writeRawError(conn, err)
		}
		return nil
	}
	if !opts.Logs {
		if err := out.open(head); err != nil {
			return nil // the client is gone; Done follows from the failed writes
		}
	}
	// Output flows until the container's output ends, even after the
	// client half-closed its side (stdin EOF), or until it detaches.
	<-att.Done
	return nil
}

// defaultDetachKeys is Docker's escape sequence, ctrl-p ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// detachKeys parses a detachKeys value ("ctrl-p,ctrl-q") as Docker does;
// "" is Docker's default.
func detachKeys(v string) ([]byte, error) {
	if v == "" {
		return defaultDetachKeys, nil
	}
	keys, err := term.ToBytes(v)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid detach keys (%s) provided", v))
	}
	return keys, nil
}

// dimensions reads ?h=&w= of a resize.
func dimensions(r *http.Request) (height, width uint, err error) {
	h, err := strconv.ParseUint(r.Form.Get("h"), 10, 0)
	if err != nil {
		return 0, 0, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	wd, err := strconv.ParseUint(r.Form.Get("w"), 10, 0)
	if err != nil {
		return 0, 0, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return uint(h), uint(wd), nil
}

func (s *server) containerResize(w http.ResponseWriter, r *http.Request, name string) error {
	height, width, err := dimensions(r)
	if err != nil {
		return err
	}
	if err := s.b.ContainerResize(r.Context(), name, height, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerLogs streams the log, framed unless the container has a tty.
// The response head waits for the first record (or goes out at once when
// following), so a bad request is still answered with a status.
func (s *server) containerLogs(w http.ResponseWriter, r *http.Request, name string) error {
	stdout, stderr := boolValue(r, "stdout"), boolValue(r, "stderr")
	if !stdout && !stderr {
		return errdefs.ErrInvalidArgument.WithMessage("Bad parameters: you must choose at least one stream")
	}
	ctx := r.Context()
	tty, err := s.b.ContainerIsTTY(ctx, name)
	if err != nil {
		return err
	}
	out := newLazyResponse(w, streamContentType(apiVersion(ctx), tty))
	opts := LogsOptions{
		Follow:     boolValue(r, "follow"),
		Timestamps: boolValue(r, "timestamps"),
		Tail:       r.Form.Get("tail"),
		Since:      r.Form.Get("since"),
		Until:      r.Form.Get("until"),
	}
	opts.Stdout, opts.Stderr = outputStreams(out, tty, stdout, stderr)
	if opts.Follow {
		opts.Ready = out.start
	}
	err = s.b.ContainerLogs(ctx, name, opts)
	switch {
	case err == nil:
		out.start() // an empty log is still a 200
		return nil
	case !out.Started():
		return err
	case ctx.Err() == nil:
		streamWriteError(out, tty, "Error grabbing logs: "+err.Error())
	}
	return nil
}

func (s *server) containerRemove(w http.ResponseWriter, r *http.Request, name string) error {
	err := s.b.ContainerRemove(r.Context(), name, RemoveOptions{
		Force:   boolValue(r, "force"),
		Volumes: boolValue(r, "v"),
		Link:    boolValue(r, "link"),
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
