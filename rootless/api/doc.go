// Package api serves the Docker Engine API over a Backend, so the real docker
// CLI, the moby Go client and the warren CLI all drive the engine the same
// way. It owns the wire: versioned routing, Docker's error bodies and status
// codes, hijacked attach and exec streams with Docker's framing, JSON message
// streams, and the response shapes older API versions expect. It knows
// nothing about containers beyond what Backend tells it.
package api
