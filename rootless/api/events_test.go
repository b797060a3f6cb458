package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	rootlessevents "warren/rootless/events"
)

func logStart(bus *rootlessevents.Bus, name string) {
	bus.Log(events.ContainerEventType, events.ActionStart, events.Actor{ID: fakeID(name), Attributes: map[string]string{"image": "busybox", "name": name}})
}

func logTag(bus *rootlessevents.Bus, name string) {
	bus.Log(events.ImageEventType, events.ActionTag, events.Actor{ID: "sha256:ab", Attributes: map[string]string{"name": name}})
}

func TestEventsUntilPastEndsAfterReplay(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	logStart(fake.bus, "a")
	logTag(fake.bus, "x:1")
	logStart(fake.bus, "b")
	now := fmt.Sprintf("%d.%09d", time.Now().Unix(), time.Now().Nanosecond())
	res := newClient(t, sock).Events(testContext(t), client.EventsListOptions{
		Since: "0", Until: now, Filters: make(client.Filters).Add("type", "container"),
	})
	var got []string
	for {
		select {
		case m := <-res.Messages:
			got = append(got, m.Actor.Attributes["name"]+" "+string(m.Action))
			continue
		case err := <-res.Err:
			if err != io.EOF {
				t.Fatalf("stream ended with %v, want EOF", err)
			}
		}
		break
	}
	if strings.Join(got, ",") != "a start,b start" {
		t.Fatalf("events = %q", got)
	}
}

func TestEventsStreamLive(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	logStart(fake.bus, "before") // no since: not replayed
	resp := rawRequest(t, sock, http.MethodGet, "/v1.50/events?filters="+url.QueryEscape(`{"event":{"start":true}}`), nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for fake.bus.Subscribers() == 0 {
		runtime.Gosched()
	}
	logTag(fake.bus, "x:1")
	logStart(fake.bus, "live")
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	if m["status"] != "start" || m["id"] != fakeID("live") || m["from"] != "busybox" || m["scope"] != "local" || m["Action"] != "start" {
		t.Fatalf("event = %s", line)
	}
}

func TestEventsBadRequests(t *testing.T) {
	sock := serve(t, newFakeBackend())
	for _, tc := range []struct{ query, want string }{
		{"filters=" + url.QueryEscape(`{"bogus":{"x":true}}`), "invalid filter 'bogus'"},
		{"since=20&until=10", "`since` time (20) cannot be after `until` time (10)"},
		{"since=yesterday", `invalid value for 'since': strconv.ParseInt: parsing "yesterday": invalid syntax`},
		{"until=1.x", `invalid value for 'until': strconv.ParseInt: parsing "x": invalid syntax`},
	} {
		resp := rawRequest(t, sock, http.MethodGet, "/v1.50/events?"+tc.query, nil)
		var body struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body.Message != tc.want {
			t.Errorf("%s: %d %q, want 400 %q", tc.query, resp.StatusCode, body.Message, tc.want)
		}
	}
}

// Clients that go away leave no subscription and no goroutine.
func TestEventsClientsLeaveNothing(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	c := newClient(t, sock)
	before := runtime.NumGoroutine()
	for range 20 {
		ctx, cancel := context.WithCancel(testContext(t))
		res := c.Events(ctx, client.EventsListOptions{})
		for fake.bus.Subscribers() == 0 {
			runtime.Gosched()
		}
		logStart(fake.bus, "x")
		<-res.Messages
		cancel()
		<-res.Err
		for fake.bus.Subscribers() != 0 {
			runtime.Gosched()
		}
	}
	c.Close()
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 2000 {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEventTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"1717000000", time.Unix(1717000000, 0)},
		{"1717000000.5", time.Unix(1717000000, 500000000)},
		{"1717000000.000000001", time.Unix(1717000000, 1)},
	} {
		got, err := eventTime("since", tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("eventTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzEventTime: no input panics, a refusal is a one-line 400, and what is
// accepted as "secs.frac" comes back as the same instant.
func FuzzEventTime(f *testing.F) {
	for _, s := range []string{"1717000000", "1717000000.5", "-1", "1.000000001", "1.x", "1e3", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := eventTime("since", s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !errdefs.IsInvalidArgument(err) {
				t.Errorf("eventTime(%q) error %q is not a one-line invalid argument", s, err)
			}
			return
		}
		secs, frac, _ := strings.Cut(s, ".")
		if len(frac) == 9 && strings.Trim(frac, "0123456789") == "" {
			sec, _ := strconv.ParseInt(secs, 10, 64)
			nsec, _ := strconv.ParseInt(frac, 10, 64)
			if got.Unix() != sec || int64(got.Nanosecond()) != nsec {
				t.Errorf("eventTime(%q) = %d.%09d", s, got.Unix(), got.Nanosecond())
			}
		}
	})
}
