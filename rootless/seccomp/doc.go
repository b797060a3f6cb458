// Package seccomp owns the containers' system call filter: Docker's default
// profile (github.com/moby/profiles/seccomp) or a user's, narrowed to the
// container's capabilities, this kernel and this machine's architectures as
// moby does it, compiled to classic BPF in pure Go with libseccomp's and
// runc's semantics, and installed by the container's processes just before
// they exec.
package seccomp
