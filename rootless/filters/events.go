package filters

import (
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/events"
)

// eventKeys are the keys moby's event filter (daemon/events/filter.go)
// looks at. moby takes any key and ignores the ones it does not know;
// warren refuses them, so a misspelt filter does not quietly match
// everything.
var eventKeys = []string{"config", "container", "daemon", "event", "image", "label", "network",
	"node", "plugin", "scope", "secret", "service", "type", "volume"}

// nameKeys are the keys matched against the actor's ID or name attribute
// (by prefix), for events of the type of the same name.
var nameKeys = []string{"config", "container", "daemon", "network", "node", "plugin", "secret", "service", "volume"}

// Events is a parsed set of GET /events filters.
type Events struct{ args Args }

// ParseEvents checks args as GET /events takes them.
func ParseEvents(args Args) (*Events, error) {
	if err := args.validate(eventKeys...); err != nil {
		return nil, err
	}
	return &Events{args: args}, nil
}

// Include is moby's Filter.Include: values of one key are ORed, keys are
// ANDed; label values must all hold on the attributes.
func (f *Events) Include(m events.Message) bool {
	if !f.matchEvent(string(m.Action)) || !f.exact("type", string(m.Type)) || !f.exact("scope", m.Scope) {
		return false
	}
	for _, k := range nameKeys {
		if !f.fuzzy(k, m.Actor.ID) && !f.fuzzy(k, m.Actor.Attributes["name"]) {
			return false
		}
	}
	return f.matchImage(m) && matchAllLabels(f.args["label"], m.Actor.Attributes)
}

// matchEvent is exact, but a prefix match when a value is one of the
// actions that carry a suffix ("exec_start: sh -c ls").
func (f *Events) matchEvent(action string) bool {
	for _, v := range f.args["event"] {
		if v == "health_status" || v == "exec_create" || v == "exec_start" {
			return f.fuzzy("event", action)
		}
	}
	return f.exact("event", action)
}

// exact is Docker's ExactMatch: no values match everything.
func (f *Events) exact(key, s string) bool {
	values := f.args[key]
	return len(values) == 0 || slices.Contains(values, s)
}

// fuzzy is Docker's FuzzyMatch: a value equal to s or a prefix of it.
func (f *Events) fuzzy(key, s string) bool {
	values := f.args[key]
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if strings.HasPrefix(s, v) {
			return true
		}
	}
	return false
}

// matchImage takes image events by their ID or name, and container events
// by their image attribute, each with or without its tag.
func (f *Events) matchImage(m events.Message) bool {
	attr := "image"
	if m.Type == events.ImageEventType {
		attr = "name"
	}
	name := m.Actor.Attributes[attr]
	return f.exact("image", m.Actor.ID) || f.exact("image", name) ||
		f.exact("image", stripTag(m.Actor.ID)) || f.exact("image", stripTag(name))
}

// stripTag is "busybox:1" → "busybox"; what does not parse stays.
func stripTag(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarName(named)
}
