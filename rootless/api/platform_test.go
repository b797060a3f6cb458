package api

import "testing"

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		want, have string
		match      bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"linux", "linux/amd64", true},
		{"linux/x86_64", "linux/amd64", true},
		{"linux/arm64", "linux/amd64", false},
		{"linux/aarch64", "linux/arm64/v8", true},
		{"linux/arm/v7", "linux/arm/v6", false},
		{"windows/amd64", "linux/amd64", false},
	}
	for _, tt := range tests {
		w, err := parsePlatform(tt.want)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := parsePlatform(tt.have)
		if got := platformMatches(w, h); got != tt.match {
			t.Errorf("%s on %s = %v", tt.want, tt.have, got)
		}
	}
	if _, err := parsePlatform("a/b/c/d"); err == nil {
		t.Error("a/b/c/d parsed")
	}
}

func TestCheckPullPlatform(t *testing.T) {
	native := nativePlatform()
	for _, tc := range []struct {
		platform string
		ok       bool
	}{
		{"", true},
		{native.String(), true},
		{native.OS, true},
		{"windows/" + native.Architecture, false},
		{"linux/s390x", false},
		{"a/b/c/d", false},
	} {
		err := checkPullPlatform(tc.platform)
		if (err == nil) != tc.ok {
			t.Errorf("checkPullPlatform(%q) = %v, want ok=%v", tc.platform, err, tc.ok)
		}
	}
}
