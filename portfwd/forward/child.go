package forward

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
)

// Defaults for Child's fields.
const (
	// DefaultUDPIdleTimeout is Docker's userland proxy's UDP flow timeout.
	DefaultUDPIdleTimeout = 90 * time.Second
	DefaultUDPMaxFlows    = 4096
	DefaultDialTimeout    = 30 * time.Second
)

// Child is the half in the engine's network namespace: it serves the
// sockets the parent binds. Set its fields before RunChildDriver.
type Child struct {
	// UDPIdleTimeout ends a UDP client's flow after this long without a
	// packet either way.
	UDPIdleTimeout time.Duration
	// UDPMaxFlows bounds the UDP clients served at once per port; packets
	// from further clients are dropped until a flow ends.
	UDPMaxFlows int
	// DialTimeout bounds connecting to the container.
	DialTimeout time.Duration
	// NoTransparent turns off keeping TCP clients' source addresses.
	NoTransparent bool

	log         io.Writer
	transparent transparency

	mu    sync.Mutex
	ports map[int]forwarder
	loops []*loop // TCP's, from the first TCP port to the driver's end
}

// forwarder serves one published port until stop, which returns once
// every goroutine it started has ended.
type forwarder interface {
	stop()
}

// NewChildDriver returns the engine namespace's half, with the defaults;
// the result is a *Child.
func NewChildDriver(logWriter io.Writer) port.ChildDriver {
	return &Child{
		UDPIdleTimeout: DefaultUDPIdleTimeout,
		UDPMaxFlows:    DefaultUDPMaxFlows,
		DialTimeout:    DefaultDialTimeout,
		log:            logWriter,
	}
}

// RunChildDriver connects to the parent and serves its requests until
// quit or until the parent goes; either way every port is stopped, so
// the host ports close with the daemon.
func (d *Child) RunChildDriver(opaque map[string]string, quit <-chan struct{}, detachedNetNSPath string) error {
	if detachedNetNSPath != "" {
		// Dialling from another namespace needs a thread per dial in it.
		return errors.New("warren's port driver does not support a detached network namespace")
	}
	path := opaque[opaqueSocketPath]
	if path == "" {
		return errors.New("port driver: control socket path not set")
	}
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return fmt.Errorf("connect to the port driver parent: %w", err)
	}
	d.mu.Lock()
	d.ports = map[int]forwarder{}
	d.mu.Unlock()
	stopped := make(chan struct{})
	quitting := make(chan struct{})
	defer close(stopped)
	go func() {
		// RootlessKit sends one value on quit (it does not close it), so
		// this goroutine is the only one that may receive it.
		select {
		case <-quit:
			close(quitting)
		case <-stopped:
		}
		conn.Close()
	}()
	err = d.serve(conn)
	d.stopAll()
	d.mu.Lock()
	loops := d.loops
	d.loops = nil
	d.mu.Unlock()
	for _, l := range loops {
		l.close()
	}
	select {
	case <-quitting:
		return nil
	default:
	}
	if errors.Is(err, errEOF) {
		// The parent is gone: nothing to serve. RootlessKit's child still
		// sends quit, once, and blocks until it is received.
		<-quitting
		return nil
	}
	return err
}

func (d *Child) serve(conn *net.UnixConn) error {
	for {
		m, f, err := receive(conn)
		if err != nil {
			return err
		}
		rep := message{Op: opReply, Seq: m.Seq}
		if err := d.handle(m, f); err != nil {
			rep.Error = err.Error()
		}
		if err := send(conn, rep, -1); err != nil {
			return err
		}
	}
}

// handle runs one request; it owns f.
func (d *Child) handle(m message, f *os.File) error {
	switch m.Op {
	case opAdd:
		if f == nil {
			return errors.New("add: no socket passed")
		}
		return d.add(m.ID, m.Spec, f)
	case opRemove:
		closeFile(f)
		return d.remove(m.ID)
	}
	closeFile(f)
	return fmt.Errorf("unknown request %q", m.Op)
}

func (d *Child) add(id int, spec port.Spec, f *os.File) error {
	defer f.Close() // the forwarder holds its own descriptor
	target, err := childTarget(spec)
	if err != nil {
		return err
	}
	kind, _, err := splitProto(spec.Proto)
	if err != nil {
		return err
	}
	var fw forwarder
	if kind == "tcp" {
		fw, err = d.startTCP(f, target)
	} else {
		fw, err = d.startUDP(f, target)
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.ports[id]
	d.ports[id] = fw
	d.mu.Unlock()
	if old != nil { // a retried add: keep only the new one
		old.stop()
	}
	return nil
}

func (d *Child) remove(id int) error {
	d.mu.Lock()
	fw, ok := d.ports[id]
	delete(d.ports, id)
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown id: %d", id)
	}
	fw.stop()
	return nil
}

// tcpLoops returns the loops that serve TCP ports, started on first use:
// one per core the runtime uses, at most maxLoops.
func (d *Child) tcpLoops() ([]*loop, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loops == nil {
		for range min(runtime.GOMAXPROCS(0), maxLoops) {
			l, err := newLoop(d)
			if err != nil {
				for _, l := range d.loops {
					l.close()
				}
				d.loops = nil
				return nil, err
			}
			d.loops = append(d.loops, l)
		}
		spareProc(len(d.loops))
	}
	return d.loops, nil
}

// spareProc keeps a P (the runtime's right to run Go code) free beside
// loops that sit in epoll_wait. With none free, the runtime's monitor
// takes a blocked loop's P back every 20 µs and starts a thread to use
// it, which finds nothing to do and sleeps again: measured on 2 cores,
// a third fewer futex calls and about 5 % more short connections a
// second.
func spareProc(loops int) {
	if runtime.GOMAXPROCS(0) <= loops {
		runtime.GOMAXPROCS(loops + 1)
	}
}

// maxLoops: past a few, the kernel's own TCP work, not the loops, limits.
const maxLoops = 4

func (d *Child) stopAll() {
	d.mu.Lock()
	ports := d.ports
	d.ports = map[int]forwarder{}
	d.mu.Unlock()
	for _, fw := range ports {
		fw.stop()
	}
}

// childTarget is where the child dials: ChildIP, or RootlessKit's default
// 127.0.0.1.
func childTarget(spec port.Spec) (netip.AddrPort, error) {
	ip := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if spec.ChildIP != "" {
		var err error
		if ip, err = netip.ParseAddr(spec.ChildIP); err != nil {
			return netip.AddrPort{}, fmt.Errorf("invalid ChildIP: %q", spec.ChildIP)
		}
	}
	if spec.ChildPort <= 0 || spec.ChildPort > 65535 {
		return netip.AddrPort{}, fmt.Errorf("invalid ChildPort: %d", spec.ChildPort)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(spec.ChildPort)), nil
}

func (d *Child) logf(format string, args ...any) {
	if d.log != nil {
		fmt.Fprintf(d.log, format+"\n", args...)
	}
}
