// Package bootstrap starts the per-user daemon: the RootlessKit parent on
// the host (id maps, network and port drivers), the child in the new
// namespaces, and the engine inside them; and auto-starts it for the CLI.
package bootstrap

// IsChild tells whether this process is the RootlessKit child re-executed by
// the daemon's parent half.
func IsChild() bool { return false }

// ChildMain runs the RootlessKit child; it never returns.
func ChildMain() { panic("not implemented") }
