package engine

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/distribution/reference"
	eventtypes "github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"

	"warren/rootless/events"
	"warren/rootless/filters"
)

// The engine's events, with Docker's actions and attributes (moby
// daemon/events.go, daemon/images/image_events.go). Each lifecycle point
// makes one call here.

// SubscribeEvents is GET /events's subscription; see api.Backend.
func (e *Engine) SubscribeEvents(_ context.Context, since, until time.Time, args map[string][]string) ([]events.Message, *events.Subscription, error) {
	f, err := filters.ParseEvents(args)
	if err != nil {
		return nil, nil, err
	}
	past, sub := e.events.Subscribe(since, until, func(m events.Message) bool { return f.Include(m.Message) })
	return past, sub, nil
}

// event publishes a container event: its labels, image and name, then
// the extra attributes given as key, value pairs. It reads only what never
// changes after create, so it may be called with or without c.mu.
func (c *Container) event(action eventtypes.Action, kv ...string) {
	if c.bus == nil {
		return
	}
	attrs := map[string]string{}
	for k, v := range c.rec.Config.Labels {
		attrs[k] = v
	}
	if c.rec.Config.Image != "" {
		attrs["image"] = c.rec.Config.Image
	}
	attrs["name"] = strings.TrimPrefix(c.rec.Name, "/")
	for i := 0; i+1 < len(kv); i += 2 {
		attrs[kv[i]] = kv[i+1]
	}
	c.bus.Log(eventtypes.ContainerEventType, action, eventtypes.Actor{ID: c.rec.ID, Attributes: attrs})
}

// diedLocked is the die event, sent with c.mu held once the exit is
// recorded and before waiters hear of it: a client that sees die and
// inspects finds the container exited, and one whose wait returned finds
// die already sent. execDuration is whole seconds, as moby's.
func (c *Container) diedLocked(code int) {
	ran := c.rec.State.FinishedAt.Sub(c.rec.State.StartedAt)
	c.event(eventtypes.ActionDie, "exitCode", strconv.Itoa(code), "execDuration", strconv.Itoa(int(ran.Seconds())))
}

// eventIfExited sends action if the run has ended (exited is closed): the
// stop event, deferred by stop, for a stop that worked.
func (c *Container) eventIfExited(exited <-chan struct{}, action eventtypes.Action) {
	select {
	case <-exited:
		c.event(action)
	default:
	}
}

// killed is kill's event: the signal by number.
func (c *Container) killed(sig syscall.Signal) {
	c.event(eventtypes.ActionKill, "signal", strconv.Itoa(int(sig)))
}

// execEvent is an exec's event on its container: exec_create and
// exec_start carry the command ("exec_start: sh -c ls", with moby's
// trailing space when there are no arguments), exec_die its exit code;
// exec_detach has only the exec's ID.
func (e *Engine) execEvent(x *execConfig, action eventtypes.Action, kv ...string) {
	e.mu.Lock()
	c := e.byID[x.containerID]
	e.mu.Unlock()
	if c == nil {
		return
	}
	if action == eventtypes.ActionExecCreate || action == eventtypes.ActionExecStart {
		action = eventtypes.Action(string(action) + ": " + x.req.Cmd[0] + " " + strings.Join(x.req.Cmd[1:], " "))
	}
	c.event(action, append([]string{"execID", x.id}, kv...)...)
}

// bridgeNetworkID names the default bridge in network events. warren has
// no network API yet, so no other answer shows it; it is fixed so events
// of one network share it.
const bridgeNetworkID = "8b3bbd4ba5ab0b2d6c8e0b6b7e5b9e2f4d0a6c1e9f7b3a2d5c8e1f0a4b6d9c3e"

// networkEvent is connect or disconnect of a container on the bridge.
func (e *Engine) networkEvent(action eventtypes.Action, containerID string) {
	e.events.Log(eventtypes.NetworkEventType, action, eventtypes.Actor{ID: bridgeNetworkID,
		Attributes: map[string]string{"container": containerID, "name": "bridge", "type": "bridge"}})
}

// imageEvent sends an image event: the image's labels (if it still
// exists) and name.
func (e *Engine) imageEvent(action eventtypes.Action, id, name string) {
	attrs := map[string]string{}
	if img, err := e.images.Get(id); err == nil {
		for k, v := range img.Config.Config.Labels {
			attrs[k] = v
		}
	}
	if name != "" {
		attrs["name"] = name
	}
	e.events.Log(eventtypes.ImageEventType, action, eventtypes.Actor{ID: id, Attributes: attrs})
}

// imagesEvent sends action for each image refs name, under its ID.
func (e *Engine) imagesEvent(action eventtypes.Action, refs ...string) {
	for _, ref := range refs {
		if img, err := e.images.Get(ref); err == nil {
			e.imageEvent(action, img.ID, img.ID)
		}
	}
}

// pulled is the pull event: ID "busybox:latest", name "busybox".
func (e *Engine) pulled(ref string) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return
	}
	named = reference.TagNameOnly(named)
	e.imageEvent(eventtypes.ActionPull, reference.FamiliarString(named), reference.FamiliarName(named))
}

// tagged is the tag event: the image's ID, named by the new reference.
func (e *Engine) tagged(target string) {
	named, err := reference.ParseNormalizedNamed(target)
	if err != nil {
		return
	}
	named = reference.TagNameOnly(named)
	if img, err := e.images.Get(reference.FamiliarString(named)); err == nil {
		e.imageEvent(eventtypes.ActionTag, img.ID, reference.FamiliarString(named))
	}
}

// removed sends untag for each name an rmi or prune took off id, and
// delete if the image itself went.
func (e *Engine) removed(id string, records []imagetypes.DeleteResponse) {
	for _, r := range records {
		switch {
		case r.Untagged != "":
			e.imageEvent(eventtypes.ActionUnTag, id, id)
		case r.Deleted == id:
			e.imageEvent(eventtypes.ActionDelete, id, id)
		}
	}
}

// loaded sends load for each image a load reported ("Loaded image: x",
// "Loaded image ID: sha256:…").
// An image loaded under several tags is one event, as in moby.
func (e *Engine) loaded(lines []string) {
	seen := map[string]bool{}
	for _, l := range lines {
		ref, ok := strings.CutPrefix(l, "Loaded image ID: ")
		if !ok {
			ref, ok = strings.CutPrefix(l, "Loaded image: ")
		}
		if img, err := e.images.Get(ref); ok && err == nil && !seen[img.ID] {
			seen[img.ID] = true
			e.imageEvent(eventtypes.ActionLoad, img.ID, img.ID)
		}
	}
}

// pruned is a prune's summary event, with the bytes it freed.
func (e *Engine) pruned(typ eventtypes.Type, reclaimed uint64) {
	e.events.Log(typ, eventtypes.ActionPrune, eventtypes.Actor{Attributes: map[string]string{"reclaimed": strconv.FormatUint(reclaimed, 10)}})
}
