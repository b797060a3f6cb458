// Package engine keeps containers: their state, lifecycle, logs and execs,
// behind the Docker Engine API (rootless/api.Backend). It runs inside the
// user namespace.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/internal/config"
	"warren/rootless/api"
	"warren/rootless/events"
	"warren/rootless/names"
)

// Engine implements api.Backend.
type Engine struct {
	network Network // nil: loopback only
	ports   Ports   // nil: nothing is published
	// hostLoopback: containers reach the host's 127.0.0.1 (the daemon's
	// --host-loopback); reported by Info.
	hostLoopback bool

	dataDir string
	root    string // <data>/containers
	images  ImageStore
	run     runner
	events  *events.Bus

	mu    sync.Mutex // guards the index below; never held during I/O; lock order at Container
	byID  map[string]*Container
	names map[string]string // "/web" → ID
	execs map[string]*execConfig

	wg sync.WaitGroup // container monitors, stream copiers and policy restarts

	// quit is closed when Shutdown begins: nothing restarts after it.
	quit     chan struct{}
	quitOnce sync.Once

	// One prune of each kind at a time, as in Docker.
	containerPruning, imagePruning atomic.Bool
}

var _ api.Backend = (*Engine)(nil)

// New opens the engine's containers under cfg's data folder
// (containers/), with the parts in deps.
func New(cfg config.Config, deps Deps) (*Engine, error) {
	if deps.Images == nil {
		return nil, errors.New("engine: no image store")
	}
	if deps.runner == nil {
		deps.runner = realRunner{}
	}
	if deps.Events == nil {
		deps.Events = events.New()
	}
	e := &Engine{
		network:      deps.Network,
		ports:        deps.Ports,
		hostLoopback: cfg.HostLoopback,
		dataDir:      cfg.DataDir,
		root:         filepath.Join(cfg.DataDir, "containers"),
		images:       deps.Images,
		run:          deps.runner,
		events:       deps.Events,
		byID:         map[string]*Container{},
		names:        map[string]string{},
		execs:        map[string]*execConfig{},
		quit:         make(chan struct{}),
	}
	if err := os.MkdirAll(e.root, 0o700); err != nil {
		return nil, fmt.Errorf("create container store: %w", err)
	}
	if err := e.restore(); err != nil {
		return nil, err
	}
	e.images.SetLayerInUse(e.layerInUse)
	return e, nil
}

// layerInUse tells the image store which layer folders containers' roots
// are made of, so a forced rmi keeps them. Lowers never change after
// create, so no container lock is needed.
func (e *Engine) layerInUse(dir string) bool {
	for _, c := range e.containers() {
		if slices.Contains(c.rec.Lowers, dir) {
			return true
		}
	}
	return false
}

// exitedWithDaemon is the exit code given to containers that were running
// when the previous engine ended: their processes were killed with its
// namespaces, by SIGKILL.
const exitedWithDaemon = 128 + int(syscall.SIGKILL)

// restore loads every saved container. Ones saved as running died with the
// previous engine's namespaces, so they are marked exited now; AutoRemove
// ones are removed, as Docker does on restart. Ones that were waiting to
// restart are exited with their last code. RestartAtStartup then starts
// those whose policy asks for it.
func (e *Engine) restore() error {
	entries, err := os.ReadDir(e.root)
	if err != nil {
		return fmt.Errorf("read container store: %w", err)
	}
	for _, ent := range entries {
		dir := filepath.Join(e.root, ent.Name())
		rec, err := loadRecord(filepath.Join(dir, "config.json"))
		if err != nil {
			// A folder without a record is a create that never finished.
			log.Printf("engine: skipping container folder %s: %v", ent.Name(), err)
			continue
		}
		c := newContainer(rec, dir)
		c.bus = e.events
		if rec.State.running() {
			c.rec.State = state{Status: container.StateExited, ExitCode: exitedWithDaemon,
				StartedAt: rec.State.StartedAt, FinishedAt: time.Now().UTC()}
			c.rec.Endpoint = nil
			if rec.HostConfig.AutoRemove {
				os.RemoveAll(dir)
				continue
			}
			if err := c.save(); err != nil {
				log.Printf("engine: %v", err)
			}
		}
		if rec.State.Status == container.StateRestarting {
			c.rec.State.Status = container.StateExited
			if err := c.save(); err != nil {
				log.Printf("engine: %v", err)
			}
		}
		e.byID[rec.ID] = c
		e.names[rec.Name] = rec.ID
	}
	return nil
}

// quitting tells whether Shutdown has begun.
func (e *Engine) quitting() bool {
	select {
	case <-e.quit:
		return true
	default:
		return false
	}
}

// newID returns 64 random hex digits, avoiding ones whose 12-digit prefix is
// already used so short IDs stay unambiguous.
func (e *Engine) newID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("read random: %v", err)) // crypto/rand never fails on Linux
		}
		id := hex.EncodeToString(b[:])
		if _, err := e.lookupLocked(id[:12]); err != nil {
			return id
		}
	}
}

// lookup resolves a container reference the Docker way: full ID, then name
// (with or without "/"), then unique ID prefix.
func (e *Engine) lookup(ref string) (*Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lookupLocked(ref)
}

func (e *Engine) lookupLocked(ref string) (*Container, error) {
	if ref == "" {
		return nil, errdefs.ErrNotFound.WithMessage("No such container: " + ref)
	}
	if c, ok := e.byID[ref]; ok {
		return c, nil
	}
	if id, ok := e.names["/"+strings.TrimPrefix(ref, "/")]; ok {
		return e.byID[id], nil
	}
	if c := e.linkTargetLocked(ref); c != nil {
		return c, nil
	}
	var found *Container
	for id, c := range e.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage("multiple IDs found with provided prefix: " + ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, errdefs.ErrNotFound.WithMessage("No such container: " + ref)
	}
	return found, nil
}

// linkTargetLocked resolves a link name ("web/db") to the link's source.
// e.mu is held, so no container lock may be taken (see Container).
func (e *Engine) linkTargetLocked(ref string) *Container {
	parent, alias, ok := strings.Cut(strings.TrimPrefix(ref, "/"), "/")
	if !ok {
		return nil
	}
	id, ok := e.names["/"+parent]
	if !ok {
		return nil
	}
	for _, l := range *e.byID[id].links.Load() {
		if l.Alias == alias {
			if id, ok := e.names[l.Source]; ok {
				return e.byID[id]
			}
		}
	}
	return nil
}

// reserveName claims name ("/web") for id, or returns Docker's conflict.
func (e *Engine) reserveName(name, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if owner, ok := e.names[name]; ok {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.",
			name, owner))
	}
	e.names[name] = id
	return nil
}

// pickName reserves the user's name or a generated one.
func (e *Engine) pickName(given, id string) (string, error) {
	if given == "" {
		return names.Generate(id, func(n string) bool { return e.reserveName(n, id) == nil }), nil
	}
	name, err := names.Normalize(given)
	if err != nil {
		return "", err
	}
	return name, e.reserveName(name, id)
}

func (e *Engine) releaseName(name string) {
	e.mu.Lock()
	delete(e.names, name)
	e.mu.Unlock()
}

// containers returns a snapshot of all containers.
func (e *Engine) containers() []*Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	all := make([]*Container, 0, len(e.byID))
	for _, c := range e.byID {
		all = append(all, c)
	}
	return all
}

// Shutdown stops every running container as `docker stop` would (their
// StopSignal, then SIGKILL after their StopTimeout, capped at maxWait) and
// waits for the engine's goroutines.
func (e *Engine) Shutdown(ctx context.Context, maxWait time.Duration) {
	e.quitOnce.Do(func() { close(e.quit) })
	var wg sync.WaitGroup
	for _, c := range e.containers() {
		if !c.isRunning() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			timeout := int(maxWait / time.Second)
			if t := c.rec.Config.StopTimeout; t != nil && *t >= 0 && *t < timeout {
				timeout = *t
			}
			if err := e.stop(ctx, c, "", timeout); err != nil && !errors.Is(err, errdefs.ErrNotModified) {
				log.Printf("engine: stop %s: %v", c.rec.ID[:12], err)
			}
		}()
	}
	wg.Wait()
	e.wg.Wait()
	e.events.Close() // the event streams end with the engine
}
