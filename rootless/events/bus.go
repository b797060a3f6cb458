package events

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// Limit is how many past events are kept for since/until, as moby's
// eventsLimit (daemon/events/events.go).
const Limit = 256

// bufferSize is how many events a subscriber may be behind before it is
// disconnected; moby's publisher buffers as many (then waits 100 ms and
// drops the event for that subscriber instead).
const bufferSize = 1024

// Message is an event as Docker 28 sends it: the API type plus the
// deprecated status/id/from fields, which moby still fills for container
// and image events and old clients still read.
type Message struct {
	Status string `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	From   string `json:"from,omitempty"`
	events.Message
}

// Bus publishes events to subscribers and keeps the recent ones.
type Bus struct {
	mu     sync.Mutex // guards all below; held only for memory work, never I/O
	ring   []Message  // the last Limit events, oldest first
	subs   map[*Subscription]struct{}
	last   int64 // TimeNano of the newest event: times never go back
	closed bool  // the engine stopped: no new subscribers
	now    func() time.Time
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{ring: make([]Message, 0, Limit), subs: map[*Subscription]struct{}{}, now: time.Now}
}

// Log publishes a local event now, as moby's Events.Log: scope "local",
// and the deprecated fields for container and image events.
func (b *Bus) Log(typ events.Type, action events.Action, actor events.Actor) {
	m := Message{Message: events.Message{Type: typ, Action: action, Actor: actor, Scope: "local"}}
	switch typ {
	case events.ContainerEventType:
		m.Status, m.ID, m.From = string(action), actor.ID, actor.Attributes["image"]
	case events.ImageEventType:
		m.Status, m.ID = string(action), actor.ID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Stamped under the lock, so the ring and every subscriber see events
	// in time order.
	t := b.now().UnixNano()
	if t <= b.last {
		t = b.last + 1
	}
	b.last = t
	m.Time, m.TimeNano = t/int64(time.Second), t
	if len(b.ring) == Limit {
		copy(b.ring, b.ring[1:])
		b.ring = b.ring[:Limit-1]
	}
	b.ring = append(b.ring, m)
	for s := range b.subs {
		if s.include != nil && !s.include(m) {
			continue
		}
		select {
		case s.c <- m:
		default:
			// A whole buffer behind: disconnect rather than wait.
			b.dropLocked(s)
		}
	}
}

// Subscription is one subscriber's stream. C is closed by Close, or by the
// bus when the subscriber fell too far behind.
type Subscription struct {
	C       <-chan Message
	c       chan Message
	include func(Message) bool
	b       *Bus
}

// Subscribe registers a subscriber for the events include takes (nil: all)
// and returns the kept events between since and until it takes, oldest
// first. As in moby, nothing is replayed unless since or until is set; a
// zero time is no bound. Replay and registration are one step, so no event
// is missed or seen twice.
func (b *Bus) Subscribe(since, until time.Time, include func(Message) bool) ([]Message, *Subscription) {
	s := &Subscription{c: make(chan Message, bufferSize), include: include, b: b}
	s.C = s.c
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.c)
		return nil, s
	}
	var past []Message
	if !since.IsZero() || !until.IsZero() {
		for _, m := range b.ring {
			if !since.IsZero() && m.TimeNano < since.UnixNano() {
				continue
			}
			if !until.IsZero() && m.TimeNano > until.UnixNano() {
				continue
			}
			if include == nil || include(m) {
				past = append(past, m)
			}
		}
	}
	b.subs[s] = struct{}{}
	return past, s
}

// Close unsubscribes; it may be called more than once.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.dropLocked(s)
}

func (b *Bus) dropLocked(s *Subscription) {
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Close ends every subscription, and those made later at once, so the
// streams they feed end when the engine stops.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		b.dropLocked(s)
	}
}

// Subscribers is how many subscriptions are open.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
