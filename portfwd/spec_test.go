package portfwd

import (
	"encoding/json"
	"testing"
)

// Rows quote what the docker 28.2.2 CLI sends (docker-behavior.md 3.1).
func TestParsePublish(t *testing.T) {
	tests := []struct {
		specs    []string
		bindings string
		exposed  []string
	}{
		{[]string{"8080:80"}, `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}`, []string{"80/tcp"}},
		{[]string{"127.0.0.1::53/udp"}, `{"53/udp":[{"HostIp":"127.0.0.1","HostPort":""}]}`, []string{"53/udp"}},
		{[]string{"7000"}, `{"7000/tcp":[{"HostIp":"","HostPort":""}]}`, []string{"7000/tcp"}},
		{[]string{":80"}, `{"80/tcp":[{"HostIp":"","HostPort":""}]}`, []string{"80/tcp"}},
		{[]string{"5000-5002"}, `{"5000/tcp":[{"HostIp":"","HostPort":""}],"5001/tcp":[{"HostIp":"","HostPort":""}],"5002/tcp":[{"HostIp":"","HostPort":""}]}`, []string{"5000/tcp", "5001/tcp", "5002/tcp"}},
		{[]string{"8000-8001:80-81"}, `{"80/tcp":[{"HostIp":"","HostPort":"8000"}],"81/tcp":[{"HostIp":"","HostPort":"8001"}]}`, nil},
		{[]string{"8000-8010:80"}, `{"80/tcp":[{"HostIp":"","HostPort":"8000-8010"}]}`, nil},
		{[]string{"127.0.0.1:8080-8081:80"}, `{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080-8081"}]}`, nil},
		{[]string{"[::1]:9000-9001:9000-9001"}, `{"9000/tcp":[{"HostIp":"::1","HostPort":"9000"}],"9001/tcp":[{"HostIp":"::1","HostPort":"9001"}]}`, nil},
		{[]string{"::1:8080:80"}, `{"80/tcp":[{"HostIp":"::1","HostPort":"8080"}]}`, nil},
		{[]string{"[::1]::80"}, `{"80/tcp":[{"HostIp":"::1","HostPort":""}]}`, nil},
		{[]string{"0.0.0.0:6000:6000/sctp"}, `{"6000/sctp":[{"HostIp":"0.0.0.0","HostPort":"6000"}]}`, nil},
		{[]string{"8080:80/UDP"}, `{"80/udp":[{"HostIp":"","HostPort":"8080"}]}`, nil},
		{[]string{"published=8080,target=80,protocol=udp"}, `{"80/udp":[{"HostIp":"","HostPort":"8080"}]}`, nil},
		{[]string{"8080:80", "127.0.0.1:8081:80"}, `{"80/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"127.0.0.1","HostPort":"8081"}]}`, []string{"80/tcp"}},
	}
	for _, tt := range tests {
		exposed, bindings, err := ParsePublish(tt.specs)
		if err != nil {
			t.Errorf("ParsePublish(%q): %v", tt.specs, err)
			continue
		}
		got, _ := json.Marshal(bindings)
		if string(got) != tt.bindings {
			t.Errorf("ParsePublish(%q) bindings = %s, want %s", tt.specs, got, tt.bindings)
		}
		if len(exposed) != len(bindings) {
			t.Errorf("ParsePublish(%q): %d exposed for %d bound ports", tt.specs, len(exposed), len(bindings))
		}
		for _, p := range tt.exposed {
			found := false
			for e := range exposed {
				found = found || e.String() == p
			}
			if !found {
				t.Errorf("ParsePublish(%q): %s not exposed", tt.specs, p)
			}
		}
	}
}

func TestParsePublishErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"abc", "invalid containerPort: abc"},
		{"1.2.3.4:80", "invalid hostPort: 1.2.3.4"},
		{"70000:80", "invalid hostPort: 70000"},
		{"80/xyz", "invalid proto: xyz"},
		{"8000-8010:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8010"},
		{"300.1.1.1:80:80", "invalid IP address: 300.1.1.1"},
		{"8080:", "no port specified: 8080:<empty>"},
		{"published", "invalid containerPort: published"},
		{"published=80,bogus", "invalid publish opts format (should be name=value but got 'bogus')"},
	}
	for _, tt := range tests {
		_, _, err := ParsePublish([]string{tt.spec})
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParsePublish(%q) error = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestParseExpose(t *testing.T) {
	exposed, err := ParseExpose([]string{"3000", "4000-4001/udp"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(exposed)
	if want := `{"3000/tcp":{},"4000/udp":{},"4001/udp":{}}`; string(got) != want {
		t.Errorf("ParseExpose = %s, want %s", got, want)
	}
	for spec, want := range map[string]string{
		"80:80": "invalid port format for --expose: 80:80",
		"abc":   "invalid range format for --expose: abc, error: invalid start port 'abc': invalid syntax",
	} {
		if _, err := ParseExpose([]string{spec}); err == nil || err.Error() != want {
			t.Errorf("ParseExpose(%q) error = %v, want %q", spec, err, want)
		}
	}
}

func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{"8080:80", "127.0.0.1::53/udp", "[::1]:9000-9001:9000-9001", "published=1,target=2", "5000-5002", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		exposed, bindings, err := ParsePublish([]string{spec})
		if err != nil {
			return
		}
		for port, bs := range bindings {
			if _, ok := exposed[port]; !ok {
				t.Fatalf("%q: bound port %v not exposed", spec, port)
			}
			if len(bs) == 0 {
				t.Fatalf("%q: port %v without binding", spec, port)
			}
		}
	})
}
