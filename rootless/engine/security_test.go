package engine

import (
	"testing"

	"github.com/moby/moby/api/types/container"
)

// Rows quote moby's parseSecurityOpt.
func TestParseSecurityOpt(t *testing.T) {
	for _, tt := range []struct {
		opts    []string
		seccomp string
		err     string
	}{
		{nil, "", ""},
		{[]string{"no-new-privileges", "no-new-privileges=true", "no-new-privileges:false"}, "", ""},
		{[]string{"label=disable", "label=type:svirt_t", "disable", "apparmor=unconfined", "writable-cgroups=true"}, "", ""},
		{[]string{"seccomp=unconfined"}, "unconfined", ""},
		{[]string{"seccomp:builtin"}, "builtin", ""},
		{[]string{"seccomp={}", "seccomp=unconfined"}, "unconfined", ""},
		{[]string{"foo"}, "", `invalid --security-opt 1: "foo"`},
		{[]string{"foo=bar"}, "", `invalid --security-opt 2: "foo=bar"`},
		{[]string{"systempaths=unconfined"}, "", `invalid --security-opt 2: "systempaths=unconfined"`},
		{[]string{"no-new-privileges=maybe"}, "", `invalid --security-opt 2: "no-new-privileges=maybe"`},
		{[]string{"writable-cgroups=2"}, "", `invalid --security-opt 2: "writable-cgroups=2"`},
	} {
		so, err := parseSecurityOpt(tt.opts)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.opts, err, tt.err)
			}
			continue
		}
		if err != nil || so.seccomp != tt.seccomp {
			t.Errorf("%q: seccomp %q, %v; want %q", tt.opts, so.seccomp, err, tt.seccomp)
		}
	}
}

func TestSeccompFor(t *testing.T) {
	for _, tt := range []struct {
		hc   container.HostConfig
		none bool
		err  string
	}{
		{container.HostConfig{}, false, ""},
		{container.HostConfig{SecurityOpt: []string{"seccomp=unconfined"}}, true, ""},
		{container.HostConfig{Privileged: true}, true, ""},
		{container.HostConfig{Privileged: true, SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`}}, false, ""},
		{container.HostConfig{SecurityOpt: []string{"seccomp=/x.json"}}, false,
			"Decoding seccomp profile failed: invalid character '/' looking for beginning of value"},
		{container.HostConfig{SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_NOPE"}`}}, false, `seccomp: unknown action "SCMP_ACT_NOPE"`},
		{container.HostConfig{SecurityOpt: []string{"bogus=1"}}, false, `invalid --security-opt 2: "bogus=1"`},
	} {
		err := checkSecurity(&tt.hc)
		p, _ := seccompFor(&tt.hc)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%+v: error %v, want %q", tt.hc.SecurityOpt, err, tt.err)
			}
			continue
		}
		if err != nil || (p == nil) != tt.none {
			t.Errorf("%v privileged=%v: program %v, %v; want none=%v", tt.hc.SecurityOpt, tt.hc.Privileged, p != nil, err, tt.none)
		}
	}
}
