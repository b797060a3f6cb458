package engine

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"warren/rootless/api"
)

// ContainerList is docker ps: newest first, running only unless All or a
// Limit, filtered.
func (e *Engine) ContainerList(ctx context.Context, opts api.ListOptions) ([]container.Summary, error) {
	filter, err := e.psFilter(opts.Filters)
	if err != nil {
		return nil, err
	}
	var recs []record
	linkNames := map[string][]string{} // source name → "/web/db", for Names
	for _, c := range e.containers() {
		r, ok := c.listed()
		if !ok {
			continue
		}
		recs = append(recs, r)
		for _, l := range r.Links {
			linkNames[l.Source] = append(linkNames[l.Source], l.name(r.Name))
		}
	}
	slices.SortFunc(recs, func(a, b record) int { return b.Created.Compare(a.Created) })
	all := opts.All || opts.Limit > 0 || opts.Latest || filter.All()
	now := time.Now()
	var out []container.Summary
	for _, r := range recs {
		if !all && !r.State.alive() {
			continue
		}
		s := summary(r, now)
		if !filter.Match(psCandidate(r, s)) {
			continue
		}
		s.Names = append(s.Names, linkNames[r.Name]...)
		if opts.Size {
			s.SizeRw = dirSize(filepath.Join(e.root, r.ID, "upper"))
			s.SizeRootFs = s.SizeRw + e.imageSize(r.ImageID)
		}
		out = append(out, s)
		if opts.Latest || (opts.Limit > 0 && len(out) == opts.Limit) {
			break
		}
	}
	if out == nil {
		out = []container.Summary{}
	}
	return out, nil
}

func summary(r record, now time.Time) container.Summary {
	s := container.Summary{
		ID:      r.ID,
		Names:   []string{r.Name},
		Image:   r.Config.Image,
		ImageID: r.ImageID,
		Command: commandText(r.Path, r.Args),
		Created: r.Created.Unix(),
		Ports:   portSummaries(livePorts(r)),
		Labels:  r.Config.Labels,
		State:   r.State.Status,
		Status:  statusText(r.State, now),
		NetworkSettings: &container.NetworkSettingsSummary{
			Networks: networksOf(r),
		},
		Mounts: mountPoints(r.HostConfig),
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.HostConfig.NetworkMode = string(r.HostConfig.NetworkMode)
	return s
}

// commandText is ps's COMMAND: path and args joined by spaces (Docker's
// list does no quoting; the CLI quotes and truncates).
func commandText(path string, args []string) string {
	return strings.Join(append([]string{path}, args...), " ")
}

// statusText is Docker's State.String() as ps shows it.
func statusText(s state, now time.Time) string {
	switch s.Status {
	case container.StateRunning:
		return "Up " + units.HumanDuration(now.Sub(s.StartedAt))
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, units.HumanDuration(now.Sub(s.FinishedAt)))
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	case container.StateCreated:
		return "Created"
	}
	if s.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, units.HumanDuration(now.Sub(s.FinishedAt)))
}

func (e *Engine) imageIDOf(ref string) string {
	img, err := e.images.Get(ref)
	if err != nil {
		return ""
	}
	return img.ID
}

func (e *Engine) imageSize(id string) int64 {
	img, err := e.images.Get(id)
	if err != nil {
		return 0
	}
	return img.Size
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// networksOf is NetworkSettings.Networks: the one network the mode names.
func networksOf(r record) map[string]*network.EndpointSettings {
	mode := r.HostConfig.NetworkMode
	if mode.IsContainer() {
		return map[string]*network.EndpointSettings{}
	}
	ep := &network.EndpointSettings{}
	if r.Endpoint != nil && r.State.running() {
		ep.EndpointID = r.Endpoint.ID
		ep.IPAddress = r.Endpoint.IP
		ep.IPPrefixLen = r.Endpoint.PrefixLen
		ep.Gateway = r.Endpoint.Gateway
		ep.MacAddress = network.HardwareAddr(r.Endpoint.MAC)
	}
	return map[string]*network.EndpointSettings{string(mode): ep}
}

// mountPoints lists the binds as Docker's MountPoint entries.
func mountPoints(hc *container.HostConfig) []container.MountPoint {
	out := []container.MountPoint{}
	mounts, err := userMounts(hc)
	if err != nil {
		return out
	}
	for _, m := range mounts {
		if m.Type == "tmpfs" {
			// Docker lists --mount type=tmpfs but not --tmpfs, which
			// inspect shows in HostConfig.Tmpfs only.
			if !fromTmpfsFlag(hc, m.Destination) {
				out = append(out, container.MountPoint{Type: "tmpfs", Destination: m.Destination, RW: !m.ReadOnly})
			}
			continue
		}
		out = append(out, container.MountPoint{
			Type: "bind", Source: m.Source, Destination: m.Destination,
			Mode: map[bool]string{true: "ro", false: ""}[m.ReadOnly], RW: !m.ReadOnly, Propagation: "rprivate",
		})
	}
	return out
}

func fromTmpfsFlag(hc *container.HostConfig, dst string) bool {
	for d := range hc.Tmpfs {
		if path.Clean(d) == dst {
			return true
		}
	}
	return false
}
