// Package engine keeps containers: their state, lifecycle, logs and execs,
// behind the Docker Engine API (rootless/api.Backend). It runs inside the
// user namespace.
package engine

// Main is `warren __engine`: it serves the API until SIGTERM, then stops the
// containers and removes the socket.
func Main(args []string) error { panic("not implemented") }
