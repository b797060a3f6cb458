package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// series is every recorded run of one figure by one source: the numbers,
// and the reasons of runs that gave none ("NOTYET ..." or "FAIL ...").
type series struct {
	values  []float64
	notYet  []string
	failed  []string
	command string
}

// parseSeries reads a raw results file's text: one number per line, or a
// NOTYET/FAIL line with its reason.
func parseSeries(text string) series {
	var s series
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "NOTYET"):
			s.notYet = append(s.notYet, strings.TrimSpace(strings.TrimPrefix(line, "NOTYET")))
		case strings.HasPrefix(line, "FAIL"):
			s.failed = append(s.failed, strings.TrimSpace(strings.TrimPrefix(line, "FAIL")))
		default:
			v, err := strconv.ParseFloat(line, 64)
			if err != nil {
				s.failed = append(s.failed, "unreadable value "+strconv.Quote(line))
				continue
			}
			s.values = append(s.values, v)
		}
	}
	return s
}

// stats is the median, min and max of the values; ok is false without any.
func (s series) stats() (median, lo, hi float64, ok bool) {
	if len(s.values) == 0 {
		return 0, 0, 0, false
	}
	v := append([]float64(nil), s.values...)
	sort.Float64s(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1], true
}

// loadResults reads <figure>.<source>.txt and .cmd files from dir, keyed
// by figure then source.
func loadResults(dir string) (map[string]map[string]series, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]series{}
	for _, p := range paths {
		base := strings.TrimSuffix(filepath.Base(p), ".txt")
		fig, src, ok := strings.Cut(base, ".")
		if !ok {
			continue // versions.txt and other notes
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
		s := parseSeries(string(data))
		if cmd, err := os.ReadFile(strings.TrimSuffix(p, ".txt") + ".cmd"); err == nil {
			s.command = strings.TrimSpace(string(cmd))
		}
		if out[fig] == nil {
			out[fig] = map[string]series{}
		}
		out[fig][src] = s
	}
	return out, nil
}

// num prints a figure with three significant digits, as the peers' page
// does, without exponent notation.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// cell is one source's entry in the table: "median (min–max)", or why
// there is no number.
func cell(s series) string {
	med, lo, hi, ok := s.stats()
	switch {
	case ok:
		f := num
		if allWhole(s.values) {
			f = whole // counts (processes, descriptors)
		}
		c := fmt.Sprintf("%s (%s–%s)", f(med), f(lo), f(hi))
		if missed := len(s.notYet) + len(s.failed); missed > 0 {
			c += fmt.Sprintf(", %d of %d runs failed", missed, missed+len(s.values))
		}
		return c
	case len(s.notYet) > 0:
		return "not yet: " + s.notYet[0]
	case len(s.failed) > 0:
		return "failed: " + s.failed[0]
	}
	return "—"
}

// bestPeer picks the peer source with the best median: the highest, or the
// lowest when lower is better. ok is false when no peer has a number.
func bestPeer(sources map[string]series, lowerBetter bool) (name string, median float64, ok bool) {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names) // ties resolve the same way every time
	for _, n := range names {
		if n == "warren" || n == "loopback" || n == "relay" { // limits, not peers
			continue
		}
		m, _, _, has := sources[n].stats()
		if !has {
			continue
		}
		if !ok || (lowerBetter && m < median) || (!lowerBetter && m > median) {
			name, median, ok = n, m, true
		}
	}
	return name, median, ok
}

func allWhole(values []float64) bool {
	for _, v := range values {
		if v != math.Trunc(v) {
			return false
		}
	}
	return true
}

// whole prints a count; a median of two counts may end in .5.
func whole(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
