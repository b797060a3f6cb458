package filters

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Container is what the ps filters look at.
type Container struct {
	ID      string
	Name    string // "/web"
	Created time.Time
	Labels  map[string]string
	State   container.ContainerState
	Running bool
	// Started is whether it ever ran: exited= skips never-started ones.
	Started  bool
	ExitCode int
	ImageID  string
	// Health is container.NoHealthcheck ("none") for a container without
	// a healthcheck, which is every warren container so far.
	Health container.HealthStatus
	// Task is whether a swarm service runs it; warren has no swarm.
	Task   bool
	Mounts []container.MountPoint
	// Networks maps the name of each network it is on to the network's ID
	// ("" where the network has none).
	Networks map[string]string
	// Ports are the live ports as ps shows them (none once stopped).
	Ports []container.PortSummary
}

// Resolver finds what ps filters name.
type Resolver struct {
	// Container resolves before= and since=; its error goes to the client
	// as it is ("No such container: x", 404).
	Container func(ref string) (Container, error)
	// Image resolves ancestor= to an image ID, false if no image has that
	// name. Docker ignores an unknown ancestor, which then matches nothing.
	Image func(ref string) (id string, ok bool)
}

// psKeys are the keys GET /containers/json accepts (moby daemon/list.go).
// isolation is a Windows filter Docker accepts and ignores on Linux.
var psKeys = []string{"ancestor", "before", "exited", "expose", "health", "id", "is-task",
	"isolation", "label", "name", "network", "publish", "since", "status", "volume"}

// Ps is a parsed set of ps filters.
type Ps struct {
	args          Args
	names         []*regexp.Regexp
	exited        []int
	before, since time.Time // zero: not given
	ancestors     map[string]bool
	task          *bool
	publish       []network.PortRange
	expose        []network.PortRange
	all           bool
}

// ParsePs checks args as Docker's ps does, in its order, with its texts.
func ParsePs(args Args, r Resolver) (*Ps, error) {
	if err := args.validate(psKeys...); err != nil {
		return nil, err
	}
	p := &Ps{args: args}
	for _, v := range args["exited"] {
		code, err := strconv.Atoi(v)
		if err != nil {
			return nil, invalid(fmt.Sprintf("invalid filter 'exited=%s': %v", v, err))
		}
		p.exited = append(p.exited, code)
	}
	for _, v := range args["status"] {
		if err := container.ValidateContainerState(container.ContainerState(v)); err != nil {
			return nil, invalid(fmt.Sprintf("invalid filter 'status=%s': %v", v, err))
		}
		// Asking for a state lists stopped containers too.
		p.all = true
	}
	if args.has("is-task") {
		task, err := args.boolOr("is-task", false)
		if err != nil {
			return nil, err
		}
		p.task = &task
	}
	for _, v := range args["health"] {
		if err := container.ValidateHealthStatus(container.HealthStatus(v)); err != nil {
			return nil, invalid(fmt.Sprintf("invalid filter 'health=%s': %v", v, err))
		}
	}
	// Docker keeps one before= and one since= (whichever it met last); all
	// of them must hold here, so the result does not depend on map order.
	for _, v := range args["before"] {
		c, err := r.Container(v)
		if err != nil {
			return nil, err
		}
		if p.before.IsZero() || c.Created.Before(p.before) {
			p.before = c.Created
		}
	}
	for _, v := range args["since"] {
		c, err := r.Container(v)
		if err != nil {
			return nil, err
		}
		if c.Created.After(p.since) {
			p.since = c.Created
		}
	}
	if args.has("ancestor") {
		// Descendants would be added here: warren keeps no image parents
		// (Docker knows them only for images its builder made).
		p.ancestors = map[string]bool{}
		for _, v := range args["ancestor"] {
			if id, ok := r.Image(v); ok {
				p.ancestors[id] = true
			}
		}
	}
	var err error
	if p.publish, err = portRanges("publish", args["publish"]); err != nil {
		return nil, err
	}
	if p.expose, err = portRanges("expose", args["expose"]); err != nil {
		return nil, err
	}
	// A name that is no regular expression matches only itself, as in
	// Docker, which skips a regexp that does not compile.
	for _, v := range args["name"] {
		if re, err := regexp.Compile(v); err == nil {
			p.names = append(p.names, re)
		}
	}
	return p, nil
}

// portRanges parses publish= and expose= values: "80", "80/udp",
// "8000-8080/tcp" (tcp when no protocol is given).
func portRanges(key string, values []string) ([]network.PortRange, error) {
	var out []network.PortRange
	for _, v := range values {
		if strings.Contains(v, ":") {
			return nil, invalid(fmt.Sprintf("filter for '%s' should not contain ':': %s", key, v))
		}
		pr, err := network.ParsePortRange(v)
		if err != nil {
			return nil, invalid(fmt.Sprintf("error while looking up for %s %s: %v", key, v, err))
		}
		out = append(out, pr)
	}
	return out, nil
}

// All reports whether the filters list stopped containers without -a: a
// status filter does.
func (p *Ps) All() bool { return p.all }

// Match reports whether ps lists c (running or not: the caller applies
// -a). Each key must hold; within a key one value is enough, except
// label, where every value must hold.
func (p *Ps) Match(c Container) bool {
	switch {
	case !p.before.IsZero() && !c.Created.Before(p.before),
		!p.since.IsZero() && !c.Created.After(p.since),
		!p.matchName(c.Name),
		!p.matchID(c.ID),
		p.task != nil && *p.task != c.Task,
		!matchAllLabels(p.args["label"], c.Labels),
		!p.matchExited(c),
		!oneOf(p.args, "status", string(c.State)),
		!oneOf(p.args, "health", string(c.Health)),
		!p.matchVolume(c.Mounts),
		p.ancestors != nil && !p.ancestors[c.ImageID],
		!p.matchNetwork(c.Networks),
		!p.matchPorts(c.Ports):
		return false
	}
	return true
}

// oneOf is Docker's ExactMatch: no values, or one equal to s.
func oneOf(args Args, key, s string) bool {
	values, ok := args[key]
	if !ok || len(values) == 0 {
		return true
	}
	for _, v := range values {
		if v == s {
			return true
		}
	}
	return false
}

// matchName: the name with or without its slash equals a value or
// contains a match of it as a regular expression.
func (p *Ps) matchName(name string) bool {
	if !p.args.has("name") {
		return true
	}
	short := strings.TrimPrefix(name, "/")
	if !oneOf(p.args, "name", name) && !oneOf(p.args, "name", short) {
		for _, re := range p.names {
			if re.MatchString(name) || re.MatchString(short) {
				return true
			}
		}
		return false
	}
	return true
}

// matchID: the ID starts with a value.
func (p *Ps) matchID(id string) bool {
	values, ok := p.args["id"]
	if !ok {
		return true
	}
	for _, v := range values {
		if strings.HasPrefix(id, v) {
			return true
		}
	}
	return false
}

// matchExited: stopped after having run, with one of the codes.
func (p *Ps) matchExited(c Container) bool {
	if len(p.exited) == 0 {
		return true
	}
	for _, code := range p.exited {
		if code == c.ExitCode && !c.Running && c.Started {
			return true
		}
	}
	return false
}

// matchVolume: a mount's destination, or its volume name (its source for
// a bind), equals a value.
func (p *Ps) matchVolume(mounts []container.MountPoint) bool {
	values, ok := p.args["volume"]
	if !ok {
		return true
	}
	for _, v := range values {
		for _, m := range mounts {
			name := m.Name
			if name == "" {
				name = m.Source
			}
			if v == m.Destination || v == name {
				return true
			}
		}
	}
	return false
}

// matchNetwork: a value names one of its networks or starts a network ID.
func (p *Ps) matchNetwork(networks map[string]string) bool {
	values, ok := p.args["network"]
	if !ok {
		return true
	}
	for _, v := range values {
		if _, ok := networks[v]; ok {
			return true
		}
		for _, id := range networks {
			if id != "" && strings.HasPrefix(id, v) {
				return true
			}
		}
	}
	return false
}

// matchPorts: a published (host) port is in a publish= range, or a
// container port in an expose= range.
func (p *Ps) matchPorts(ports []container.PortSummary) bool {
	if len(p.publish) == 0 && len(p.expose) == 0 {
		return true
	}
	for _, port := range ports {
		if inRanges(p.publish, port.PublicPort, port.Type) || inRanges(p.expose, port.PrivatePort, port.Type) {
			return true
		}
	}
	return false
}

func inRanges(ranges []network.PortRange, port uint16, proto string) bool {
	for _, r := range ranges {
		if port >= r.Start() && port <= r.End() && string(r.Proto()) == proto {
			return true
		}
	}
	return false
}
