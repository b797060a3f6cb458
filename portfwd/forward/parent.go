package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/api"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/portutil"
)

// DriverName is what Info reports and `rootlesskit info` shows.
const DriverName = "warren"

// opaqueSocketPath is the key under which the child finds the parent's
// control socket.
const opaqueSocketPath = "warren.forward.socketpath"

// socketName is the control socket in RootlessKit's state folder.
const socketName = ".wp.sock"

// replyTimeout bounds how long AddPort and RemovePort wait for the child
// when the caller's context has no deadline.
const replyTimeout = 10 * time.Second

// errChildGone is returned once the child's control connection ended.
var errChildGone = errors.New("port driver child is not running")

// parentDriver binds host ports and hands them to the child.
type parentDriver struct {
	log        io.Writer
	socketPath string
	ln         *net.UnixListener // until the child connects

	connected chan struct{} // closed when conn is set
	conn      *net.UnixConn
	writeMu   sync.Mutex // one packet at a time, in Seq order

	mu      sync.Mutex
	seq     uint64
	waiting map[uint64]chan message
	ports   map[int]*bound
	nextID  int
	gone    bool // the child's connection ended: nothing more is served
}

// bound is one published port: its status and the parent's copy of the
// host socket, kept until RemovePort so ListPorts tells the truth.
type bound struct {
	status port.Status
	sock   io.Closer
}

// NewParentDriver returns the daemon's half. It listens on its control
// socket in stateDir right away, so the child can connect whenever it
// starts; only the first connection is served.
func NewParentDriver(logWriter io.Writer, stateDir string) (port.ParentDriver, error) {
	path := filepath.Join(stateDir, socketName)
	// A crashed daemon leaves its socket behind.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return &parentDriver{
		log:        logWriter,
		socketPath: path,
		ln:         ln,
		connected:  make(chan struct{}),
		waiting:    map[uint64]chan message{},
		ports:      map[int]*bound{},
		nextID:     1,
	}, nil
}

func (d *parentDriver) Info(context.Context) (*api.PortDriverInfo, error) {
	return &api.PortDriverInfo{
		Driver: DriverName,
		Protos: []string{"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"},
	}, nil
}

func (d *parentDriver) OpaqueForChild() map[string]string {
	return map[string]string{opaqueSocketPath: d.socketPath}
}

// RunParentDriver waits for the child's connection, then serves until
// quit. When the child goes, every host socket is closed at once.
func (d *parentDriver) RunParentDriver(initComplete chan struct{}, quit <-chan struct{}, _ *port.ChildContext) error {
	conn, err := d.acceptChild(quit)
	if err != nil {
		select {
		case <-quit:
			return nil // stopped before the child came: nothing to serve
		default:
			return err
		}
	}
	d.conn = conn
	close(d.connected)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		d.readReplies(conn)
	}()
	select {
	case initComplete <- struct{}{}:
	case <-quit:
	}
	<-quit
	conn.Close()
	<-readDone
	return nil
}

// acceptChild takes the child's connection and removes the socket file,
// so nobody else can connect later.
func (d *parentDriver) acceptChild(quit <-chan struct{}) (*net.UnixConn, error) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-quit:
			d.ln.Close()
		case <-stop:
		}
	}()
	defer os.Remove(d.socketPath)
	defer d.ln.Close()
	for {
		conn, err := d.ln.AcceptUnix()
		if err != nil {
			return nil, fmt.Errorf("wait for the port driver child: %w", err)
		}
		if sameUser(conn) {
			return conn, nil
		}
		fmt.Fprintf(d.log, "refused a control connection from another user\n")
		conn.Close()
	}
}

// sameUser reports whether the peer runs as our uid (the child is root
// in its user namespace, which the kernel translates back to us).
func sameUser(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var uid uint32 = ^uint32(0)
	_ = raw.Control(func(fd uintptr) {
		cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		if err == nil {
			uid = cred.Uid
		}
	})
	return int(uid) == os.Getuid()
}

// readReplies hands each reply to its waiter. When the child is gone it
// fails the waiters and closes every host socket: the ports are released
// with the child, not left bound with nobody accepting.
func (d *parentDriver) readReplies(conn *net.UnixConn) {
	for {
		m, f, err := receive(conn)
		closeFile(f) // the child never sends files
		if err != nil {
			break
		}
		d.mu.Lock()
		ch, ok := d.waiting[m.Seq]
		delete(d.waiting, m.Seq)
		d.mu.Unlock()
		if ok {
			ch <- m
		}
	}
	d.mu.Lock()
	d.gone = true
	for seq, ch := range d.waiting {
		close(ch)
		delete(d.waiting, seq)
	}
	ports := d.ports
	d.ports = map[int]*bound{}
	d.mu.Unlock()
	for _, b := range ports {
		b.sock.Close()
	}
}

// call sends a request (with fd, if >= 0) and waits for its reply.
func (d *parentDriver) call(ctx context.Context, m message, fd int) error {
	select {
	case <-d.connected:
	case <-ctx.Done():
		return fmt.Errorf("wait for the port driver child: %w", ctx.Err())
	}
	ch := make(chan message, 1)
	d.mu.Lock()
	if d.gone {
		d.mu.Unlock()
		return errChildGone
	}
	d.seq++
	m.Seq = d.seq
	d.waiting[m.Seq] = ch
	d.mu.Unlock()

	d.writeMu.Lock()
	err := send(d.conn, m, fd)
	d.writeMu.Unlock()
	if err != nil {
		d.forget(m.Seq)
		return err
	}
	select {
	case rep, ok := <-ch:
		if !ok {
			return errChildGone
		}
		if rep.Error != "" {
			return errors.New(rep.Error)
		}
		return nil
	case <-ctx.Done():
		d.forget(m.Seq)
		return fmt.Errorf("wait for the port driver child: %w", ctx.Err())
	}
}

func (d *parentDriver) forget(seq uint64) {
	d.mu.Lock()
	delete(d.waiting, seq)
	d.mu.Unlock()
}

// AddPort binds the host socket here, so a bind error is the host's own
// ("address already in use", EPERM below ip_unprivileged_port_start), and
// returns only once the child serves it.
func (d *parentDriver) AddPort(ctx context.Context, spec port.Spec) (*port.Status, error) {
	if err := d.validate(spec); err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	sock, fd, err := bindHost(ctx, spec)
	if err != nil {
		if isEPERM(err) {
			err = annotateEPERM(err, spec)
		}
		return nil, err
	}
	d.mu.Lock()
	id := d.nextID
	d.nextID++
	d.mu.Unlock()

	err = d.call(ctx, message{Op: opAdd, ID: id, Spec: spec}, fd)
	if err != nil {
		sock.Close()
		if ctx.Err() != nil {
			// The child may have started serving before ctx ended.
			d.undoAdd(ctx, id)
		}
		return nil, fmt.Errorf("hand %s port %s to the port driver child: %w", spec.Proto, hostAddr(spec), err)
	}
	st := port.Status{ID: id, Spec: spec}
	d.mu.Lock()
	if d.gone { // the child died meanwhile and took the port with it
		d.mu.Unlock()
		sock.Close()
		return nil, errChildGone
	}
	d.ports[id] = &bound{status: st, sock: sock}
	d.mu.Unlock()
	return &st, nil
}

// undoAdd tells the child to drop a port whose AddPort failed late.
func (d *parentDriver) undoAdd(ctx context.Context, id int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	defer cancel()
	_ = d.call(ctx, message{Op: opRemove, ID: id}, -1)
}

func (d *parentDriver) validate(spec port.Spec) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	existing := make(map[int]*port.Status, len(d.ports))
	for id, b := range d.ports {
		existing[id] = &b.status
	}
	if err := portutil.ValidatePortSpec(spec, existing); err != nil {
		return err
	}
	if _, _, err := splitProto(spec.Proto); err != nil {
		return err
	}
	return nil
}

func (d *parentDriver) ListPorts(context.Context) ([]port.Status, error) {
	d.mu.Lock()
	ports := make([]port.Status, 0, len(d.ports))
	for _, b := range d.ports {
		ports = append(ports, b.status)
	}
	d.mu.Unlock()
	sort.Slice(ports, func(i, j int) bool { return ports[i].ID < ports[j].ID })
	return ports, nil
}

// RemovePort stops the child's forwarding (its listener and connections)
// and closes the parent's copy: then nothing holds the host port.
func (d *parentDriver) RemovePort(ctx context.Context, id int) error {
	d.mu.Lock()
	b, ok := d.ports[id]
	delete(d.ports, id)
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown id: %d", id)
	}
	defer b.sock.Close()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if err := d.call(ctx, message{Op: opRemove, ID: id}, -1); err != nil && !errors.Is(err, errChildGone) {
		return fmt.Errorf("remove port %d: %w", id, err)
	}
	return nil
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, replyTimeout)
}

func hostAddr(spec port.Spec) string {
	return net.JoinHostPort(spec.ParentIP, strconv.Itoa(spec.ParentPort))
}
