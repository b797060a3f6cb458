package engine

import (
	"context"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"syscall"

	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"

	"warren/netstack"
	"warren/portfwd"
	"warren/rootless/events"
	"warren/rootless/hostproc"
	"warren/rootless/image"
	"warren/rootless/sandbox"
)

// ImageStore is the part of *image.Store the engine uses; tests fake it.
type ImageStore interface {
	Get(ref string) (*image.Image, error)
	List() []*image.Image
	Load(ctx context.Context, r io.Reader) ([]string, error)
	Pull(ctx context.Context, ref string, progress image.PullProgress) (*image.Image, error)
	Import(ctx context.Context, r io.Reader, ref string, changes []string) (*image.Image, error)
	Save(ctx context.Context, refs []string, w io.Writer) error
	Tag(source, target string) error
	// Remove is Docker's rmi; layer folders the engine reports in use (see
	// SetLayerInUse) stay on disk even when their image goes.
	Remove(ref string, force bool) ([]imagetypes.DeleteResponse, error)
	// Delete is image prune's removal of an image with all its references;
	// it reports the bytes of the layers that went.
	Delete(id string) ([]imagetypes.DeleteResponse, int64, error)
	SetLayerInUse(f func(dir string) bool)
	Summary(img *image.Image) imagetypes.Summary
	Inspect(img *image.Image) imagetypes.InspectResponse
}

// process is a running container init or exec, as the engine sees it.
// With a tty, console carries both directions and stdout/stderr are nil.
type process interface {
	// Pid is the engine's: for signals and /proc/PID/ns. HostPid is the
	// host's, the one reported to users (inspect, exec inspect).
	Pid() int
	HostPid() int
	Console() io.ReadWriter
	Stdin() io.WriteCloser // nil unless OpenStdin
	Stdout() io.Reader
	Stderr() io.Reader
	// Start lets a created init exec the user's command (no-op for execs).
	Start() error
	Wait() (int, error)
	Signal(sig syscall.Signal) error
	Resize(height, width uint16) error
	// Close releases the engine's ends of the stdio once output is drained.
	Close()
}

// runner starts processes; the real one is package sandbox.
type runner interface {
	Create(spec *sandbox.Spec) (process, error)
	Exec(pid int, spec *sandbox.ExecSpec) (process, error)
}

// Network attaches containers in bridge mode to the engine's bridge
// (netstack's, adapted by rootless/wire). Without one, containers get
// loopback only.
type Network interface {
	Attach(ctx context.Context, id string, pid int) (*Endpoint, error)
	Detach(id string) error
	// AllowLink lets src reach dst on ports through --icc=false.
	AllowLink(src, dst netip.Addr, ports []netstack.PortProto) error
	// HostGateway is where containers reach the host
	// (host.warren.internal, --add-host x:host-gateway).
	HostGateway() netip.Addr
	// ResolvConf renders a container's resolv.conf from the engine's,
	// falling back to the uplink's DNS.
	ResolvConf(host []byte, dns, search, options []string) []byte
}

// Ports publishes containers' -p/-P on the host (*portfwd.Publisher).
type Ports interface {
	// Publish binds the container's ports; on error nothing stays bound.
	Publish(ctx context.Context, owner string, containerIP netip.Addr, exposed network.PortSet, bindings network.PortMap, publishAll bool) (*portfwd.Published, error)
	Unpublish(ctx context.Context, pub *portfwd.Published)
}

// Deps are the engine's parts. rootless/wire builds the real ones from the
// daemon's Config; unit tests pass fakes.
type Deps struct {
	Images  ImageStore
	Network Network     // nil: containers get loopback only
	Ports   Ports       // nil: nothing is published
	Events  *events.Bus // nil: a bus of its own
	runner  runner      // package sandbox unless a test sets one
}

// Endpoint is a container's address on the bridge.
type Endpoint struct {
	IP        netip.Addr
	PrefixLen int
	Gateway   netip.Addr
	MAC       net.HardwareAddr
	ID        string // Docker's EndpointID
}

// realRunner adapts package sandbox.
type realRunner struct{}

func (realRunner) Create(spec *sandbox.Spec) (process, error) {
	p, err := sandbox.Create(spec)
	if err != nil {
		return nil, err
	}
	return &runtimeProcess{p: p, hostPid: hostPid(p.Pid), started: false}, nil
}

func (realRunner) Exec(pid int, spec *sandbox.ExecSpec) (process, error) {
	p, err := sandbox.Exec(pid, spec)
	if err != nil {
		return nil, err
	}
	// Users see the command, not `warren __exec` that waits for it (and
	// passes on the signals sent to Pid).
	return &runtimeProcess{p: p, hostPid: hostPid(p.CommandPid), started: true}, nil
}

// hostPid is pid as the host sees it; 0 (Docker's "none") when that cannot
// be worked out, rather than a number that names some other host process.
func hostPid(pid int) int {
	host, err := hostproc.Pid(pid)
	if err != nil {
		log.Printf("engine: host pid of %d: %v", pid, err)
		return 0
	}
	return host
}

type runtimeProcess struct {
	p       *sandbox.Process
	hostPid int // translated while the process is the engine's unwaited child
	started bool
}

func (r *runtimeProcess) Pid() int { return r.p.Pid }

func (r *runtimeProcess) HostPid() int { return r.hostPid }

func (r *runtimeProcess) Console() io.ReadWriter {
	if r.p.Console == nil {
		return nil
	}
	return r.p.Console
}

func (r *runtimeProcess) Stdin() io.WriteCloser { return r.p.Stdin }

func (r *runtimeProcess) Stdout() io.Reader { return nilIfNone(r.p.Stdout) }

func (r *runtimeProcess) Stderr() io.Reader { return nilIfNone(r.p.Stderr) }

func nilIfNone(rc io.ReadCloser) io.Reader {
	if rc == nil {
		return nil
	}
	if f, ok := rc.(*os.File); ok && f == nil {
		return nil
	}
	return rc
}

func (r *runtimeProcess) Start() error {
	if r.started {
		return nil
	}
	r.started = true
	return r.p.Start()
}

func (r *runtimeProcess) Wait() (int, error) { return r.p.Wait() }

func (r *runtimeProcess) Signal(sig syscall.Signal) error { return r.p.Signal(sig) }

func (r *runtimeProcess) Resize(h, w uint16) error { return r.p.Resize(h, w) }

func (r *runtimeProcess) Close() {
	for _, c := range []io.Closer{r.p.Stdin, r.p.Stdout, r.p.Stderr, r.p.Console} {
		if c != nil && c != io.Closer((*os.File)(nil)) {
			c.Close()
		}
	}
}
