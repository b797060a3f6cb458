// Package runtime runs container processes in their own namespaces: the
// re-executed `warren __init` that builds the root (overlay, pivot_root,
// /proc, /dev, /sys, /etc files, binds) and execs the user's command, and
// `exec` into a running container.
package runtime

import (
	"io"
	"os"
	"syscall"
)

// Mount is one -v bind.
type Mount struct {
	Source, Destination string
	ReadOnly            bool
}

// Spec describes a container's first process.
type Spec struct {
	ID       string
	Hostname string
	// Lowers are the image's unpacked layer folders, top-most first (overlay
	// lowerdir order); Upper and Work are the container's own folders; Rootfs
	// is an empty folder the root is mounted on.
	Lowers             []string
	Upper, Work, Rootfs string
	Args               []string // entrypoint + cmd; Args[0] is looked up in PATH inside the root
	Env                []string
	Cwd                string // "" = "/"
	User               string // "", "uid", "uid:gid", "name", "name:group"
	Tty                bool
	OpenStdin          bool
	Mounts             []Mount
	// Files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf.
	HostsPath, HostnamePath, ResolvConfPath string
	// NetNS: "" = a new network namespace (loopback up), "host" = the
	// engine's, or a path such as /proc/PID/ns/net to join.
	NetNS          string
	CapAdd, CapDrop []string
	Privileged     bool
	ReadonlyRootfs bool
}

// ExecSpec describes a process started in a running container.
type ExecSpec struct {
	Args            []string
	Env             []string
	Cwd             string
	User            string
	Tty             bool
	OpenStdin       bool
	Privileged      bool
	CapAdd, CapDrop []string
}

// Process is a container's init or exec process. With Tty, Console is the
// pty master (read output, write input) and Stdin/Stdout/Stderr are nil;
// otherwise Stdin is nil unless OpenStdin.
type Process struct {
	Pid     int
	Console *os.File
	Stdin   io.WriteCloser
	Stdout  io.ReadCloser
	Stderr  io.ReadCloser
}

// Create starts spec's init in new mount, pid, uts, ipc and (unless NetNS
// says otherwise) network namespaces and sets up its root; it returns with
// the init paused before exec, so the caller can wire the network.
func Create(spec *Spec) (*Process, error) { panic("not implemented") }

// Start lets a created init exec the user's command. Errors such as a
// missing executable come back here, in Docker's words.
func (p *Process) Start() error { panic("not implemented") }

// Wait waits for the process and returns its exit code (128+signal when killed).
func (p *Process) Wait() (int, error) { panic("not implemented") }

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { panic("not implemented") }

// Resize sets the pty's size; a no-op without a tty.
func (p *Process) Resize(height, width uint16) error { panic("not implemented") }

// Exec starts spec inside the namespaces and root of the container whose init is pid.
func Exec(pid int, spec *ExecSpec) (*Process, error) { panic("not implemented") }

// InitMain is `warren __init`: it never returns.
func InitMain() { panic("not implemented") }

// ExecMain is `warren __exec`: it never returns.
func ExecMain() { panic("not implemented") }
