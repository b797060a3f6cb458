package bootstrap

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestResolvePaths(t *testing.T) {
	home := func() (string, error) { return "/home/bob", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name    string
		env     map[string]string
		home    func() (string, error)
		want    Paths
		wantErr bool
	}{
		{"defaults", nil, home, Paths{"/tmp/warren-1000", "/home/bob/.local/share/warren"}, false},
		{"xdg", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_DATA_HOME": "/data"}, home,
			Paths{"/run/user/1000/warren", "/data/warren"}, false},
		{"warren overrides xdg", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "WARREN_RUNTIME_DIR": "/r", "WARREN_DATA_DIR": "/d"}, noHome,
			Paths{"/r", "/d"}, false},
		{"no home", nil, noHome, Paths{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolvePaths(func(k string) string { return tt.env[k] }, 1000, tt.home)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	p := Paths{"/run/user/1000/warren", "/d"}
	if p.Socket() != "/run/user/1000/warren/warren.sock" || p.RootlessKitAPISocket() != "/run/user/1000/warren/rootlesskit/api.sock" {
		t.Errorf("Socket %s, RootlessKitAPISocket %s", p.Socket(), p.RootlessKitAPISocket())
	}
}

const subuidFile = `# comment
root:10000:5
alice:100000:65536
1001:165536:65536

bob:231072:100
bad line
carol:x:1
dave:300000:0
`

func TestParseSubIDs(t *testing.T) {
	rs, err := parseSubIDs(strings.NewReader(subuidFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []idRange{{"root", 10000, 5}, {"alice", 100000, 65536}, {"1001", 165536, 65536}, {"bob", 231072, 100}}
	if !slices.Equal(rs, want) {
		t.Fatalf("got %v, want %v", rs, want)
	}
	for _, tt := range []struct {
		name string
		uid  int
		want int
	}{
		{"alice", 1000, 65536},
		{"warren", 1001, 65536}, // by uid
		{"bob", 1002, 100},
		{"carol", 1003, 0},
	} {
		if got := countFor(rs, tt.name, tt.uid); got != tt.want {
			t.Errorf("countFor(%s, %d) = %d, want %d", tt.name, tt.uid, got, tt.want)
		}
	}
}

func TestMissingSubIDs(t *testing.T) {
	alice := []idRange{{"alice", 100000, 65536}}
	tests := []struct {
		name       string
		user       string
		uids, gids []idRange
		want       string
	}{
		{"both present", "alice", alice, alice, ""},
		{"empty files", "bob", nil, nil,
			`no subordinate ids for user "bob" in /etc/subuid: ask an administrator to run "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 bob"`},
		{"suggests above the used ranges", "bob", alice, alice,
			`no subordinate ids for user "bob" in /etc/subuid: ask an administrator to run "usermod --add-subuids 165536-231071 --add-subgids 165536-231071 bob"`},
		{"gids only missing", "alice", alice, nil,
			`no subordinate ids for user "alice" in /etc/subgid: ask an administrator to run "usermod --add-subuids 165536-231071 --add-subgids 165536-231071 alice"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingSubIDs(tt.user, 4242, tt.uids, tt.gids); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseKernelRelease(t *testing.T) {
	tests := []struct {
		release string
		want    kernelVersion
		ok      bool
	}{
		{"6.1.0-18-amd64", kernelVersion{6, 1}, true},
		{"5.15.0-91-generic", kernelVersion{5, 15}, true},
		{"5.11", kernelVersion{5, 11}, true},
		{"4.19.0+", kernelVersion{4, 19}, true},
		{"6.8.0-rc1", kernelVersion{6, 8}, true},
		{"six.one", kernelVersion{}, false},
		{"6", kernelVersion{}, false},
	}
	for _, tt := range tests {
		got, err := parseKernelRelease(tt.release)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseKernelRelease(%q) = %v, %v; want %v, ok %v", tt.release, got, err, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		v    kernelVersion
		want bool
	}{{kernelVersion{5, 11}, true}, {kernelVersion{5, 10}, false}, {kernelVersion{6, 0}, true}, {kernelVersion{4, 20}, false}} {
		if got := tt.v.AtLeast(5, 11); got != tt.want {
			t.Errorf("%v.AtLeast(5, 11) = %v", tt.v, got)
		}
	}
}

func TestParseSysctlInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{{"1\n", 1, true}, {"  1024 \n", 1024, true}, {"0", 0, true}, {"", 0, false}, {"yes", 0, false}} {
		got, err := parseSysctlInt(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSysctlInt(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestValidateOptions(t *testing.T) {
	p := Paths{"/r", "/d"}
	ok := DefaultDaemonOptions(p)
	if _, err := ok.validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	zero, err := DaemonOptions{Paths: p}.validate()
	if err != nil || zero.MTU != DefaultMTU || zero.Subnet != DefaultSubnet || zero.PortRange != DefaultPortRange {
		t.Errorf("zero options: %+v, %v", zero, err)
	}
	for _, tt := range []struct {
		name string
		edit func(*DaemonOptions)
		want string
	}{
		{"mtu", func(o *DaemonOptions) { o.MTU = 70000 }, "invalid --mtu 70000: want 1280-65520"},
		{"subnet", func(o *DaemonOptions) { o.Subnet = "fd00::/64" }, `invalid --subnet "fd00::/64": want an IPv4 CIDR such as 172.17.0.0/16`},
		{"range", func(o *DaemonOptions) { o.PortRange = "60000-50000" }, `invalid --port-range "60000-50000": want START-END such as 49153-65535`},
		{"range form", func(o *DaemonOptions) { o.PortRange = "8080" }, `invalid --port-range "8080": want START-END such as 49153-65535`},
	} {
		o := ok
		tt.edit(&o)
		if _, err := o.validate(); err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestEngineArgs(t *testing.T) {
	p := Paths{"/r", "/d"}
	def := DefaultDaemonOptions(p)
	custom := def
	custom.MTU, custom.Subnet, custom.DisableHostLoopback, custom.ICC, custom.PortRange, custom.Debug =
		1500, "10.10.0.0/16", true, false, "50000-50100", true
	tests := []struct {
		name string
		o    DaemonOptions
		want []string
	}{
		{"defaults are left to the engine", def, []string{"--runtime-dir", "/r", "--data-dir", "/d"}},
		{"every option", custom, []string{"--runtime-dir", "/r", "--data-dir", "/d", "--mtu", "1500",
			"--subnet", "10.10.0.0/16", "--disable-host-loopback", "--icc=false", "--port-range", "50000-50100", "--debug"}},
	}
	for _, tt := range tests {
		if got := EngineArgs(tt.o); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLastMeaningfulLine(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"preflight", "warren daemon: starting\nwarren: no subordinate ids for user \"bob\" in /etc/subuid: ask…\n",
			`warren: no subordinate ids for user "bob" in /etc/subuid: ask…`},
		{"engine error wins over the generic exit", "warren daemon: starting\nwarren engine: listen: address in use\nwarren daemon: warning: x\nwarren: the engine exited: exit status 1\n",
			"warren engine: listen: address in use"},
		{"else the last line", "warren daemon: starting\n\nsomething odd\n\n", "something odd"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := lastMeaningfulLine(strings.NewReader(tt.log)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAppArmorProfile(t *testing.T) {
	got := appArmorProfile("/usr/local/bin/warren")
	for _, want := range []string{"profile warren /usr/local/bin/warren flags=(unconfined) {", "  userns,"} {
		if !strings.Contains(got, want) {
			t.Errorf("profile lacks %q:\n%s", want, got)
		}
	}
}

func TestChecksRun(t *testing.T) {
	// Checks reads the machine; on any machine it names every check once.
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.Name] {
			t.Errorf("check %q twice", c.Name)
		}
		seen[c.Name] = true
		if !c.OK && c.Fix == "" && c.Name != "subordinate ids" {
			t.Logf("check %q fails without a fix: %s", c.Name, c.Detail)
		}
	}
	for _, n := range []string{"subordinate uids", "subordinate gids", "newuidmap", "newgidmap", "ip", "nsenter", "/dev/net/tun",
		"unprivileged user namespaces", "kernel", "overlayfs in a user namespace", "unprivileged ports"} {
		if !seen[n] {
			t.Errorf("no check %q", n)
		}
	}
}
