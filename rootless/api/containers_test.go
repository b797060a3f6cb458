package api

import (
	"reflect"
	"sort"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestParseFilters(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string][]string
		err  bool
	}{
		{raw: "", want: nil},
		{raw: `{"name":{"web":true},"status":{"exited":true}}`, want: map[string][]string{"name": {"web"}, "status": {"exited"}}},
		{raw: `{"status":{"exited":true,"created":true}}`, want: map[string][]string{"status": {"created", "exited"}}},
		{raw: `{"name":{"web":false}}`, want: map[string][]string{}},
		{raw: `{"name":["web","db"]}`, want: map[string][]string{"name": {"db", "web"}}},
		{raw: `{"name":`, err: true},
		{raw: `{"name":3}`, err: true},
	}
	for _, tt := range tests {
		got, err := parseFilters(tt.raw)
		if (err != nil) != tt.err {
			t.Errorf("parseFilters(%q) error = %v, want error %v", tt.raw, err, tt.err)
			continue
		}
		for _, v := range got {
			sort.Strings(v)
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseFilters(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestWaitCondition(t *testing.T) {
	tests := []struct {
		in   string
		want container.WaitCondition
		err  string
	}{
		{"", container.WaitConditionNotRunning, ""},
		{"not-running", container.WaitConditionNotRunning, ""},
		{"next-exit", container.WaitConditionNextExit, ""},
		{"removed", container.WaitConditionRemoved, ""},
		{"bogus", "", `invalid condition: "bogus"`},
	}
	for _, tt := range tests {
		got, err := waitCondition(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("waitCondition(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("waitCondition(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeCreate(t *testing.T) {
	ep := &network.EndpointSettings{Aliases: []string{"x"}}
	tests := []struct {
		name     string
		in       container.CreateRequest
		version  string
		wantMode container.NetworkMode
		wantEPs  []string
		autoRm   bool
	}{
		{
			name:     "cli default",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "default", AutoRemove: true}, NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"default": ep}}},
			version:  "1.50",
			wantMode: "bridge", wantEPs: []string{"bridge"}, autoRm: true,
		},
		{
			name:     "no host config",
			in:       container.CreateRequest{Config: &container.Config{}},
			version:  "1.50",
			wantMode: "bridge", wantEPs: []string{},
		},
		{
			name:     "host network kept",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "host"}},
			version:  "1.50",
			wantMode: "host", wantEPs: []string{},
		},
		{
			name:     "old clients remove --rm containers themselves",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{AutoRemove: true}},
			version:  "1.24",
			wantMode: "bridge", wantEPs: []string{}, autoRm: false,
		},
	}
	for _, tt := range tests {
		req := tt.in
		normalizeCreate(&req, tt.version)
		var eps []string
		for k := range req.NetworkingConfig.EndpointsConfig {
			eps = append(eps, k)
		}
		if eps == nil {
			eps = []string{}
		}
		if req.HostConfig.NetworkMode != tt.wantMode || !reflect.DeepEqual(eps, tt.wantEPs) || req.HostConfig.AutoRemove != tt.autoRm {
			t.Errorf("%s: mode %q eps %v autoRm %v; want %q %v %v", tt.name, req.HostConfig.NetworkMode, eps, req.HostConfig.AutoRemove, tt.wantMode, tt.wantEPs, tt.autoRm)
		}
	}
	if got := ep.Aliases; !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("endpoint settings lost in the move: %v", got)
	}
}
