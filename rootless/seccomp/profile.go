package seccomp

import (
	"slices"
	"strings"
	"sync"

	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// The profile names --security-opt seccomp= takes besides a profile's JSON.
const (
	Unconfined = "unconfined"
	Builtin    = "builtin"
)

// Runtime narrows a profile to a container, as moby's WithSeccomp does: nil
// means no filter. "unconfined" turns it off, and so does privileged unless
// the container names a profile of its own; "" and "builtin" are Docker's
// default profile; anything else is a profile's JSON (the docker CLI sends
// the file's content). caps is the container's capability set, which
// decides the profile's rules that depend on capabilities.
func Runtime(profile string, privileged bool, caps []string) (*specs.LinuxSeccomp, error) {
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
	switch {
	case profile == Unconfined:
		return nil, nil
	case privileged:
		// As moby: a privileged container only runs a profile given by
		// value; "builtin" is then decoded as JSON, and fails as in Docker.
		if profile == "" {
			return nil, nil
		}
		return profiles.LoadProfile(profile, rs)
	case profile == "" || profile == Builtin:
		return profiles.GetDefaultProfile(rs)
	}
	return profiles.LoadProfile(profile, rs)
}

// ForContainer is Runtime compiled for this machine. The default profile's
// programs are kept per capability set: most containers share one.
func ForContainer(profile string, privileged bool, caps []string) (*Program, error) {
	cacheable := !privileged && (profile == "" || profile == Builtin)
	key := ""
	if cacheable {
		sorted := slices.Clone(caps)
		slices.Sort(sorted)
		key = strings.Join(sorted, ",")
		cache.Lock()
		p, ok := cache.programs[key]
		cache.Unlock()
		if ok {
			return p, nil
		}
	}
	rt, err := Runtime(profile, privileged, caps)
	if err != nil || rt == nil {
		return nil, err
	}
	p, err := Compile(rt)
	if err != nil {
		return nil, err
	}
	if cacheable {
		cache.Lock()
		cache.programs[key] = p
		cache.Unlock()
	}
	return p, nil
}

var cache = struct {
	sync.Mutex
	programs map[string]*Program
}{programs: map[string]*Program{}}
