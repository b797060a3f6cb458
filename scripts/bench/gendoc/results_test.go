package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSeries(t *testing.T) {
	tests := []struct {
		name, text string
		want       series
	}{
		{"numbers", "50.9\n40.0\n\n69.3\n", series{values: []float64{50.9, 40, 69.3}}},
		{"not yet", "NOTYET warren run -d -p: not implemented\n", series{notYet: []string{"warren run -d -p: not implemented"}}},
		{"mixed", "1.5\nFAIL no result\n2\n", series{values: []float64{1.5, 2}, failed: []string{"no result"}}},
		{"garbage", "abc\n", series{failed: []string{`unreadable value "abc"`}}},
	}
	for _, tc := range tests {
		if got := parseSeries(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: parseSeries = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		values      []float64
		med, lo, hi float64
		ok          bool
	}{
		{nil, 0, 0, 0, false},
		{[]float64{3}, 3, 3, 3, true},
		{[]float64{56.0, 123, 58.5, 57.9, 81.2}, 58.5, 56, 123, true},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, true},
	}
	for _, tc := range tests {
		med, lo, hi, ok := series{values: tc.values}.stats()
		if med != tc.med || lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("stats(%v) = %v %v %v %v, want %v %v %v %v", tc.values, med, lo, hi, ok, tc.med, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestCell(t *testing.T) {
	tests := []struct {
		s    series
		want string
	}{
		{series{values: []float64{50.9, 40.0, 69.3}}, "50.9 (40.0–69.3)"},
		{series{values: []float64{0.05, 0.01, 0.22}}, "0.05 (0.01–0.22)"},
		{series{values: []float64{1234, 1100, 1500}}, "1234 (1100–1500)"},
		{series{values: []float64{2.5}, failed: []string{"x"}}, "2.50 (2.50–2.50), 1 of 2 runs failed"},
		{series{values: []float64{41, 1, 49}}, "41 (1–49)"},
		{series{values: []float64{40, 41}}, "40.5 (40–41)"},
		{series{notYet: []string{"daemon does not start: boom"}}, "not yet: daemon does not start: boom"},
		{series{failed: []string{"podman run: no such image"}}, "failed: podman run: no such image"},
		{series{}, "—"},
	}
	for _, tc := range tests {
		if got := cell(tc.s); got != tc.want {
			t.Errorf("cell(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestBestPeerAndRatio(t *testing.T) {
	sources := map[string]series{
		"loopback":            {values: []float64{100}},
		"relay":               {values: []float64{90}},
		"warren":              {values: []float64{60}},
		"podman_rootlessport": {values: []float64{50}},
		"pasta":               {values: []float64{30}},
		"rk_builtin":          {notYet: []string{"x"}},
	}
	tests := []struct {
		lowerBetter bool
		peer        string
		median      float64
		ratio       string
	}{
		{false, "podman_rootlessport", 50, "1.20 (vs rootlessport)"},
		{true, "pasta", 30, "2.00 (vs pasta standalone)"},
	}
	for _, tc := range tests {
		peer, m, ok := bestPeer(sources, tc.lowerBetter)
		if !ok || peer != tc.peer || m != tc.median {
			t.Errorf("bestPeer(lower=%v) = %s %v %v, want %s %v", tc.lowerBetter, peer, m, ok, tc.peer, tc.median)
		}
		if got := ratioCell(sources, tc.lowerBetter); got != tc.ratio {
			t.Errorf("ratioCell(lower=%v) = %q, want %q", tc.lowerBetter, got, tc.ratio)
		}
	}
	notYet := map[string]series{"warren": {notYet: []string{"x"}}, "pasta": {values: []float64{1}}}
	if got := ratioCell(notYet, false); got != "not yet" {
		t.Errorf("ratioCell without warren numbers = %q, want %q", got, "not yet")
	}
}

func TestTargetCell(t *testing.T) {
	sources := map[string]series{"warren": {values: []float64{20}}, "podman_default": {values: []float64{70}}}
	tests := []struct {
		t    target
		want string
	}{
		{target{fig: "x", against: "podman_default", want: 1.0 / 3, atMost: true}, "0.29 | yes"},
		{target{fig: "x", against: "podman_default", want: 1}, "0.29 | no"},
		{target{fig: "x", against: "loopback", want: 0.9}, "— | reference not measured"},
	}
	for _, tc := range tests {
		if got := targetCell(sources, tc.t); got != tc.want {
			t.Errorf("targetCell(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestRenderFloor(t *testing.T) {
	res := map[string]map[string]series{
		"tp_in": {
			"loopback": {values: []float64{20}},
			"relay":    {values: []float64{15}},
			"warren":   {values: []float64{12}},
		},
		"tp_in_R": {"loopback": {values: []float64{20}}, "warren": {values: []float64{12}}},
	}
	var b strings.Builder
	renderFloor(&b, res)
	if want := "`-p`: the relay 0.75 × host loopback, warren 0.80 × the relay."; !strings.Contains(b.String(), want) {
		t.Errorf("renderFloor wrote %q, want it to say %q", b.String(), want)
	}
	if strings.Contains(b.String(), "`-p -R`") {
		t.Errorf("renderFloor reported -R without a relay figure: %q", b.String())
	}
	b.Reset()
	renderFloor(&b, map[string]map[string]series{})
	if b.Len() != 0 {
		t.Errorf("renderFloor without relay figures wrote %q", b.String())
	}
}

// Every row of the results table, its header and its rule have as many
// cells as there are columns.
func TestResultsTableShape(t *testing.T) {
	res := map[string]map[string]series{
		"tp_in": {"loopback": {values: []float64{20}}, "relay": {values: []float64{15}}, "warren": {values: []float64{12}}},
	}
	var b strings.Builder
	render(&b, res, nil, params{})
	text := b.String()
	table := text[strings.Index(text, "| figure"):]
	lines := strings.Split(table[:strings.Index(table, "\n\n")], "\n")
	if len(lines) < 3 {
		t.Fatalf("results table too short:\n%s", table)
	}
	want := strings.Count(lines[0], "|")
	for _, l := range lines[1:] {
		if got := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); got != want {
			t.Errorf("row %q has %d bars, the header %d", l, got, want)
		}
	}
}
