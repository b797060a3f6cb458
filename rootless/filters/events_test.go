package filters

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
)

func TestParseEventsRefusesUnknownKeys(t *testing.T) {
	_, err := ParseEvents(Args{"type": {"container"}, "bogus": {"x"}})
	if !errdefs.IsInvalidArgument(err) || err.Error() != "invalid filter 'bogus'" {
		t.Fatalf("err = %v, want invalid filter 'bogus'", err)
	}
	if _, err := ParseEvents(Args{"container": {"web"}, "event": {"start"}, "label": {"a"}, "scope": {"local"}}); err != nil {
		t.Fatal(err)
	}
}

func TestEventsInclude(t *testing.T) {
	start := events.Message{Type: events.ContainerEventType, Action: "start", Scope: "local",
		Actor: events.Actor{ID: "4f2a9c", Attributes: map[string]string{"image": "busybox:1.36", "name": "web", "tier": "front"}}}
	exec := start
	exec.Action = "exec_start: sh -c ls"
	tag := events.Message{Type: events.ImageEventType, Action: "tag", Scope: "local",
		Actor: events.Actor{ID: "sha256:ab12", Attributes: map[string]string{"name": "127.0.0.1:5000/busybox:v2"}}}
	connect := events.Message{Type: events.NetworkEventType, Action: "connect", Scope: "local",
		Actor: events.Actor{ID: "9d8e", Attributes: map[string]string{"name": "bridge", "type": "bridge", "container": "4f2a9c"}}}
	for _, tc := range []struct {
		name string
		args Args
		m    events.Message
		want bool
	}{
		{"no filters", Args{}, start, true},
		{"event", Args{"event": {"start"}}, start, true},
		{"event ORed", Args{"event": {"die", "start"}}, start, true},
		{"event other", Args{"event": {"die"}}, start, false},
		{"event exact", Args{"event": {"exec_start: sh"}}, exec, false},
		{"exec_start is a prefix match", Args{"event": {"exec_start"}}, exec, true},
		{"exec_create prefix also lets exact ones in", Args{"event": {"exec_create", "start"}}, start, true},
		{"type", Args{"type": {"container"}}, start, true},
		{"type other", Args{"type": {"image"}}, start, false},
		{"types and event ANDed", Args{"type": {"image"}, "event": {"start"}}, start, false},
		{"scope", Args{"scope": {"local"}}, start, true},
		{"scope swarm", Args{"scope": {"swarm"}}, start, false},
		{"container by name", Args{"container": {"web"}}, start, true},
		{"container by ID prefix", Args{"container": {"4f2"}}, start, true},
		{"container by name prefix", Args{"container": {"we"}}, start, true},
		{"container other", Args{"container": {"db"}}, start, false},
		{"container filter drops image events", Args{"container": {"web"}}, tag, false},
		{"label key", Args{"label": {"tier"}}, start, true},
		{"label value", Args{"label": {"tier=front"}}, start, true},
		{"labels all required", Args{"label": {"tier=front", "x"}}, start, false},
		{"label on attributes", Args{"label": {"name=web"}}, start, true},
		{"label wrong value", Args{"label": {"tier=back"}}, start, false},
		{"image of a container", Args{"image": {"busybox:1.36"}}, start, true},
		{"image without tag", Args{"image": {"busybox"}}, start, true},
		{"image other", Args{"image": {"alpine"}}, start, false},
		{"image event by ID", Args{"image": {"sha256:ab12"}}, tag, true},
		{"image event by name", Args{"image": {"127.0.0.1:5000/busybox"}}, tag, true},
		{"image event by other name", Args{"image": {"busybox"}}, tag, false},
		{"network by name", Args{"network": {"bridge"}}, connect, true},
		{"network by ID", Args{"network": {"9d"}}, connect, true},
		{"network other", Args{"network": {"host"}}, connect, false},
		{"volume filter drops others", Args{"volume": {"data"}}, start, false},
		{"daemon filter drops others", Args{"daemon": {"x"}}, start, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseEvents(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Include(tc.m); got != tc.want {
				t.Errorf("Include = %v, want %v", got, tc.want)
			}
		})
	}
}
