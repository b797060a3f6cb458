// Package uplink is warren's RootlessKit network driver for the namespace's
// uplink, tap0.
//
// It keeps the topology of RootlessKit's gvisor-tap-vsock driver (a gVisor
// netstack in the parent is the gateway of 10.0.2.0/24 and turns the
// namespace's TCP and UDP into host sockets) but removes the copy loop in the
// child: the child creates tap0 and hands its file descriptor to the parent
// over SCM_RIGHTS, so frames go between the tap device and the netstack in
// one process, one frame per read and per write, and nothing of the driver
// keeps running in the child.
//
// The package owns the uplink's addresses (gateway, DNS, host loopback, the
// namespace's own address) so that netstack and the engine use the same ones.
package uplink
