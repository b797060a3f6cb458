package filters

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

var t0 = time.Date(2026, 1, 4, 13, 0, 0, 0, time.UTC)

// psFixture holds containers named as in Docker's `docker ps` filtering
// examples (docs reference/commandline/container_ls.md), newest first.
var psFixture = []Container{
	{ID: "9c3527ed70ce0001", Name: "/desperate_dubinsky", Created: t0.Add(5 * time.Minute), State: "running", Running: true, Started: true,
		Labels: map[string]string{"color": "blue"}, ImageID: "sha256:ubuntu2404", Health: "none",
		Networks: map[string]string{"net1": "8c0b4110ae930dbe"},
		Mounts:   []container.MountPoint{{Type: "volume", Name: "remote-volume", Destination: "/data"}}},
	{ID: "4aace50311050002", Name: "/focused_hamilton", Created: t0.Add(4 * time.Minute), State: "running", Running: true, Started: true,
		Labels: map[string]string{"color": "red", "a": "1", "b": "2"}, ImageID: "sha256:busybox", Health: "none",
		Networks: map[string]string{"bridge": ""},
		Ports:    []container.PortSummary{{PrivatePort: 80, PublicPort: 32768, Type: "tcp", IP: netip.MustParseAddr("0.0.0.0")}}},
	{ID: "6e63f6ff38b00003", Name: "/distracted_fermat", Created: t0.Add(3 * time.Minute), State: "running", Running: true, Started: true,
		Labels: map[string]string{"a": "1"}, ImageID: "sha256:busybox", Health: "none",
		Networks: map[string]string{"bridge": ""},
		Ports:    []container.PortSummary{{PrivatePort: 8080, Type: "tcp"}}},
	{ID: "ea09c3c82f6e0004", Name: "/nostalgic_stallman", Created: t0.Add(2 * time.Minute), State: "exited", Started: true, ExitCode: 0,
		Labels: map[string]string{"b": "2"}, ImageID: "sha256:busybox", Health: "none",
		Networks: map[string]string{"host": ""},
		Mounts:   []container.MountPoint{{Type: "bind", Source: "/srv/www", Destination: "/usr/share/www"}}},
	{ID: "b3e1c0ed5bfe0005", Name: "/i_am_nostalgic", Created: t0.Add(time.Minute), State: "exited", Started: true, ExitCode: 137,
		ImageID: "sha256:ubuntu2404", Health: "none", Networks: map[string]string{"none": ""}},
	{ID: "106ea823fe4e0006", Name: "/grave_kowalevski", Created: t0, State: "created", ImageID: "sha256:busybox", Health: "none",
		Networks: map[string]string{}},
}

func fixtureResolver() Resolver {
	return Resolver{
		Container: func(ref string) (Container, error) {
			for _, c := range psFixture {
				if c.ID == ref || c.Name == "/"+ref || len(ref) >= 4 && c.ID[:len(ref)] == ref {
					return c, nil
				}
			}
			return Container{}, errdefs.ErrNotFound.WithMessage("No such container: " + ref)
		},
		Image: func(ref string) (string, bool) {
			switch ref {
			case "busybox", "busybox:latest", "sha256:busybox":
				return "sha256:busybox", true
			case "ubuntu:24.04", "d0e008c6cf02":
				return "sha256:ubuntu2404", true
			}
			return "", false
		},
	}
}

// psNames lists the short names ps shows for args (with -a when all).
func psNames(t *testing.T, args Args, all bool) []string {
	t.Helper()
	p, err := ParsePs(args, fixtureResolver())
	if err != nil {
		t.Fatalf("ParsePs(%v): %v", args, err)
	}
	var out []string
	for _, c := range psFixture {
		if (all || p.All() || c.Running) && p.Match(c) {
			out = append(out, c.Name[1:])
		}
	}
	return out
}

func TestPsFilters(t *testing.T) {
	tests := []struct {
		doc  string // what Docker documents or does
		args Args
		all  bool
		want []string
	}{
		{`docker ps --filter "label=color"`, Args{"label": {"color"}}, false,
			[]string{"desperate_dubinsky", "focused_hamilton"}},
		{`docker ps --filter "label=color=blue"`, Args{"label": {"color=blue"}}, false,
			[]string{"desperate_dubinsky"}},
		// The case: every label must hold (compose's project and
		// service labels), never either.
		{`ps -a --filter label=a=1 --filter label=b=2`, Args{"label": {"a=1", "b=2"}}, true,
			[]string{"focused_hamilton"}},
		{`ps -a --filter label=a --filter label=b=2`, Args{"label": {"a", "b=2"}}, true,
			[]string{"focused_hamilton"}},
		{`a label filter never matches a container without labels`, Args{"label": {"a"}}, true,
			[]string{"focused_hamilton", "distracted_fermat"}},
		{`docker ps --filter "name=nostalgic_stallman"`, Args{"name": {"nostalgic_stallman"}}, true,
			[]string{"nostalgic_stallman"}},
		{`docker ps --filter "name=nostalgic" (a substring)`, Args{"name": {"nostalgic"}}, true,
			[]string{"nostalgic_stallman", "i_am_nostalgic"}},
		{`name is a regular expression, with or without the slash`, Args{"name": {"^/?focused_"}}, false,
			[]string{"focused_hamilton"}},
		{`name values are ORed`, Args{"name": {"^focused", "^distracted"}}, false,
			[]string{"focused_hamilton", "distracted_fermat"}},
		{`a name that is no regexp matches only itself`, Args{"name": {"["}}, true, nil},
		{`id is a prefix`, Args{"id": {"4aace5"}}, false, []string{"focused_hamilton"}},
		{`id is no substring`, Args{"id": {"ace5"}}, false, nil},
		{`docker ps -a --filter 'exited=0'`, Args{"exited": {"0"}}, true,
			[]string{"nostalgic_stallman"}},
		{`docker ps -a --filter 'exited=137'`, Args{"exited": {"137"}}, true,
			[]string{"i_am_nostalgic"}},
		{`exited alone does not list stopped containers (only useful with --all)`, Args{"exited": {"0"}}, false, nil},
		{`exited=0 skips a never-started container`, Args{"exited": {"0"}, "status": {"created"}}, false, nil},
		{`docker ps --filter status=running`, Args{"status": {"running"}}, false,
			[]string{"desperate_dubinsky", "focused_hamilton", "distracted_fermat"}},
		{`status lists stopped containers without -a; values are ORed`, Args{"status": {"exited", "created"}}, false,
			[]string{"nostalgic_stallman", "i_am_nostalgic", "grave_kowalevski"}},
		{`docker ps --filter status=paused`, Args{"status": {"paused"}}, false, nil},
		{`docker ps --filter ancestor=ubuntu:24.04`, Args{"ancestor": {"ubuntu:24.04"}}, true,
			[]string{"desperate_dubinsky", "i_am_nostalgic"}},
		{`docker ps --filter ancestor=d0e008c6cf02`, Args{"ancestor": {"d0e008c6cf02"}}, false,
			[]string{"desperate_dubinsky"}},
		{`an unknown ancestor matches nothing`, Args{"ancestor": {"alpine"}}, true, nil},
		{`ancestor values are ORed`, Args{"ancestor": {"alpine", "busybox"}}, false,
			[]string{"focused_hamilton", "distracted_fermat"}},
		{`docker ps -f before=9c3527ed70ce`, Args{"before": {"9c3527ed70ce"}}, false,
			[]string{"focused_hamilton", "distracted_fermat"}},
		{`docker ps -f since=6e63f6ff38b0`, Args{"since": {"6e63f6ff38b0"}}, false,
			[]string{"desperate_dubinsky", "focused_hamilton"}},
		{`before and since by name, with -a`, Args{"before": {"focused_hamilton"}, "since": {"i_am_nostalgic"}}, true,
			[]string{"distracted_fermat", "nostalgic_stallman"}},
		{`docker ps --filter volume=remote-volume`, Args{"volume": {"remote-volume"}}, false,
			[]string{"desperate_dubinsky"}},
		{`docker ps --filter volume=/data`, Args{"volume": {"/data"}}, false,
			[]string{"desperate_dubinsky"}},
		{`volume matches a bind's source`, Args{"volume": {"/srv/www"}}, true,
			[]string{"nostalgic_stallman"}},
		{`docker ps --filter network=net1`, Args{"network": {"net1"}}, false,
			[]string{"desperate_dubinsky"}},
		{`network by ID`, Args{"network": {"8c0b4110ae93"}}, false,
			[]string{"desperate_dubinsky"}},
		{`network values are ORed`, Args{"network": {"host", "none"}}, true,
			[]string{"nostalgic_stallman", "i_am_nostalgic"}},
		// Docker's example shows publish=80 matching -p 80 (host port
		// 32768); its code compares the host port, as this does.
		{`publish is the host port`, Args{"publish": {"32768"}}, false, []string{"focused_hamilton"}},
		{`publish=80 with -p 80 (host port 32768)`, Args{"publish": {"80"}}, false, nil},
		{`docker ps --filter expose=8000-8080/tcp`, Args{"expose": {"8000-8080/tcp"}}, false,
			[]string{"distracted_fermat"}},
		{`docker ps --filter publish=80/udp`, Args{"publish": {"80/udp"}}, false, nil},
		{`expose=80 (tcp by default)`, Args{"expose": {"80"}}, false, []string{"focused_hamilton"}},
		{`health=none: no warren container has a healthcheck`, Args{"health": {"none"}}, true,
			[]string{"desperate_dubinsky", "focused_hamilton", "distracted_fermat", "nostalgic_stallman", "i_am_nostalgic", "grave_kowalevski"}},
		{`health=healthy`, Args{"health": {"healthy"}}, true, nil},
		{`is-task=false matches every non-swarm container`, Args{"is-task": {"false"}}, false,
			[]string{"desperate_dubinsky", "focused_hamilton", "distracted_fermat"}},
		{`is-task=true`, Args{"is-task": {"true"}}, true, nil},
		{`isolation is accepted and ignored on Linux`, Args{"isolation": {"hyperv"}}, false,
			[]string{"desperate_dubinsky", "focused_hamilton", "distracted_fermat"}},
		{`keys are ANDed`, Args{"label": {"a=1"}, "status": {"running"}, "name": {"fermat"}}, false,
			[]string{"distracted_fermat"}},
	}
	for _, tt := range tests {
		if got := psNames(t, tt.args, tt.all); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.doc, got, tt.want)
		}
	}
}

func TestPsFilterErrors(t *testing.T) {
	tests := []struct {
		args     Args
		want     string
		notFound bool
	}{
		{Args{"color": {"red"}}, "invalid filter 'color'", false},
		{Args{"label!": {"a"}}, "invalid filter 'label!'", false},
		{Args{"status": {"foo"}}, "invalid filter 'status=foo': invalid value for state (foo): must be one of created, running, paused, restarting, removing, exited, dead", false},
		{Args{"exited": {"abc"}}, `invalid filter 'exited=abc': strconv.Atoi: parsing "abc": invalid syntax`, false},
		{Args{"health": {"sick"}}, "invalid filter 'health=sick': invalid value for health (sick): must be one of none, starting, healthy, unhealthy", false},
		{Args{"is-task": {"maybe"}}, "invalid filter 'is-task=[maybe]'", false},
		{Args{"is-task": {"true", "false"}}, "invalid filter 'is-task=[false true]'", false},
		{Args{"publish": {"80:80"}}, "filter for 'publish' should not contain ':': 80:80", false},
		{Args{"expose": {"http"}}, "error while looking up for expose http: invalid start port 'http': invalid syntax", false},
		{Args{"before": {"nosuch"}}, "No such container: nosuch", true},
		{Args{"since": {"nosuch"}}, "No such container: nosuch", true},
	}
	for _, tt := range tests {
		_, err := ParsePs(tt.args, fixtureResolver())
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParsePs(%v) = %v, want %q", tt.args, err, tt.want)
			continue
		}
		if tt.notFound != errdefs.IsNotFound(err) || !tt.notFound && !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParsePs(%v): error kind of %v is wrong", tt.args, err)
		}
	}
}
