// Command gendoc writes docs/BENCHMARKS.md from the raw results that
// scripts/bench/run.sh leaves: one row per figure, a column per tool,
// every cell "median (min–max)" of the runs, and warren ÷ the best peer.
// It only reports; nothing here judges a figure as passing or failing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"warren/internal/atomicfile"
)

// figure is one table row.
type figure struct {
	id, title, unit string
	lowerBetter     bool
}

// figures in table order. Ids match run.sh's file names; "%d" titles take
// the knob the run used.
func figures(p params) []figure {
	return []figure{
		{"tp_in", "`-p` inbound: host → container, one TCP stream", "Gbit/s", false},
		{"tp_in_R", "`-p` inbound, `-R`: container → host on the same connection", "Gbit/s", false},
		{"tp_out", "egress: container → server on the host's loopback", "Gbit/s", false},
		{"tp_out_R", "egress, `-R`: host's loopback → container", "Gbit/s", false},
		{"tp_c2c", "container → container, one bridge", "Gbit/s", false},
		{"conn_seq", "short connections through `-p`, one at a time", "conn/s", false},
		{"conn_conc", fmt.Sprintf("short connections through `-p`, %d in flight", p.conc), "conn/s", false},
		{"start_run_rm", "`run --rm IMAGE true`, warm daemon", "ms", true},
		{"start_run_d_rm", "`run -d IMAGE sleep` + `rm -f`", "ms", true},
		{"mem_0", "memory (RSS) of the daemon / the helpers, 0 containers", "MiB", true},
		{"mem_10", "memory (RSS), 10 idle containers each publishing a port", "MiB", true},
		{fmt.Sprintf("mem_%d", p.scale), fmt.Sprintf("memory (RSS), %d idle containers each publishing a port", p.scale), "MiB", true},
		{"procs_0", "processes of the daemon / helpers, 0 containers", "count", true},
		{"procs_10", "processes, 10 idle containers with a port", "count", true},
		{fmt.Sprintf("procs_%d", p.scale), fmt.Sprintf("processes, %d idle containers with a port", p.scale), "count", true},
		{fmt.Sprintf("start_%d", p.scale), fmt.Sprintf("time to start %d containers with `-p`, one after another", p.scale), "s", true},
		{"clients", fmt.Sprintf("connections through one `-p` with %d concurrent clients", p.clients), "conn/s", false},
		{"clients_fds_before", "open descriptors of the forwarder before that load", "fds", true},
		{"clients_fds_after", "open descriptors of the forwarder after that load", "fds", true},
	}
}

// column groups sources under the headings; labels name the variant
// inside a shared cell.
var columns = []struct {
	heading string
	sources []string
}{
	{"host loopback", []string{"loopback"}},
	{"bare splice relay", []string{"relay"}},
	{"warren", []string{"warren"}},
	{"rootless Podman (rootlessport / pasta / slirp4netns)", []string{"podman_rootlessport", "podman_bridge", "podman_default", "podman_none", "pasta", "podman_slirp4netns"}},
	{"RootlessKit builtin", []string{"rk_builtin", "rk_slirp4netns"}},
}

var labels = map[string]string{
	"podman_rootlessport": "rootlessport",
	"podman_slirp4netns":  "slirp4netns",
	"podman_bridge":       "bridge network",
	"podman_default":      "default network",
	"podman_none":         "`--network none`",
	"pasta":               "pasta standalone",
	"rk_builtin":          "builtin ports",
	"rk_slirp4netns":      "slirp4netns, MTU 65520",
}

type params struct{ conc, clients, scale, runs, dur, n, conns int }

func main() {
	dir := flag.String("results", "", "folder of raw results from scripts/bench/run.sh")
	out := flag.String("out", "docs/BENCHMARKS.md", "file to write")
	var p params
	flag.IntVar(&p.conc, "conc", 8, "CONC of the run")
	flag.IntVar(&p.clients, "clients", 1000, "CLIENTS of the run")
	flag.IntVar(&p.scale, "scale", 100, "SCALE of the run")
	flag.IntVar(&p.runs, "runs", 3, "RUNS of the run")
	flag.IntVar(&p.dur, "dur", 10, "DUR of the run")
	flag.IntVar(&p.n, "n", 10, "N of the run")
	flag.IntVar(&p.conns, "conns", 2000, "CONNS of the run")
	flag.Parse()
	if err := run(*dir, *out, p); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run(dir, out string, p params) error {
	res, err := loadResults(dir)
	if err != nil {
		return err
	}
	shareLoopback(res)
	versions, _ := os.ReadFile(filepath.Join(dir, "versions.txt"))
	var doc bytes.Buffer
	render(&doc, res, parseVersions(string(versions)), p)
	return atomicfile.Write(out, doc.Bytes(), 0o644)
}

// shareLoopback gives egress and container-to-container rows the host
// loopback figure measured in the same rounds for the inbound rows (the
// same iperf3 pair on the host), so every throughput row has its limit.
func shareLoopback(res map[string]map[string]series) {
	for fig, from := range map[string]string{"tp_out": "tp_in", "tp_out_R": "tp_in_R", "tp_c2c": "tp_in"} {
		lo, ok := res[from]["loopback"]
		if _, has := res[fig]["loopback"]; ok && !has && res[fig] != nil {
			res[fig]["loopback"] = lo
		}
	}
}

// parseVersions keeps versions.sh's "name: value" lines in order.
func parseVersions(text string) [][2]string {
	var kv [][2]string
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			kv = append(kv, [2]string{k, strings.TrimSpace(v)})
		}
	}
	return kv
}

// columnCell joins the column's sources that have results; a lone source
// needs no label.
func columnCell(sources map[string]series, names []string) string {
	var parts []string
	for _, n := range names {
		s, ok := sources[n]
		if !ok {
			continue
		}
		c := cell(s)
		if len(names) > 1 {
			c = labels[n] + ": " + c
		}
		parts = append(parts, c)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "<br>")
}

// ratioCell is warren's median over the best peer's, with the peer named.
func ratioCell(sources map[string]series, lowerBetter bool) string {
	peer, pm, ok := bestPeer(sources, lowerBetter)
	if !ok {
		return "—"
	}
	wm, _, _, has := sources["warren"].stats()
	if !has {
		if len(sources["warren"].notYet) > 0 {
			return "not yet"
		}
		return "—"
	}
	if pm == 0 {
		return "—"
	}
	name := labels[peer]
	if name == "" {
		name = peer
	}
	return fmt.Sprintf("%.2f (vs %s)", wm/pm, name)
}

func render(w io.Writer, res map[string]map[string]series, versions [][2]string, p params) {
	fmt.Fprintln(w, "# Benchmarks: warren beside the rootless peers")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `make bench` (scripts/bench/gendoc from the raw results of scripts/bench/run.sh); do not edit by hand.")
	fmt.Fprintf(w, "Every figure ran in the same `make bench` on the same machine, interleaved round by round: %d rounds of each throughput and connection figure (iperf3 %d s, one TCP stream, receiver side; %d connections per short-connection run), %d start-latency samples after a warm-up. ", p.runs, p.dur, p.conns, p.n)
	fmt.Fprintln(w, "Cells are median (min–max). The machines are shared and noisy: read the ratios within this run, not absolute numbers across runs.")
	fmt.Fprintln(w, "\"not yet\" marks a warren feature that did not work when this run was made, with warren's own error; \"failed\" marks a peer's run that failed; \"—\" means the figure does not apply.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Machine and versions")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	for _, kv := range versions {
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], escape(kv[1]))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Results")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| figure | unit |")
	for _, c := range columns {
		fmt.Fprintf(w, " %s |", c.heading)
	}
	fmt.Fprintln(w, " warren ÷ best peer |")
	fmt.Fprintln(w, strings.Repeat("|---", len(columns)+3)+"|")
	for _, f := range figures(p) {
		sources := res[f.id]
		if sources == nil {
			continue
		}
		fmt.Fprintf(w, "| %s | %s |", f.title, f.unit)
		for _, c := range columns {
			fmt.Fprintf(w, " %s |", escape(columnCell(sources, c.sources)))
		}
		fmt.Fprintf(w, " %s |\n", ratioCell(sources, f.lowerBetter))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "For ms, MiB, counts, s and descriptors lower is better, so a ratio below 1 favours warren; for Gbit/s and conn/s higher is better.")
	fmt.Fprintln(w)
	renderTargets(w, res, p)
	renderFloor(w, res)
	renderNotes(w)
	renderCommands(w, res, p)
}

// escape keeps a cell inside its table column.
func escape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// target is one of the issues' goals, reported as the measured ratio.
type target struct {
	goal, fig, against string
	want               float64 // warren ÷ against must be >= want (or <= when atMost)
	atMost             bool
}

var targets = []target{
	{"`-p` ≥ 0.8 × host loopback (port publishing)", "tp_in", "loopback", 0.8, false},
	{"short connections through `-p` ≥ 0.5 × a loopback server (port publishing)", "conn_seq", "loopback", 0.5, false},
	{"`-p` ≥ 0.9 × host loopback", "tp_in", "loopback", 0.9, false},
	{"`-p -R` ≥ 0.9 × host loopback", "tp_in_R", "loopback", 0.9, false},
	{"`-p` ahead of Podman's rootlessport", "tp_in", "podman_rootlessport", 1, false},
	{"`-p -R` ahead of Podman's rootlessport", "tp_in_R", "podman_rootlessport", 1, false},
	{"egress ahead of slirp4netns (Podman)", "tp_out", "podman_slirp4netns", 1, false},
	{"egress `-R` ahead of slirp4netns (Podman)", "tp_out_R", "podman_slirp4netns", 1, false},
	{"egress ahead of RootlessKit (slirp4netns; Debian's 1.1.0 has no gvisor-tap-vsock)", "tp_out", "rk_slirp4netns", 1, false},
	{"egress aiming at pasta's", "tp_out", "pasta", 1, false},
	{"container ↔ container ≥ 0.9 × host loopback", "tp_c2c", "loopback", 0.9, false},
	{"`run --rm` at most a third of Podman's", "start_run_rm", "podman_default", 1.0 / 3, true},
}

func renderTargets(w io.Writer, res map[string]map[string]series, p params) {
	fmt.Fprintln(w, "## Targets (reported, never asserted)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | warren ÷ reference | met? |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, t := range targets {
		fmt.Fprintf(w, "| %s | %s |\n", t.goal, targetCell(res[t.fig], t))
	}
	fmt.Fprintf(w, "| no helper process per container | %s |\n", helperCell(res, p.scale))
	fmt.Fprintln(w)
}

func targetCell(sources map[string]series, t target) string {
	wm, _, _, wok := sources["warren"].stats()
	rm, _, _, rok := sources[t.against].stats()
	switch {
	case !rok || rm == 0:
		return "— | reference not measured"
	case !wok:
		return "— | not yet"
	}
	r := wm / rm
	met := r >= t.want
	if t.atMost {
		met = r <= t.want
	}
	return fmt.Sprintf("%.2f | %s", r, map[bool]string{true: "yes", false: "no"}[met])
}

// helperCell compares warren's process count with SCALE containers to the
// count with none.
func helperCell(res map[string]map[string]series, scale int) string {
	idle, _, _, ok0 := res["procs_0"]["warren"].stats()
	full, _, _, ok1 := res[fmt.Sprintf("procs_%d", scale)]["warren"].stats()
	if !ok0 || !ok1 {
		return "— | not yet"
	}
	extra := full - idle
	return fmt.Sprintf("%s more processes with %d containers | %s", num(extra), scale, map[bool]string{true: "yes", false: "no"}[extra < float64(scale)/2])
}

// renderFloor says how far a bare splice relay, the floor of any userland
// forwarder, got from host loopback, and how close warren came to it.
func renderFloor(w io.Writer, res map[string]map[string]series) {
	var parts []string
	for _, f := range []struct{ fig, what string }{{"tp_in", "`-p`"}, {"tp_in_R", "`-p -R`"}} {
		relay, _, _, ok := res[f.fig]["relay"].stats()
		lo, _, _, lok := res[f.fig]["loopback"].stats()
		wm, _, _, wok := res[f.fig]["warren"].stats()
		if !ok || !lok || !wok || lo == 0 || relay == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: the relay %.2f × host loopback, warren %.2f × the relay", f.what, relay/lo, wm/relay))
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintln(w, "## The floor of a userland forwarder")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The bare splice relay (scripts/bench/splicerelay) joins the client to a second TCP connection on the host's loopback and splices the bytes, a blocking thread per direction: no namespace, bridge or event loop. It keeps only what every userland forwarder must do (a second connection, and the bytes through the kernel twice), so it is about the best a rootless `-p` can reach here. In this run, "+strings.Join(parts, "; ")+".")
	fmt.Fprintln(w)
}

func renderNotes(w io.Writer) {
	fmt.Fprintln(w, "## How to read it")
	fmt.Fprintln(w)
	for _, n := range []string{
		"IMAGE is `localhost/warrenbench:latest`, written by scripts/bench/image as a `docker save` tarball (Debian's static busybox, the host's iperf3 with the libraries and loader `ldd` names, and scripts/bench/connserver) and loaded with `warren load` and `podman load` alike.",
		"The peers are Debian 12's packages, run as the unprivileged test user: Podman with runc (crun 1.8 refuses hybrid cgroups), native overlay storage, cgroupfs; pasta and RootlessKit standalone with host binaries (Podman 4.3 has no pasta network, RootlessKit 1.1 no pasta or gvisor-tap-vsock driver).",
		"Podman's egress runs through slirp4netns (its only path to the host in 4.3) at its default MTU 65520; pasta's egress dials the default gateway address that pasta maps to the host's loopback; warren's dials `host.warren.internal`.",
		"warren runs on a private daemon started by the harness (its own runtime and data folders), warm for every figure; its memory and descriptor counts cover every process of that daemon, the containers' own processes excluded. Podman's cover conmon, rootlessport, rootlessport-child, slirp4netns and the shared catatonit pause process.",
		"Short connections: scripts/bench/connload opens each connection, sends one line, reads the one-line reply of scripts/bench/connserver and closes.",
	} {
		fmt.Fprintln(w, "- "+n)
	}
	fmt.Fprintln(w)
}

func renderCommands(w io.Writer, res map[string]map[string]series, p params) {
	fmt.Fprintln(w, "## Exact commands")
	fmt.Fprintln(w)
	for _, f := range figures(p) {
		sources := res[f.id]
		if sources == nil {
			continue
		}
		names := make([]string, 0, len(sources))
		for n := range sources {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "**%s** (`%s`)\n\n", f.title, f.id)
		for _, n := range names {
			if c := sources[n].command; c != "" {
				fmt.Fprintf(w, "- %s: `%s`\n", n, strings.ReplaceAll(c, "`", "'"))
			}
		}
		fmt.Fprintln(w)
	}
}
