package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"warren/internal/atomicfile"
	"warren/portfwd"
	"warren/rootless/events"
)

// record is what is persisted of a container, in <data>/containers/<id>/config.json.
type record struct {
	ID         string
	Name       string // "/web"
	Created    time.Time
	Path       string
	Args       []string
	ImageID    string   // "sha256:…"
	Lowers     []string // the image's layer folders, top-most first
	Config     *container.Config
	HostConfig *container.HostConfig
	State      state
	// Endpoint is the bridge address while running (nil otherwise).
	Endpoint *Endpoint `json:",omitempty"`
	// Links are its --link values (source by name, alias).
	Links []link `json:",omitempty"`
	// Ports are the live bindings while running, as inspect shows them.
	Ports        network.PortMap `json:",omitempty"`
	RestartCount int
	// ManuallyStopped is moby's HasBeenManuallyStopped: the user stopped
	// or killed it, so unless-stopped does not bring it back.
	ManuallyStopped bool `json:",omitempty"`
}

// state is Docker's container state, minus what warren does not have
// (pause, health). A restarting container is waiting out its back-off:
// no process, but Docker counts it as running.
type state struct {
	Status     container.ContainerState
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

func (s state) running() bool { return s.Status == container.StateRunning }

// alive is Docker's State.Running: running, or restarting.
func (s state) alive() bool { return s.running() || s.Status == container.StateRestarting }

// Container is one container: its persisted record and, while it runs, its
// process and streams. mu guards everything but the fields marked
// otherwise; the record's ID, Name, Created, Path, Args, ImageID, Lowers,
// Config and HostConfig never change after create and are read without it
// (update changes the restart policy in policy, under mu).
// The state changes only through the methods in state.go.
//
// Lock order, for the whole engine:
//   - At most one container's mu is held at a time. A start reads the
//     containers it depends on (--network container:X, link sources)
//     before it locks its own, and a source that moved updates its
//     recipients one at a time after it is unlocked.
//   - Engine.mu (the index of containers, names and execs) may be taken
//     while a container's mu is held (run1 makes an endpoint ID), never the
//     other way round: under Engine.mu nothing else is locked, so lookups
//     never wait for a start.
//   - An exec's mu, the stream locks (fanout, logFile, stdinMux) and the
//     event bus's are leaves: taken alone or under a container's mu, with
//     nothing under them.
//   - The image store never calls the engine's layer-in-use hook (which
//     takes Engine.mu) while holding its own lock.
//   - The Network and the port Publisher are called with a container's mu
//     held and do not call back into the engine.
type Container struct {
	mu  sync.Mutex
	rec record
	dir string      // immutable
	bus *events.Bus // immutable: where its events go

	proc     process
	pub      *portfwd.Published // the run's host ports
	exited   chan struct{}      // closed when the current run's exit is recorded
	removing bool
	removed  bool
	waiters  []*waiter
	execs    map[string]struct{}

	// The restart policy in effect (HostConfig's until an update), the
	// last back-off, the channel that cancels a waiting restart, and
	// whether a stop or kill ended the run so it is not restarted.
	policy   container.RestartPolicy
	backoff  time.Duration
	pending  chan struct{}
	stopping bool

	// links is rec.Links for lookups of link names ("web/db"), which run
	// under Engine.mu and so cannot take mu; written with rec.Links.
	links atomic.Pointer[[]link]

	// These have their own locks.
	out   *fanout   // output to attached clients
	log   *logFile  // output to the json-file log
	stdin *stdinMux // the container's stdin across attaches (OpenStdin only)
}

func newContainer(rec record, dir string) *Container {
	c := &Container{rec: rec, dir: dir, execs: map[string]struct{}{}, out: newFanout(), policy: rec.HostConfig.RestartPolicy}
	lc, err := parseLogConfig(rec.HostConfig.LogConfig)
	if err != nil {
		// Checked at create; a record edited since keeps an unbounded log.
		lc = logConfig{driver: driverJSONFile, maxSize: -1, maxFiles: 1}
	}
	c.log = newLogFile(logFilePath(dir, rec.ID, lc.driver), lc)
	if rec.Config.OpenStdin {
		c.stdin = newStdinMux()
	}
	c.links.Store(&c.rec.Links)
	return c
}

// The container's files, all in its own folder so removal is one RemoveAll.
func (c *Container) configPath() string     { return filepath.Join(c.dir, "config.json") }
func (c *Container) hostnamePath() string   { return filepath.Join(c.dir, "hostname") }
func (c *Container) hostsPath() string      { return filepath.Join(c.dir, "hosts") }
func (c *Container) resolvConfPath() string { return filepath.Join(c.dir, "resolv.conf") }

// inspectLogPath is LogPath as Docker shows it: json-file's file only, as
// the other drivers' files are no stable interface.
func (c *Container) inspectLogPath() string {
	if c.log.cfg.driver != driverJSONFile {
		return ""
	}
	return c.log.path
}
func (c *Container) upperDir() string  { return filepath.Join(c.dir, "upper") }
func (c *Container) workDir() string   { return filepath.Join(c.dir, "work") }
func (c *Container) rootfsDir() string { return filepath.Join(c.dir, "rootfs") }

// save persists the record; callers hold c.mu. It writes a temporary file
// and renames it so a crash never leaves half a record.
func (c *Container) save() error {
	rec := c.recordLocked()
	data, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("encode container %s: %w", c.rec.ID, err)
	}
	if err := atomicfile.Write(c.configPath(), data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", c.configPath(), err)
	}
	return nil
}

func loadRecord(path string) (record, error) {
	var rec record
	data, err := os.ReadFile(path)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("decode %s: %w", path, err)
	}
	if rec.Config == nil {
		rec.Config = &container.Config{}
	}
	if rec.HostConfig == nil {
		rec.HostConfig = &container.HostConfig{}
	}
	return rec, nil
}

// shortName is the name without its slash, as Docker quotes it in errors.
func (c *Container) shortName() string { return c.rec.Name[1:] }
