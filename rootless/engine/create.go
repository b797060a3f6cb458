package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"warren/rootless/image"
)

// ContainerCreate creates a container from req, Docker's way. On any error
// nothing is left: no folder, no name.
func (e *Engine) ContainerCreate(ctx context.Context, name string, req *container.CreateRequest) (container.CreateResponse, error) {
	if req == nil || req.Config == nil {
		return container.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("config cannot be empty in order to create a container")
	}
	cfg := *req.Config
	hc := container.HostConfig{}
	if req.HostConfig != nil {
		hc = *req.HostConfig
	}
	if hc.AutoRemove && hc.RestartPolicy.Name != "" && hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		return container.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage("can't create 'AutoRemove' container with restart policy")
	}
	if err := validateRequest(&cfg, &hc); err != nil {
		return container.CreateResponse{}, err
	}
	limitWarnings, err := discardLimits(&hc)
	if err != nil {
		return container.CreateResponse{}, err
	}
	img, err := e.images.Get(cfg.Image)
	if err != nil {
		return container.CreateResponse{}, err
	}
	mergeImageConfig(&cfg, img)
	if err := validateConfig(&cfg); err != nil {
		return container.CreateResponse{}, err
	}
	normalizeHostConfig(&hc)
	if _, err := parseLogConfig(hc.LogConfig); err != nil {
		return container.CreateResponse{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if err := checkSecurity(&hc); err != nil {
		return container.CreateResponse{}, err
	}
	if err := checkNetworkMode(hc.NetworkMode); err != nil {
		return container.CreateResponse{}, err
	}
	if mode := hc.NetworkMode; mode.IsContainer() {
		if _, err := e.lookup(mode.ConnectedContainer()); err != nil {
			return container.CreateResponse{}, err
		}
	}
	for _, x := range hc.ExtraHosts {
		if _, _, err := e.extraHost(x); err != nil {
			return container.CreateResponse{}, err
		}
	}
	warnings, err := checkPublishing(&cfg, &hc)
	if err != nil {
		return container.CreateResponse{}, err
	}
	warnings = append(limitWarnings, warnings...)
	links, err := e.createLinks(&hc)
	if err != nil {
		return container.CreateResponse{}, err
	}

	id := e.newID()
	if cfg.Hostname == "" {
		cfg.Hostname = defaultHostname(id, hc.NetworkMode)
	}
	ctrName, err := e.pickName(name, id)
	if err != nil {
		return container.CreateResponse{}, err
	}
	c, err := e.createFiles(id, ctrName, &cfg, &hc, img, links)
	if err != nil {
		e.releaseName(ctrName)
		return container.CreateResponse{}, err
	}
	e.mu.Lock()
	e.byID[id] = c
	e.mu.Unlock()
	c.event(eventtypes.ActionCreate)
	if warnings == nil {
		warnings = []string{}
	}
	return container.CreateResponse{ID: id, Warnings: warnings}, nil
}

// createFiles makes the container's folder with its record and /etc files,
// removing it again on error.
func (e *Engine) createFiles(id, name string, cfg *container.Config, hc *container.HostConfig, img *image.Image, links []link) (_ *Container, err error) {
	dir := path.Join(e.root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create container folder: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	entrypoint, args := commandOf(cfg)
	rec := record{
		ID: id, Name: name, Created: time.Now().UTC(),
		Path: entrypoint, Args: args,
		ImageID: img.ID, Lowers: reversed(img.Layers),
		Config: cfg, HostConfig: hc,
		State: state{Status: container.StateCreated},
		Links: links,
	}
	c := newContainer(rec, dir)
	c.bus = e.events
	for _, d := range []string{c.upperDir(), c.workDir(), c.rootfsDir()} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("create container folder: %w", err)
		}
	}
	if err := e.writeEtcFiles(c, nil, nil); err != nil {
		return nil, err
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	return c, nil
}

// mergeImageConfig fills the container's config from the image's the way
// Docker's daemon/create.go merge does.
func mergeImageConfig(cfg *container.Config, img *image.Image) {
	ic := img.Config.Config
	if cfg.User == "" {
		cfg.User = ic.User
	}
	if len(cfg.ExposedPorts) == 0 && len(ic.ExposedPorts) > 0 {
		cfg.ExposedPorts = network.PortSet{}
	}
	for p := range ic.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	cfg.Env = mergeEnv(ic.Env, cfg.Env)
	if len(ic.Labels) > 0 {
		labels := maps.Clone(ic.Labels)
		maps.Copy(labels, cfg.Labels)
		cfg.Labels = labels
	}
	// An entrypoint given on the command line (even "") drops the image's
	// Cmd unless a Cmd was given too.
	if len(cfg.Entrypoint) == 0 {
		if len(cfg.Cmd) == 0 {
			cfg.Cmd = ic.Cmd
			cfg.ArgsEscaped = ic.ArgsEscaped
		}
		if cfg.Entrypoint == nil {
			cfg.Entrypoint = ic.Entrypoint
		}
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = ic.WorkingDir
	}
	if len(cfg.Volumes) == 0 && len(ic.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
	}
	for v := range ic.Volumes {
		cfg.Volumes[v] = struct{}{}
	}
	if cfg.StopSignal == "" {
		cfg.StopSignal = ic.StopSignal
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
}

// validateConfig applies Docker's checks on the merged config.
func validateConfig(cfg *container.Config) error {
	if cfg.WorkingDir != "" {
		if !path.IsAbs(cfg.WorkingDir) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
				"the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir))
		}
		cfg.WorkingDir = path.Clean(cfg.WorkingDir)
	}
	if entry, _ := commandOf(cfg); entry == "" {
		return errdefs.ErrInvalidArgument.WithMessage("no command specified")
	}
	if cfg.StopSignal != "" {
		if _, err := parseSignal(cfg.StopSignal); err != nil {
			return err
		}
	}
	return nil
}

// commandOf is Docker's getEntrypointAndArgs: the process path and its
// arguments. An entrypoint of [""] (from --entrypoint "") counts as none.
func commandOf(cfg *container.Config) (string, []string) {
	entry := slices.Clone(cfg.Entrypoint)
	if len(entry) == 1 && entry[0] == "" {
		entry = nil
	}
	argv := append(entry, cfg.Cmd...)
	if len(argv) == 0 {
		return "", []string{}
	}
	return argv[0], append([]string{}, argv[1:]...)
}

// normalizeHostConfig applies the daemon's rewrites of what the CLI sends.
func normalizeHostConfig(hc *container.HostConfig) {
	if hc.NetworkMode == "" || hc.NetworkMode == "default" {
		hc.NetworkMode = "bridge"
	}
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = container.RestartPolicyDisabled
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = driverJSONFile
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.ShmSize == 0 {
		hc.ShmSize = 64 << 20 // Docker's default
	}
}

// defaultHostname is the short ID, or the host's name with --network host.
func defaultHostname(id string, mode container.NetworkMode) string {
	if mode.IsHost() {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return id[:12]
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// checkNetworkMode reports modes warren cannot run.
func checkNetworkMode(mode container.NetworkMode) error {
	switch {
	case mode.IsBridge(), mode.IsNone(), mode.IsHost(), mode.IsContainer():
		return nil
	}
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", mode))
}

var errOwnNetNS = errors.New("cannot join own network namespace")

// splitKV cuts "KEY=value"; a bare "KEY" has ok false.
func splitKV(s string) (key, value string, ok bool) {
	return strings.Cut(s, "=")
}
