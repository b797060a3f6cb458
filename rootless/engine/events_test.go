package engine

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"warren/rootless/api"
	"warren/rootless/events"
)

// eventLines are the engine's events so far as "type action attrs", the
// container and exec IDs replaced by their names.
func eventLines(t *testing.T, e *Engine, names map[string]string) []string {
	t.Helper()
	past, sub := e.events.Subscribe(time.Unix(1, 0), time.Time{}, nil)
	sub.Close()
	var out []string
	for _, m := range past {
		attrs := []string{}
		for _, k := range slices.Sorted(maps.Keys(m.Actor.Attributes)) {
			attrs = append(attrs, k+"="+m.Actor.Attributes[k])
		}
		line := fmt.Sprintf("%s %s %s (%s)", m.Type, m.Action, m.Actor.ID, strings.Join(attrs, ", "))
		for id, name := range names {
			line = strings.ReplaceAll(line, id, name)
		}
		out = append(out, line)
	}
	return out
}

func wantEvents(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestContainerLifecycleEvents(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "web", container.Config{Cmd: []string{"sleep"}, Labels: map[string]string{"tier": "front"}}, nil)
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	execID, err := e.ExecCreate(ctx, "web", &container.ExecCreateRequest{Cmd: []string{"fail"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ExecStart(ctx, execID, api.ExecStartOptions{Streams: api.Streams{Stdout: io.Discard, Stderr: io.Discard}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerStop(ctx, "web", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerRemove(ctx, "web", api.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	attrs := "image=busybox, name=web, tier=front"
	wantEvents(t, eventLines(t, e, map[string]string{id: "ID", execID: "EXEC"}), []string{
		"container create ID (" + attrs + ")",
		"container start ID (" + attrs + ")",
		"container exec_create: fail  ID (execID=EXEC, " + attrs + ")",
		"container exec_start: fail  ID (execID=EXEC, " + attrs + ")",
		"container exec_die ID (execID=EXEC, exitCode=3, " + attrs + ")",
		"container kill ID (image=busybox, name=web, signal=15, tier=front)",
		"container die ID (execDuration=0, exitCode=143, " + attrs + ")",
		"container stop ID (" + attrs + ")",
		"container destroy ID (" + attrs + ")",
	})
}

// rm -f kills with 9, and die comes before destroy.
func TestForcedRemoveEvents(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "db", container.Config{Cmd: []string{"sleep", "stubborn"}}, nil)
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerKill(ctx, "db", "TERM"); err != nil {
		t.Fatal(err)
	}
	if err := e.ContainerRemove(ctx, "db", api.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	attrs := "image=busybox, name=db"
	wantEvents(t, eventLines(t, e, map[string]string{id: "ID"}), []string{
		"container create ID (" + attrs + ")",
		"container start ID (" + attrs + ")",
		"container kill ID (" + attrs + ", signal=15)",
		"container kill ID (" + attrs + ", signal=9)",
		"container die ID (execDuration=0, exitCode=137, " + attrs + ")",
		"container destroy ID (" + attrs + ")",
	})
}

// A wait that returns finds die already sent, so `docker run` followed by
// `docker events --until now` sees it.
func TestDieSentBeforeWaitReturns(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	for i := range 20 {
		id := create(t, e, fmt.Sprint("c", i), container.Config{Cmd: []string{"echo", "hi"}}, nil)
		wait, err := e.ContainerWait(ctx, id, container.WaitConditionNextExit)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.ContainerStart(ctx, id); err != nil {
			t.Fatal(err)
		}
		<-wait
		past, sub := e.events.Subscribe(time.Unix(1, 0), time.Time{}, nil)
		sub.Close()
		if last := past[len(past)-1]; last.Action != "die" || last.Actor.ID != id || last.Actor.Attributes["exitCode"] != "0" {
			t.Fatalf("last event after wait: %s %s", last.Action, last.Actor.Attributes)
		}
	}
}

func TestImageEvents(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	if err := e.ImagePull(ctx, "busybox", nopProgress{}); err != nil {
		t.Fatal(err)
	}
	if err := e.ImageTag(ctx, "busybox", "busybox:latest"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ImageRemove(ctx, "busybox", false, false); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventLines(t, e, map[string]string{busybox.ID: "IMG"}), []string{
		"image pull busybox:latest (name=busybox)",
		"image tag IMG (name=busybox:latest)",
		"image untag IMG (name=IMG)",
	})
}

type nopProgress struct{}

func (nopProgress) Stream(string)                       {}
func (nopProgress) Status(string, string, int64, int64) {}

// A policy restart is die then start, with no restart event (moby's
// monitor); update sends update.
func TestPolicyRestartAndUpdateEvents(t *testing.T) {
	e, _, _ := newTestEngine(t)
	ctx := context.Background()
	id := create(t, e, "job", container.Config{Cmd: []string{"fail"}},
		&container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 1}})
	past, sub := e.events.Subscribe(time.Unix(1, 0), time.Time{}, func(m events.Message) bool { return m.Actor.ID == id })
	defer sub.Close()
	if err := e.ContainerStart(ctx, id); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range past {
		got = append(got, string(m.Action))
	}
	for dies := 0; dies < 2; {
		m := <-sub.C
		got = append(got, string(m.Action))
		if m.Action == "die" {
			dies++
		}
	}
	if _, err := e.ContainerUpdate(ctx, id, &container.UpdateConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}}); err != nil {
		t.Fatal(err)
	}
	got = append(got, string((<-sub.C).Action))
	if want := "create start die start die update"; strings.Join(got, " ") != want {
		t.Fatalf("events %q, want %s", got, want)
	}
}
