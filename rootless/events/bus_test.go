package events

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// clockBus is a bus whose clock advances one second per event, from t0.
func clockBus(t0 time.Time) *Bus {
	b := New()
	next := t0
	b.now = func() time.Time { next = next.Add(time.Second); return next.Add(-time.Second) }
	return b
}

func logStart(b *Bus, id string) {
	b.Log(events.ContainerEventType, events.ActionStart, events.Actor{ID: id, Attributes: map[string]string{"image": "busybox", "name": id}})
}

func ids(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Actor.ID)
	}
	return out
}

func TestLogFillsDockerFields(t *testing.T) {
	b := clockBus(time.Unix(1717000000, 123456789))
	b.Log(events.ContainerEventType, events.ActionStart, events.Actor{ID: "c1", Attributes: map[string]string{"image": "alpine", "name": "web"}})
	b.Log(events.ImageEventType, events.ActionTag, events.Actor{ID: "sha256:ab", Attributes: map[string]string{"name": "x:1"}})
	b.Log(events.NetworkEventType, events.ActionConnect, events.Actor{ID: "n1", Attributes: map[string]string{"container": "c1"}})
	past, s := b.Subscribe(time.Unix(1, 0), time.Time{}, nil)
	defer s.Close()
	want := []string{
		`{"status":"start","id":"c1","from":"alpine","Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"image":"alpine","name":"web"}},"scope":"local","time":1717000000,"timeNano":1717000000123456789}`,
		`{"status":"tag","id":"sha256:ab","Type":"image","Action":"tag","Actor":{"ID":"sha256:ab","Attributes":{"name":"x:1"}},"scope":"local","time":1717000001,"timeNano":1717000001123456789}`,
		`{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"container":"c1"}},"scope":"local","time":1717000002,"timeNano":1717000002123456789}`,
	}
	if len(past) != len(want) {
		t.Fatalf("replayed %d events, want %d", len(past), len(want))
	}
	for i, m := range past {
		got, _ := json.Marshal(m)
		if string(got) != want[i] {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

func TestSubscribeReplay(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := clockBus(t0) // event i is at t0+i s
	for i := range 5 {
		logStart(b, fmt.Sprint(i))
	}
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	onlyOdd := func(m Message) bool { return m.Actor.ID == "1" || m.Actor.ID == "3" }
	for _, tc := range []struct {
		name         string
		since, until time.Time
		include      func(Message) bool
		want         []string
	}{
		{"no bounds replays nothing", time.Time{}, time.Time{}, nil, []string{}},
		{"since", sec(2), time.Time{}, nil, []string{"2", "3", "4"}},
		{"until", time.Time{}, sec(1), nil, []string{"0", "1"}},
		{"both, inclusive", sec(1), sec(3), nil, []string{"1", "2", "3"}},
		{"filtered", sec(0), time.Time{}, onlyOdd, []string{"1", "3"}},
		{"since after all", sec(9), time.Time{}, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			past, s := b.Subscribe(tc.since, tc.until, tc.include)
			defer s.Close()
			if got := fmt.Sprint(ids(past)); got != fmt.Sprint(tc.want) {
				t.Errorf("replay = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRingKeepsLast256(t *testing.T) {
	b := clockBus(time.Unix(1000, 0))
	for i := range Limit + 10 {
		logStart(b, fmt.Sprint(i))
	}
	past, s := b.Subscribe(time.Unix(1, 0), time.Time{}, nil)
	s.Close()
	if len(past) != Limit || past[0].Actor.ID != "10" || past[Limit-1].Actor.ID != fmt.Sprint(Limit+9) {
		t.Fatalf("kept %d events from %s to %s, want %d from 10 to %d", len(past), past[0].Actor.ID, past[len(past)-1].Actor.ID, Limit, Limit+9)
	}
}

func TestLiveEventsInOrderAndFiltered(t *testing.T) {
	b := New()
	_, all := b.Subscribe(time.Time{}, time.Time{}, nil)
	defer all.Close()
	_, odd := b.Subscribe(time.Time{}, time.Time{}, func(m Message) bool { return m.Actor.ID == "1" || m.Actor.ID == "3" })
	defer odd.Close()
	for i := range 5 {
		logStart(b, fmt.Sprint(i))
	}
	var last int64
	for i := range 5 {
		m := <-all.C
		if m.Actor.ID != fmt.Sprint(i) || m.TimeNano <= last {
			t.Fatalf("event %d: id %s at %d after %d", i, m.Actor.ID, m.TimeNano, last)
		}
		last = m.TimeNano
	}
	if a, b := <-odd.C, <-odd.C; a.Actor.ID != "1" || b.Actor.ID != "3" {
		t.Fatalf("filtered subscriber got %s, %s; want 1, 3", a.Actor.ID, b.Actor.ID)
	}
	if n := len(odd.C); n != 0 {
		t.Fatalf("filtered subscriber has %d more events", n)
	}
}

// A subscriber that never reads is disconnected once its buffer is full;
// the publisher never waits, and the others keep their events.
func TestSlowSubscriberIsDisconnected(t *testing.T) {
	b := New()
	_, slow := b.Subscribe(time.Time{}, time.Time{}, nil)
	_, fast := b.Subscribe(time.Time{}, time.Time{}, nil)
	defer fast.Close()
	got := 0
	for i := range bufferSize + 1 {
		logStart(b, fmt.Sprint(i))
		<-fast.C
		got++
	}
	if got != bufferSize+1 {
		t.Fatalf("fast subscriber got %d events", got)
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != bufferSize {
		t.Fatalf("slow subscriber got %d events before its channel closed, want %d", n, bufferSize)
	}
	if b.Subscribers() != 1 {
		t.Fatalf("%d subscribers left, want 1", b.Subscribers())
	}
	slow.Close() // after the bus dropped it: no double close
}

// Subscribers that read in goroutines and then close leave no goroutine
// and no subscription behind.
func TestSubscribersLeaveNothing(t *testing.T) {
	b := New()
	before := runtime.NumGoroutine()
	done := make(chan struct{})
	subs := make([]*Subscription, 50)
	for i := range subs {
		_, subs[i] = b.Subscribe(time.Time{}, time.Time{}, nil)
		go func(s *Subscription) {
			for range s.C {
			}
			done <- struct{}{}
		}(subs[i])
	}
	for i := range 100 {
		logStart(b, fmt.Sprint(i))
	}
	for _, s := range subs {
		s.Close()
		s.Close()
	}
	for range subs {
		<-done
	}
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 1000 {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkLogTenSubscribers(b *testing.B) {
	bus := New()
	for range 10 {
		_, s := bus.Subscribe(time.Time{}, time.Time{}, nil)
		go func() {
			for range s.C {
			}
		}()
		defer s.Close()
	}
	for i := 0; b.Loop(); i++ {
		logStart(bus, "c")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	b := New()
	_, s := b.Subscribe(time.Time{}, time.Time{}, nil)
	b.Close()
	if _, ok := <-s.C; ok {
		t.Fatal("subscription still open after Close")
	}
	s.Close()
	_, late := b.Subscribe(time.Time{}, time.Time{}, nil)
	if _, ok := <-late.C; ok {
		t.Fatal("a subscription made after Close is open")
	}
	late.Close()
	logStart(b, "after") // still no panic, nothing to send to
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after Close", n)
	}
}
