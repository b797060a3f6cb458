package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseSecurityOpts(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "profile.json")
	if err := os.WriteFile(good, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	for _, tt := range []struct {
		in   []string
		want []string
		err  string
	}{
		{nil, []string{}, ""},
		{[]string{"no-new-privileges"}, []string{"no-new-privileges"}, ""},
		{[]string{"seccomp=unconfined", "seccomp=builtin", "apparmor=unconfined", "label:disable"},
			[]string{"seccomp=unconfined", "seccomp=builtin", "apparmor=unconfined", "label:disable"}, ""},
		{[]string{"seccomp=" + good}, []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}, ""},
		{[]string{"foo=bar"}, []string{"foo=bar"}, ""}, // the daemon refuses unknown keys
		{[]string{"foo"}, nil, `Invalid --security-opt: "foo"`},
		{[]string{"seccomp="}, nil, `Invalid --security-opt: "seccomp="`},
		{[]string{"seccomp=" + missing}, nil, "opening seccomp profile (" + missing + ") failed: open " + missing + ": no such file or directory"},
		{[]string{"seccomp=" + bad}, nil, "compacting json for seccomp profile (" + bad + ") failed: invalid character 'n' looking for beginning of object key string"},
	} {
		got, err := parseSecurityOpts(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%v: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%v = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSecurityOptRequest(t *testing.T) {
	m := requestJSON(t, parseRun(t, "--security-opt", "systempaths=unconfined", "--security-opt", "seccomp=unconfined", "busybox"), true)
	hc := m["HostConfig"].(map[string]any)
	if got := jsonOf(hc["SecurityOpt"]); got != `["seccomp=unconfined"]` {
		t.Errorf("SecurityOpt %s", got)
	}
	if got := jsonOf(hc["MaskedPaths"]) + jsonOf(hc["ReadonlyPaths"]); got != "[][]" {
		t.Errorf("systempaths=unconfined sent MaskedPaths+ReadonlyPaths %s, want empty lists", got)
	}
	m = requestJSON(t, parseRun(t, "busybox"), true)
	hc = m["HostConfig"].(map[string]any)
	if v := hc["MaskedPaths"]; v != nil {
		t.Errorf("MaskedPaths sent without systempaths: %s", jsonOf(v))
	}
}
