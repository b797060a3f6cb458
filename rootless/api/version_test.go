package api

import (
	"testing"
)

func TestSplitVersion(t *testing.T) {
	tests := []struct {
		path, version, rest, err string
	}{
		{path: "/_ping", version: DefaultVersion, rest: "/_ping"},
		{path: "/v1.50/containers/json", version: "1.50", rest: "/containers/json"},
		{path: "/v1.24/version", version: "1.24", rest: "/version"},
		{path: "/v1.56/version", version: "1.56", rest: "/version"},
		{path: "/v1.12/version", err: "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"},
		{path: "/v1.99/version", err: "client version 1.99 is too new. Maximum supported API version is 1.56"},
		{path: "/v2/version", err: "client version 2 is too new. Maximum supported API version is 1.56"},
		{path: "/version", version: DefaultVersion, rest: "/version"},
		// "/vx" is no version: routing answers 404 for it.
		{path: "/vx/version", version: DefaultVersion, rest: "/vx/version"},
		{path: "/v1.50", version: "1.50", rest: "/"},
	}
	for _, tt := range tests {
		v, rest, err := splitVersion(tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitVersion(%q) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || v != tt.version || rest != tt.rest {
			t.Errorf("splitVersion(%q) = %q, %q, %v; want %q, %q", tt.path, v, rest, err, tt.version, tt.rest)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.50", "1.50", 0},
		{"1.9", "1.10", -1},
		{"1.52", "1.50", 1},
		{"1.41", "1.42", -1},
		{"2", "1.99", 1},
		{"1.50.0", "1.50", 0},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
