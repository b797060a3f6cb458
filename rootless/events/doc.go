// Package events is the engine's event bus behind GET /events: it stamps
// Docker's event messages, keeps the last Limit of them for since/until
// replays, and hands each to the subscribers whose filter takes it. A
// publisher never waits for a subscriber: one that falls a whole buffer
// behind is disconnected (its channel closed), so the stream it feeds ends
// and its client can reconnect with since.
package events
