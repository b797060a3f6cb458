package engine

import (
	"fmt"
	"log"
	"net/netip"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/linker"
	"warren/netstack"
)

// link is one --link of a recipient. The source is kept by name, so a
// source removed and created again under the same name is followed (Docker
// leaves such a link dangling, moby#15811).
type link struct {
	Source string // "/db"
	Alias  string // "db"
}

// name is Docker's link name, "/web/db".
func (l link) name(recipient string) string { return recipient + "/" + l.Alias }

// parseLink reads a --link value Docker's way: "name:alias", "name", or the
// stored "/name:/recipient/alias".
func parseLink(v string) (link, error) {
	if v == "" {
		return link{}, errdefs.ErrInvalidArgument.WithMessage("empty string specified for links")
	}
	parts := strings.Split(v, ":")
	if len(parts) > 2 {
		return link{}, errdefs.ErrInvalidArgument.WithMessage("bad format for links: " + v)
	}
	source := strings.TrimPrefix(parts[0], "/")
	alias := source
	if len(parts) == 2 {
		_, alias = path.Split(parts[1])
	}
	if source == "" || alias == "" {
		return link{}, errdefs.ErrInvalidArgument.WithMessage("bad format for links: " + v)
	}
	return link{Source: "/" + source, Alias: alias}, nil
}

// createLinks checks a new container's --link values against the existing
// containers and returns them. A second link with an alias already used is
// ignored, as Docker does.
func (e *Engine) createLinks(hc *container.HostConfig) ([]link, error) {
	if len(hc.Links) == 0 {
		return nil, nil
	}
	switch {
	case hc.NetworkMode.IsHost():
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
	case hc.NetworkMode.IsContainer():
		return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: container type network can't be used with links. This would result in undefined behavior")
	}
	var links []link
	seen := map[string]bool{}
	for _, v := range hc.Links {
		l, err := parseLink(v)
		if err != nil {
			return nil, err
		}
		src, err := e.lookup(strings.TrimPrefix(l.Source, "/"))
		if err != nil {
			// 400, not 404: the CLI would otherwise try to pull an image.
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("could not get container for %s: %s", strings.TrimPrefix(l.Source, "/"), err))
		}
		src = e.followNetwork(src)
		if src.rec.HostConfig.NetworkMode.IsHost() {
			return nil, errdefs.ErrInvalidArgument.WithMessage("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
		}
		l.Source = src.rec.Name
		if seen[l.Alias] {
			log.Printf("engine: ignoring link %s: alias %s is taken", v, l.Alias)
			continue
		}
		seen[l.Alias] = true
		links = append(links, l)
	}
	return links, nil
}

// followNetwork is the container whose network c uses (--net container:X).
func (e *Engine) followNetwork(c *Container) *Container {
	for range 8 { // chains are short; a loop guard only
		mode := c.rec.HostConfig.NetworkMode
		if !mode.IsContainer() {
			return c
		}
		next, err := e.lookup(mode.ConnectedContainer())
		if err != nil {
			return c
		}
		c = next
	}
	return c
}

// linkedSource is a link's source as it runs now.
type linkedSource struct {
	link
	ip       netip.Addr
	hostname string
	cfg      *container.Config
}

// resolveLinks finds every link's source and checks it runs on the bridge;
// errors are Docker's start errors.
func (e *Engine) resolveLinks(recipient string, links []link) ([]linkedSource, error) {
	var out []linkedSource
	for _, l := range links {
		notRunning := fmt.Errorf("Cannot link to a non running container: %s AS %s", l.Source, l.name(recipient))
		src, err := e.lookup(l.Source)
		if err != nil {
			return nil, notRunning
		}
		r := src.snapshot()
		running, ep := r.State.running(), r.Endpoint
		hostname, cfg, mode := r.Config.Hostname, r.Config, r.HostConfig.NetworkMode
		if !running {
			return nil, notRunning
		}
		if !mode.IsBridge() || ep == nil {
			return nil, fmt.Errorf("Cannot link to %s, as it does not belong to the default network", l.Source)
		}
		out = append(out, linkedSource{link: l, ip: ep.IP, hostname: hostname, cfg: cfg})
	}
	return out, nil
}

// linkEnv is every link's variables, in link order.
func linkEnv(recipient string, sources []linkedSource) []string {
	var env []string
	for _, s := range sources {
		env = append(env, linker.Env(linker.Link{
			Name: s.name(recipient), SourceIP: s.ip.String(), Ports: s.cfg.ExposedPorts, Env: s.cfg.Env,
		})...)
	}
	return env
}

// linkHosts is the /etc/hosts lines of resolved links.
func linkHosts(sources []linkedSource) []linker.LinkHost {
	var out []linker.LinkHost
	for _, s := range sources {
		out = append(out, linker.LinkHost{IP: s.ip.String(), Alias: s.Alias, Hostname: s.hostname, Name: strings.TrimPrefix(s.Source, "/")})
	}
	return out
}

// allowLinks opens --icc=false for each link: recipient to source, on the
// source's exposed ports.
func (e *Engine) allowLinks(recipientIP netip.Addr, sources []linkedSource) {
	if e.network == nil || !recipientIP.IsValid() {
		return
	}
	for _, s := range sources {
		var ports []netstack.PortProto
		for p := range s.cfg.ExposedPorts {
			ports = append(ports, netstack.PortProto{Port: p.Num(), Proto: string(p.Proto())})
		}
		if err := e.network.AllowLink(recipientIP, s.ip, ports); err != nil {
			log.Printf("engine: allow link %s: %v", s.Source, err)
		}
	}
}

// sourceMoved tells every running recipient of src that src now has ip:
// their hosts files are rewritten in place and, with --icc=false, the link
// opened again.
func (e *Engine) sourceMoved(src *Container, ip netip.Addr) {
	name, cfg, hostname := src.rec.Name, src.rec.Config, src.rec.Config.Hostname
	for _, r := range e.containers() {
		if r == src {
			continue
		}
		rec := r.snapshot()
		running, links, ep, rname := rec.State.running(), rec.Links, rec.Endpoint, rec.Name
		hostsPath := r.hostsPath()
		if !running {
			continue
		}
		for _, l := range links {
			if l.Source != name {
				continue
			}
			// The whole line: a source created again under the same name
			// has a new hostname too.
			line := linker.LinkHost{IP: ip.String(), Alias: l.Alias, Hostname: hostname, Name: strings.TrimPrefix(name, "/")}
			if err := linker.UpdateLink(hostsPath, line); err != nil {
				log.Printf("engine: update hosts of %s: %v", rname, err)
			}
			if ep != nil {
				e.allowLinks(ep.IP, []linkedSource{{link: l, ip: ip, hostname: hostname, cfg: cfg}})
			}
		}
	}
}

// inspectLinks is .HostConfig.Links: "/db:/web/db" per link.
func inspectLinks(r record) []string {
	var out []string
	for _, l := range r.Links {
		out = append(out, l.Source+":"+l.name(r.Name))
	}
	return out
}

// removeLink is `rm --link /web/db`.
func (e *Engine) removeLink(ref string) error {
	full := "/" + strings.TrimPrefix(ref, "/")
	parent, alias := path.Split(full)
	parent = strings.TrimSuffix(parent, "/")
	if parent == "" {
		return errdefs.ErrConflict.WithMessage("Conflict, cannot remove the default link name of the container")
	}
	r, err := e.lookup(parent)
	if err != nil {
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("Cannot get parent %s for link name %s", parent, full))
	}
	found, err := r.dropLink(alias)
	if !found {
		return errdefs.ErrNotFound.WithMessage("No such container: " + strings.TrimPrefix(full, "/"))
	}
	return err
}
