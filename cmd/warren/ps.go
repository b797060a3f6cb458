package main

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

const defaultPsFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

// psHeader maps the row fields to docker's column titles.
var psHeader = map[string]string{
	"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
	"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
	"Names": "NAMES", "Labels": "LABELS", "Label": "LABEL", "Mounts": "MOUNTS",
	"LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS",
}

func psCommand() *cli.Command {
	return &cli.Command{
		Name: "ps", Usage: "List containers",
		UsageText: "warren ps [OPTIONS]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "Show all containers (default shows just running)"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "Filter output based on conditions provided"},
			&cli.StringFlag{Name: "format", Usage: "Format output using a custom template"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "Show n last created containers (includes all states)"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "Show the latest created container (includes all states)"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "Don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "Only display container IDs"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "Display total file sizes"},
		},
		Action: psAction,
	}
}

// parseFilters turns -f key=value flags into the API's filter set.
func parseFilters(vals []string) (client.Filters, error) {
	f := client.Filters{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		f.Add(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val))
	}
	return f, nil
}

func psAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	filters, err := parseFilters(c.StringSlice("filter"))
	if err != nil {
		return err
	}
	opts := client.ContainerListOptions{All: c.Bool("all"), Size: c.Bool("size"), Filters: filters}
	if n := c.Int("last"); n > 0 {
		opts.Limit = n
	}
	if c.Bool("latest") {
		opts.Limit = 1
	}
	format := psFormat(c.String("format"), c.Bool("quiet"), c.Bool("size"))
	if strings.Contains(format, ".Size") {
		opts.Size = true
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	list, err := api.ContainerList(c.Context, opts)
	if err != nil {
		return err
	}
	rows := make([]any, 0, len(list.Items))
	now := time.Now()
	for _, ctr := range list.Items {
		rows = append(rows, containerRow{c: ctr, trunc: !c.Bool("no-trunc"), now: now})
	}
	return resolveFormat(format, defaultPsFormat).write(s.out, psHeader, rows)
}

// psFormat picks the template as docker does: -q wins over the default
// table, an explicit --format wins over both.
func psFormat(format string, quiet, size bool) string {
	switch {
	case format != "" && format != tableKey:
		return format
	case quiet:
		return "{{.ID}}"
	case size:
		return defaultPsFormat + `\t{{.Size}}`
	}
	return defaultPsFormat
}

// containerRow is one `ps` line; its methods are the template fields docker
// offers (c:cli/command/formatter/container.go).
type containerRow struct {
	c     container.Summary
	trunc bool
	now   time.Time
}

func (r containerRow) ID() string {
	if r.trunc {
		return truncateID(r.c.ID)
	}
	return r.c.ID
}

func (r containerRow) Image() string {
	if r.c.Image == "" {
		return "<no image>"
	}
	if !r.trunc {
		return r.c.Image
	}
	if t := truncateID(r.c.ImageID); t == truncateID(r.c.Image) {
		return t
	}
	// Drop a digest the user did not ask to see, as docker does.
	ref, err := reference.ParseNormalizedNamed(r.c.Image)
	if err != nil {
		return r.c.Image
	}
	if tagged, ok := ref.(reference.NamedTagged); ok {
		if t, err := reference.WithTag(reference.TrimNamed(tagged), tagged.Tag()); err == nil {
			return reference.FamiliarString(t)
		}
		return r.c.Image
	}
	return reference.FamiliarString(reference.TrimNamed(ref))
}

func (r containerRow) Command() string {
	cmd := r.c.Command
	if r.trunc {
		cmd = ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

func (r containerRow) CreatedAt() string { return time.Unix(r.c.Created, 0).String() }

func (r containerRow) RunningFor() string {
	return units.HumanDuration(r.now.UTC().Sub(time.Unix(r.c.Created, 0))) + " ago"
}

func (r containerRow) Ports() string  { return displayablePorts(r.c.Ports) }
func (r containerRow) State() string  { return string(r.c.State) }
func (r containerRow) Status() string { return r.c.Status }

func (r containerRow) Size() string {
	rw := units.HumanSizeWithPrecision(float64(r.c.SizeRw), 3)
	if r.c.SizeRootFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", rw, units.HumanSizeWithPrecision(float64(r.c.SizeRootFs), 3))
	}
	return rw
}

func (r containerRow) Names() string { return displayNames(r.c.Names, r.trunc) }

func (r containerRow) Labels() string {
	var kv []string
	for k, v := range r.c.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (r containerRow) Label(name string) string { return r.c.Labels[name] }

func (r containerRow) Mounts() string {
	var names []string
	for _, m := range r.c.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if r.trunc {
			name = ellipsis(name, 15)
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}

func (r containerRow) LocalVolumes() string {
	n := 0
	for _, m := range r.c.Mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

func (r containerRow) Networks() string {
	if r.c.NetworkSettings == nil {
		return ""
	}
	var names []string
	for n := range r.c.NetworkSettings.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// MarshalJSON makes {{json .}} print the columns, as docker's does.
func (r containerRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"Command": r.Command(), "CreatedAt": r.CreatedAt(), "ID": r.ID(), "Image": r.Image(),
		"Labels": r.Labels(), "LocalVolumes": r.LocalVolumes(), "Mounts": r.Mounts(), "Names": r.Names(),
		"Networks": r.Networks(), "Ports": r.Ports(), "RunningFor": r.RunningFor(), "Size": r.Size(),
		"State": r.State(), "Status": r.Status(),
	})
}

// truncateID is the 12-character short form of an ID, without "sha256:".
func truncateID(id string) string {
	if _, after, ok := strings.Cut(id, ":"); ok {
		id = after
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// ellipsis shortens s to max runes, the last one being "…" (docker's
// formatter.Ellipsis for single-width text).
func ellipsis(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)
	if max == 1 {
		return string(rs[0])
	}
	return string(rs[:max-1]) + "…"
}

// displayNames is the NAMES column: names without their leading "/"; when
// truncating, only the container's own name (link names hold a "/").
func displayNames(names []string, trunc bool) string {
	stripped := make([]string, 0, len(names))
	for _, n := range names {
		stripped = append(stripped, strings.TrimPrefix(n, "/"))
	}
	if trunc {
		for _, n := range stripped {
			if !strings.Contains(n, "/") {
				return n
			}
		}
	}
	return strings.Join(stripped, ",")
}

// displayablePorts is docker's PORTS column (docker-behavior 3.6): sorted,
// consecutive ports with the same address and protocol collapsed into
// ranges, bindings to a different host port listed after the groups.
func displayablePorts(ports []container.PortSummary) string {
	type group struct{ first, last uint16 }
	groups := map[string]*group{}
	var keys, result, mappings []string
	sorted := slices.Clone(ports)
	sort.SliceStable(sorted, func(i, j int) bool { return portLess(sorted[i], sorted[j]) })
	for _, p := range sorted {
		ip := portIP(p)
		key := p.Type
		if ip != "" {
			if p.PublicPort != p.PrivatePort {
				host := net.JoinHostPort(ip, strconv.Itoa(int(p.PublicPort)))
				mappings = append(mappings, fmt.Sprintf("%s->%d/%s", host, p.PrivatePort, p.Type))
				continue
			}
			key = ip + "/" + p.Type
		}
		g := groups[key]
		switch {
		case g == nil:
			groups[key] = &group{first: p.PrivatePort, last: p.PrivatePort}
			keys = append(keys, key)
		case p.PrivatePort == g.last+1:
			g.last = p.PrivatePort
		default:
			result = append(result, formGroup(key, g.first, g.last))
			groups[key] = &group{first: p.PrivatePort, last: p.PrivatePort}
		}
	}
	for _, k := range keys {
		g := groups[k]
		result = append(result, formGroup(k, g.first, g.last))
	}
	return strings.Join(append(result, mappings...), ", ")
}

func portIP(p container.PortSummary) string {
	if !p.IP.IsValid() {
		return ""
	}
	return p.IP.String()
}

func portLess(a, b container.PortSummary) bool {
	if a.PrivatePort != b.PrivatePort {
		return a.PrivatePort < b.PrivatePort
	}
	if ia, ib := portIP(a), portIP(b); ia != ib {
		return ia < ib
	}
	if a.PublicPort != b.PublicPort {
		return a.PublicPort < b.PublicPort
	}
	return a.Type < b.Type
}

func formGroup(key string, first, last uint16) string {
	ip, proto, hasIP := "", key, false
	if i := strings.LastIndex(key, "/"); i >= 0 {
		ip, proto, hasIP = key[:i], key[i+1:], true
	}
	r := strconv.Itoa(int(first))
	if first != last {
		r = fmt.Sprintf("%s-%d", r, last)
	}
	if hasIP {
		if strings.Contains(ip, ":") {
			ip = "[" + ip + "]"
		}
		r = fmt.Sprintf("%s:%s->%s", ip, r, r)
	}
	return r + "/" + proto
}
