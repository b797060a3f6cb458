package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errhttp"
	"github.com/moby/moby/api/types/common"
)

// handlerFunc serves one route; name is the object the path names ("" for
// routes without one). A returned error becomes Docker's JSON error body,
// so handlers return errors only before they start writing.
type handlerFunc func(w http.ResponseWriter, r *http.Request, name string) error

// route keys a handler by method and the path's last segment (the action).
type route struct{ method, action string }

type server struct {
	b Backend
	// fixed routes match the whole path (after the version prefix).
	fixed map[route]handlerFunc
	// object routes are /{kind}/{name}/{action}; name may contain "/" and ":".
	objects map[string]map[route]handlerFunc
}

// NewHandler serves the Docker Engine API over b.
func NewHandler(b Backend) http.Handler {
	s := &server{b: b}
	s.fixed = map[route]handlerFunc{
		{http.MethodHead, "/_ping"}:             s.ping,
		{http.MethodGet, "/_ping"}:              s.ping,
		{http.MethodGet, "/version"}:            s.version,
		{http.MethodGet, "/info"}:               s.info,
		{http.MethodPost, "/containers/create"}: s.containerCreate,
		{http.MethodGet, "/containers/json"}:    s.containerList,
		{http.MethodGet, "/images/json"}:        s.imageList,
		{http.MethodPost, "/images/load"}:       s.imageLoad,
		{http.MethodPost, "/images/create"}:     s.imageCreate,
		{http.MethodGet, "/images/get"}:         s.imageSave,
		{http.MethodPost, "/containers/prune"}:  s.containerPrune,
		{http.MethodPost, "/images/prune"}:      s.imagePrune,
		{http.MethodGet, "/events"}:             s.events,
	}
	s.objects = map[string]map[route]handlerFunc{
		"containers": {
			{http.MethodGet, "json"}:     s.containerInspect,
			{http.MethodGet, "logs"}:     s.containerLogs,
			{http.MethodPost, "start"}:   s.containerStart,
			{http.MethodPost, "stop"}:    s.containerStop,
			{http.MethodPost, "restart"}: s.containerRestart,
			{http.MethodPost, "kill"}:    s.containerKill,
			{http.MethodPost, "update"}:  s.containerUpdate,
			{http.MethodPost, "wait"}:    s.containerWait,
			{http.MethodPost, "attach"}:  s.containerAttach,
			{http.MethodPost, "resize"}:  s.containerResize,
			{http.MethodPost, "exec"}:    s.execCreate,
			{http.MethodDelete, ""}:      s.containerRemove,
		},
		"exec": {
			{http.MethodPost, "start"}:  s.execStart,
			{http.MethodPost, "resize"}: s.execResize,
			{http.MethodGet, "json"}:    s.execInspect,
		},
		"images": {
			{http.MethodGet, "json"}: s.imageInspect,
			{http.MethodGet, "get"}:  s.imageSave,
			{http.MethodPost, "tag"}: s.imageTag,
			{http.MethodDelete, ""}:  s.imageRemove,
		},
	}
	fixed, objects := swarmRoutes()
	maps.Copy(s.fixed, fixed)
	maps.Copy(s.objects, objects)
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Docker sends these on every response; the CLI reads Api-Version and
	// Ostype from whichever response it sees first.
	w.Header().Set("Server", "warren")
	w.Header().Set("Api-Version", DefaultVersion)
	w.Header().Set("Ostype", "linux")

	version, path, err := splitVersion(r.URL.Path)
	if err != nil {
		writeError(w, err)
		return
	}
	fn, name := s.route(r.Method, path)
	if fn == nil {
		writeError(w, errPageNotFound)
		return
	}
	// Only the query is a form: Docker's API never sends form bodies, and
	// r.ParseForm would read (up to 10 MB of) a load or import stream whose
	// client sent a form content type.
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, errdefs.ErrInvalidArgument.WithMessage(err.Error()))
		return
	}
	r.Form = form
	r = r.WithContext(context.WithValue(r.Context(), versionKey{}, version))
	if err := fn(w, r, name); err != nil {
		writeError(w, err)
	}
}

// errPageNotFound answers a path or method no route serves, with
// dockerd's 404 body {"message":"page not found"}.
var errPageNotFound = errdefs.ErrNotFound.WithMessage("page not found")

// route finds the handler for a versionless path and the object it names.
func (s *server) route(method, path string) (handlerFunc, string) {
	if fn, ok := s.fixed[route{method, path}]; ok {
		return fn, ""
	}
	kind, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	routes := s.objects[kind]
	if !ok || routes == nil {
		return nil, ""
	}
	name, action := splitAction(rest, func(action string) bool {
		_, ok := routes[route{method, action}]
		return ok
	})
	if name == "" {
		return nil, ""
	}
	return routes[route{method, action}], name
}

// splitAction splits "web/db/json" into the object name and a trailing
// action. Names may contain "/" (link names "web/db") and ":" (image
// references "127.0.0.1:5000/busybox"), so the action is only ever the last
// segment, and only if the method has such an action; otherwise the whole
// rest is the name and the action is "". An unknown action yields "" names.
func splitAction(rest string, known func(action string) bool) (name, action string) {
	if i := strings.LastIndexByte(rest, '/'); i > 0 && known(rest[i+1:]) {
		return rest[:i], rest[i+1:]
	}
	if known("") {
		return rest, ""
	}
	return "", ""
}

// writeError answers with Docker's error body: {"message": "..."} and the
// status errdefs assigns (413 for a body over the limit). 304 carries no
// body.
func writeError(w http.ResponseWriter, err error) {
	status := errhttp.ToHTTP(err)
	if errors.Is(err, errBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, &common.ErrorResponse{Message: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// MaxJSONBody bounds the JSON body of a request (create, exec). Docker has
// none, but a body is decoded whole in memory (the decoder's buffer grows to
// twice the body), so without one a single request grew the engine by its
// size for good. No runnable request comes near it: execve refuses more than
// ARG_MAX (2 MiB under the default stack limit) of arguments and
// environment, and real creates are a few KiB. Streams (load, import) are
// not JSON bodies and are not limited.
const MaxJSONBody = 4 << 20

// errBodyTooLarge answers 413; it is also invalid input to errdefs.
var errBodyTooLarge = errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
	"request body too large: a JSON body may be at most %d MiB", MaxJSONBody>>20))

// decodeJSON reads a request body of at most MaxJSONBody bytes into v, as
// Docker's httputils.ReadJSON: one JSON value and nothing after it. An
// empty body leaves v as is. A body declared larger is refused unread.
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if err := checkJSONType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if r.ContentLength > MaxJSONBody {
		return errBodyTooLarge
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxJSONBody))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return errdefs.ErrInvalidArgument.WithMessage("unexpected content after JSON")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooLarge):
		return errBodyTooLarge
	}
	return errdefs.ErrInvalidArgument.WithMessage("invalid JSON: " + err.Error())
}

// checkJSONType refuses a body declared as something else than JSON, with
// Docker's texts. A missing type is let through (Docker refuses it too, but
// hand-written clients omit it).
func checkJSONType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("malformed Content-Type header (%s): %v", ct, err))
	}
	if mt != "application/json" {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported Content-Type header (%s): must be 'application/json'", ct))
	}
	return nil
}

// boolValue reads a boolean query parameter the way Docker's httputils
// does: absent, "", "0", "no", "false" and "none" are false.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(strings.TrimSpace(r.Form.Get(key))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

// intValue reads an integer query parameter; ok is false when absent.
func intValue(r *http.Request, key string) (n int, ok bool, err error) {
	v := r.Form.Get(key)
	if v == "" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil {
		return 0, false, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return n, true, nil
}

// flush pushes what was written so far to the client; streams rely on it.
func flush(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
}
