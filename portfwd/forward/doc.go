// Package forward is warren's own RootlessKit port driver. It sits behind
// RootlessKit's port.ParentDriver and port.ChildDriver interfaces, so the
// bootstrap swaps it in for the builtin driver without other changes.
//
// The parent (the daemon, on the host) only binds: AddPort creates the
// listening socket on the host, so bind errors are the host's and come
// back synchronously, and hands that socket to the child over a unix
// socket (SCM_RIGHTS). The child, in the engine's network namespace,
// accepts on it, dials the container and lets the kernel move the bytes
// (splice) on epoll loops, one per core the runtime uses, each watching
// every TCP port (loop.go, tcp.go). No connection ever crosses the
// parent, and the control connection's end, on either side, closes every
// listener: when the daemon or its child dies, no port stays bound.
//
// TCP and UDP keep the client's source address for IPv4 clients that are
// not on loopback: the child's dialling socket (a UDP flow's, for UDP) is
// IP_TRANSPARENT, bound to the
// client's address, and a netlink-installed policy route plus a small
// nftables table (warren-portfwd) bring the container's replies back to it.
package forward
