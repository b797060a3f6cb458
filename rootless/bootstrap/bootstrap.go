// Package bootstrap starts the per-user daemon: the RootlessKit parent on
// the host (id maps, network and port drivers), the child in the new
// namespaces, and the engine inside them; and auto-starts it for the CLI.
package bootstrap
