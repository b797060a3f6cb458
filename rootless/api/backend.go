package api

import (
	"context"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/system"

	"warren/rootless/events"
)

// Backend is what the HTTP layer needs from the engine. Errors carry their
// HTTP status through github.com/containerd/errdefs (ErrNotFound → 404,
// ErrInvalidArgument → 400, ErrConflict → 409, ErrNotModified → 304, anything
// else → 500) and their text is exactly Docker's, e.g.
// errdefs.ErrNotFound.WithMessage("No such container: web").
//
// Container references (name) are resolved the Docker way: full ID, then name
// with or without the leading slash (a link name "web/db" resolves to the
// child), then unique ID prefix.
type Backend interface {
	Version(ctx context.Context) system.VersionResponse
	Info(ctx context.Context) system.Info

	ContainerCreate(ctx context.Context, name string, req *container.CreateRequest) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, name string) error
	// ContainerStop sends signal ("" = the container's StopSignal, else SIGTERM),
	// waits timeout seconds (nil = the container's StopTimeout, else 10; -1 = forever),
	// then SIGKILL. A stopped container gives errdefs.ErrNotModified.
	ContainerStop(ctx context.Context, name, signal string, timeout *int) error
	ContainerRestart(ctx context.Context, name, signal string, timeout *int) error
	// ContainerKill accepts "KILL", "SIGKILL", "9"; "" means SIGKILL.
	ContainerKill(ctx context.Context, name, signal string) error
	// ContainerWait registers the waiter before returning, so a wait issued
	// before start sees the coming exit. The channel yields exactly one value.
	ContainerWait(ctx context.Context, name string, cond container.WaitCondition) (<-chan container.WaitResponse, error)
	// ContainerAttach connects the streams and returns once they are wired;
	// Done is closed when the container's output ends.
	ContainerAttach(ctx context.Context, name string, opts AttachOptions) (*Attachment, error)
	ContainerResize(ctx context.Context, name string, height, width uint) error
	// ContainerLogs writes the log records to the writers (stdout, stderr are
	// nil when not requested) until the end or, with Follow, until the
	// container stops or ctx ends.
	ContainerLogs(ctx context.Context, name string, opts LogsOptions) error
	ContainerInspect(ctx context.Context, name string, size bool) (*container.InspectResponse, error)
	ContainerList(ctx context.Context, opts ListOptions) ([]container.Summary, error)
	ContainerRemove(ctx context.Context, name string, opts RemoveOptions) error
	// ContainerUpdate changes the restart policy (docker update --restart).
	ContainerUpdate(ctx context.Context, name string, req *container.UpdateConfig) (container.UpdateResponse, error)
	// ContainerPrune removes the stopped containers the filters match.
	ContainerPrune(ctx context.Context, filters map[string][]string) (container.PruneReport, error)
	// ContainerIsTTY tells the HTTP layer whether to frame streams.
	ContainerIsTTY(ctx context.Context, name string) (bool, error)

	ExecCreate(ctx context.Context, name string, req *container.ExecCreateRequest) (string, error)
	// ExecStart runs the exec. Detached: returns once started. Attached: the
	// streams are wired before the process starts and it returns when the
	// process's output has ended.
	ExecStart(ctx context.Context, execID string, opts ExecStartOptions) error
	ExecResize(ctx context.Context, execID string, height, width uint) error
	ExecInspect(ctx context.Context, execID string) (*container.ExecInspectResponse, error)

	ImageList(ctx context.Context, opts ImageListOptions) ([]image.Summary, error)
	// ImageLoad reads a `docker save` tarball or an OCI archive and reports
	// each loaded image through progress ("Loaded image: busybox:latest").
	ImageLoad(ctx context.Context, r io.Reader, progress Progress) error
	// ImagePull pulls ref ("127.0.0.1:5000/busybox:latest") and reports
	// Docker's pull messages (per layer "Pulling fs layer", "Downloading",
	// "Pull complete", then "Digest: …", "Status: Downloaded newer image for …").
	ImagePull(ctx context.Context, ref string, progress Progress) error
	ImageImport(ctx context.Context, r io.Reader, ref string, changes []string, progress Progress) (string, error)
	ImageSave(ctx context.Context, refs []string, w io.Writer) error
	ImageInspect(ctx context.Context, name string) (*image.InspectResponse, error)
	ImageTag(ctx context.Context, source, target string) error
	ImageRemove(ctx context.Context, name string, force, noPrune bool) ([]image.DeleteResponse, error)
	// ImagePrune deletes the unused images the filters match (dangling
	// ones only unless dangling=false).
	ImagePrune(ctx context.Context, filters map[string][]string) (image.PruneReport, error)

	// SubscribeEvents checks the events filters and subscribes: the kept
	// events between since and until (zero: unbounded; none kept are given
	// when both are zero) that the filters take, then live ones on the
	// subscription, which the caller closes.
	SubscribeEvents(ctx context.Context, since, until time.Time, filters map[string][]string) ([]events.Message, *events.Subscription, error)
}

// Streams are the client's ends of a process's standard streams; nil means
// not attached. Stdout and Stderr may be the same writer (a tty).
type Streams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// When Stdin ends the process's stdin is closed, so it sees EOF.
}

// ExecStartOptions are the body of POST /exec/{id}/start and the client's
// streams (none when detached).
type ExecStartOptions struct {
	Streams
	Detach bool
	// ConsoleSize is the tty's [height, width]; nil keeps the exec
	// create's, as in Docker.
	ConsoleSize *[2]uint
}

// AttachOptions are the query of POST /containers/{id}/attach.
type AttachOptions struct {
	Streams
	Logs   bool // replay the log first
	Stream bool // then follow live output
	// DetachKeys end the attach when typed on a tty's stdin; the
	// container keeps running.
	DetachKeys []byte
}

// Attachment is a live attach; Done closes when the container's output ends
// (the process exited), the client detached (typed the detach keys) or
// went away.
type Attachment struct {
	Done <-chan struct{}
}

// LogsOptions are the query of GET /containers/{id}/logs.
type LogsOptions struct {
	Stdout, Stderr io.Writer
	Follow         bool
	Timestamps     bool
	Tail           string // "all" or a number
	Since, Until   string // unix seconds, possibly fractional, or RFC3339
	// Ready, when set, is called once the request is accepted and before
	// the first record, so a following response starts then and a
	// refusal still gets its own status.
	Ready func()
}

// ListOptions are the query of GET /containers/json.
type ListOptions struct {
	All     bool
	Limit   int
	Size    bool
	Latest  bool
	Filters map[string][]string // {"name":["web"],"status":["exited"]}
}

// RemoveOptions are the query of DELETE /containers/{name}.
type RemoveOptions struct {
	Force   bool
	Volumes bool
	Link    bool
}

// ImageListOptions are the query of GET /images/json.
type ImageListOptions struct {
	All     bool
	Filters map[string][]string
}

// Progress receives Docker JSON-stream messages; the HTTP layer encodes them
// one object per line (jsonstream.Message).
type Progress interface {
	// Stream sends {"stream": text}.
	Stream(text string)
	// Status sends {"status": status, "id": id, "progressDetail": {current,total}}.
	Status(id, status string, current, total int64)
}
