package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func TestPrintEvent(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	start := events.Message{Type: "container", Action: "start", Scope: "local", Time: 1733543729, TimeNano: 1733543729000123000,
		Actor: events.Actor{ID: "4f2a", Attributes: map[string]string{"name": "x", "image": "busybox", "a.label": "1"}}}
	for _, tc := range []struct {
		name, format string
		m            events.Message
		want         string
	}{
		{"default line, attributes sorted", "", start,
			"2024-12-07T03:55:29.000123000Z container start 4f2a (a.label=1, image=busybox, name=x)\n"},
		{"seconds only", "", events.Message{Type: "image", Action: "tag", Time: 1733543729, Actor: events.Actor{ID: "sha256:ab"}},
			"2024-12-07T03:55:29.000000000Z image tag sha256:ab\n"},
		{"template", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}", start, "container start x\n"},
		{"json", "json", events.Message{Type: "network", Action: "connect", Scope: "local", Actor: events.Actor{ID: "n"}},
			`{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":null},"scope":"local"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := eventTemplate(tc.format)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := printEvent(&out, tc.m, tmpl); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got  %q\nwant %q", out.String(), tc.want)
			}
		})
	}
}

func TestEventTemplateRefusesBadFields(t *testing.T) {
	for _, f := range []string{"{{.Nope}}", "{{.Type"} {
		if _, err := eventTemplate(f); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
}
