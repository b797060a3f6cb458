package bootstrap

import (
	"slices"
	"strings"
	"testing"

	"warren/internal/config"
)

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

// The engine gets the daemon's whole Config in its one encoded form.
func TestEngineArgs(t *testing.T) {
	c := config.Defaults(config.Paths{RuntimeDir: "/r", DataDir: "/d"})
	c.MTU, c.HostLoopback, c.ICC = 1500, true, false
	args := EngineArgs(c)
	if len(args) != 2 || args[0] != "--config" {
		t.Fatalf("EngineArgs = %q", args)
	}
	if got, err := config.Decode(args[1]); err != nil || got != c {
		t.Errorf("decoded %+v, %v; want %+v", got, err, c)
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
