package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/storage"
)

// ContainerInspect is GET /containers/{id}/json.
func (e *Engine) ContainerInspect(ctx context.Context, name string, size bool) (*container.InspectResponse, error) {
	c, err := e.lookup(name)
	if err != nil {
		return nil, err
	}
	r, execIDs := c.inspected()
	resp := &container.InspectResponse{
		ID:      r.ID,
		Created: r.Created.Format(time.RFC3339Nano),
		Path:    r.Path,
		Args:    r.Args,
		State: &container.State{
			Status:     r.State.Status,
			Running:    r.State.alive(),
			Restarting: r.State.Status == container.StateRestarting,
			Pid:        r.State.Pid,
			ExitCode:   r.State.ExitCode,
			Error:      r.State.Error,
			StartedAt:  r.State.StartedAt.Format(time.RFC3339Nano),
			FinishedAt: r.State.FinishedAt.Format(time.RFC3339Nano),
		},
		Image:          r.ImageID,
		ResolvConfPath: c.resolvConfPath(),
		HostnamePath:   c.hostnamePath(),
		HostsPath:      c.hostsPath(),
		LogPath:        c.inspectLogPath(),
		Name:           r.Name,
		RestartCount:   r.RestartCount,
		Driver:         "overlay2",
		Platform:       "linux",
		HostConfig:     withLinks(r),
		GraphDriver: &storage.DriverData{Name: "overlay2", Data: map[string]string{
			"LowerDir":  joinColon(r.Lowers),
			"UpperDir":  c.upperDir(),
			"WorkDir":   c.workDir(),
			"MergedDir": c.rootfsDir(),
		}},
		Mounts: mountPoints(r.HostConfig),
		Config: r.Config,
		NetworkSettings: &container.NetworkSettings{
			SandboxKey: sandboxKey(r),
			Ports:      livePorts(r),
			Networks:   networksOf(r),
		},
	}
	if len(execIDs) > 0 {
		resp.ExecIDs = execIDs
	}
	if size {
		rw := dirSize(c.upperDir())
		rootfs := rw + e.imageSize(r.ImageID)
		resp.SizeRw, resp.SizeRootFs = &rw, &rootfs
	}
	return resp, nil
}

// livePorts is .NetworkSettings.Ports: the bindings while running, {}
// otherwise (Docker 28 always sends a map).
func livePorts(r record) network.PortMap {
	if !r.State.running() || r.Ports == nil {
		return network.PortMap{}
	}
	return r.Ports
}

// withLinks is the HostConfig inspect shows: Links rebuilt from the
// container's links, as Docker does.
func withLinks(r record) *container.HostConfig {
	hc := *r.HostConfig
	hc.Links = inspectLinks(r)
	return &hc
}

func sandboxKey(r record) string {
	if !r.State.running() || r.State.Pid == 0 {
		return ""
	}
	return fmt.Sprintf("/proc/%d/ns/net", r.State.Pid)
}

func joinColon(s []string) string {
	out := ""
	for i, p := range s {
		if i > 0 {
			out += ":"
		}
		out += p
	}
	return out
}

// ContainerIsTTY tells the HTTP layer whether to frame the streams.
func (e *Engine) ContainerIsTTY(ctx context.Context, name string) (bool, error) {
	c, err := e.lookup(name)
	if err != nil {
		return false, err
	}
	return c.rec.Config.Tty, nil
}
