package forward

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// TCP is forwarded by event loops (loop.go), one per core up to a few,
// shared by every published port: they accept, dial the container without
// blocking and move the bytes with splice(2), each direction through a
// pipe, so they stay in the kernel. Go's netpoller could do the same with
// a goroutine per direction, but every step of a short connection would
// then be a wake between threads, and those wakes were most of the
// forwarder's latency.

// tcpPort is one published TCP port: its listener, watched by every loop;
// the kernel wakes one loop per new connection (EPOLLEXCLUSIVE), which
// then serves that connection to its end.
type tcpPort struct {
	fd     int
	target netip.AddrPort
	in     []*tcpListener
}

// tcpListener is a port as one loop sees it. Its loop's only.
type tcpListener struct {
	port  *tcpPort
	loop  *loop
	key   uint64 // 0 while not watched
	conns map[*tcpConn]struct{}
	// backoff after accept fails for want of descriptors or memory.
	backoff time.Duration
	closed  bool
}

// listenEvents: level-triggered, and only one waiting loop woken.
const listenEvents = unix.EPOLLIN | unix.EPOLLEXCLUSIVE

func (d *Child) startTCP(f *os.File, target netip.AddrPort) (forwarder, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("use the passed listener: %w", err)
	}
	if err := prepareListener(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("use the passed listener: %w", err)
	}
	loops, err := d.tcpLoops()
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	p := &tcpPort{fd: fd, target: target}
	for _, l := range loops {
		ln := &tcpListener{port: p, loop: l, conns: map[*tcpConn]struct{}{}}
		err := l.do(func() error {
			if ln.key = l.add(fd, listenEvents, ln); ln.key == 0 {
				return errors.New("watch the passed listener: epoll refused it")
			}
			return nil
		})
		if err != nil {
			p.stop()
			return nil, err
		}
		p.in = append(p.in, ln)
	}
	return p, nil
}

// prepareListener checks fd is a listening TCP socket and sets it up.
// Accepted sockets inherit the options, which saves setting them on each:
// no Nagle delay on what the forwarder passes on, and keep-alive probes
// (Go's defaults) to find clients that vanished.
func prepareListener(fd int) error {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return err
	}
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return err
	}
	if typ != unix.SOCK_STREAM || listening == 0 {
		return errors.New("not a listening TCP socket")
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	for _, o := range inheritedOptions {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.value); err != nil {
			return err
		}
	}
	return nil
}

var inheritedOptions = []struct{ level, opt, value int }{
	{unix.IPPROTO_TCP, unix.TCP_NODELAY, 1},
	{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
	{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 15},
	{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15},
	{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 9},
}

// stop closes the listener and every connection it accepted.
func (p *tcpPort) stop() {
	for _, ln := range p.in {
		_ = ln.loop.do(func() error {
			ln.close()
			return nil
		})
	}
	unix.Close(p.fd)
}

func (ln *tcpListener) close() {
	if ln.closed {
		return
	}
	ln.closed = true
	ln.unwatch()
	for c := range ln.conns {
		c.close()
	}
}

func (ln *tcpListener) unwatch() {
	if ln.key != 0 {
		ln.loop.remove(ln.port.fd, ln.key)
		ln.key = 0
	}
}

// ready accepts what is waiting, a batch at a time so that one busy port
// cannot starve the others (the listener is level-triggered).
func (ln *tcpListener) ready(uint32) {
	for range 64 {
		fd, sa, err := unix.Accept4(ln.port.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			ln.backoff = 0
			ln.connect(fd, sockaddrAddrPort(sa))
		case errors.Is(err, unix.EAGAIN):
			return
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		default:
			// Out of descriptors and the like: stop watching for a while,
			// as net/http does, instead of spinning on the listener.
			// (EPOLLEXCLUSIVE cannot be modified, only removed and added.)
			ln.backoff = min(max(2*ln.backoff, 5*time.Millisecond), time.Second)
			ln.loop.d.logf("accept on port %d: %v; retrying in %v", ln.port.target.Port(), err, ln.backoff)
			ln.unwatch()
			ln.loop.after(ln.backoff, func() {
				if !ln.closed && ln.key == 0 {
					ln.key = ln.loop.add(ln.port.fd, listenEvents, ln)
				}
			})
			return
		}
	}
}

// connect starts dialling the container for the client on fd.
func (ln *tcpListener) connect(client int, from netip.AddrPort) {
	l, target := ln.loop, ln.port.target
	server, err := l.d.dialSocket(from, target)
	if err != nil {
		l.d.logf("forward %s to %s: %v", from, target, err)
		unix.Close(client)
		return
	}
	c := &tcpConn{ln: ln, from: from, connecting: true}
	c.up.src, c.up.dst = &c.clientSide, &c.serverSide
	c.down.src, c.down.dst = &c.serverSide, &c.clientSide
	c.clientSide.fd, c.serverSide.fd = client, server
	const events = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
	c.clientSide.key = l.add(client, events, clientHandler{c})
	c.serverSide.key = l.add(server, events, serverHandler{c})
	if c.clientSide.key == 0 || c.serverSide.key == 0 {
		l.d.logf("forward %s to %s: epoll refused a socket", from, target)
		c.close()
		return
	}
	ln.conns[c] = struct{}{}
	c.timer = l.after(l.d.dialTimeout(), func() {
		if c.connecting {
			l.d.logf("forward %s to %s: %v", from, target, unix.ETIMEDOUT)
			c.close()
		}
	})
}

// dialSocket returns a non-blocking socket already connecting to target,
// from the client's own address when that can work (see transparent.go).
func (d *Child) dialSocket(client, target netip.AddrPort) (int, error) {
	if d.wantTransparent(client, target) {
		fd, err := connectSocket(target, func(fd int) error {
			if err := transparentSockopts(fd); err != nil {
				return err
			}
			sa := &unix.SockaddrInet4{Addr: client.Addr().Unmap().As4(), Port: int(client.Port())}
			if err := unix.Bind(fd, sa); err != nil {
				return fmt.Errorf("bind to %s: %w", client, err)
			}
			return nil
		})
		if err == nil {
			return fd, nil
		}
		d.logf("dial %s as %s, falling back to a plain dial: %v", target, client, err)
	}
	return connectSocket(target, nil)
}

// connectSocket makes a socket, lets setup prepare it, and starts the
// connection; EINPROGRESS is the usual answer and not an error.
func connectSocket(target netip.AddrPort, setup func(fd int) error) (int, error) {
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Addr: target.Addr().Unmap().As4(), Port: int(target.Port())}
	if target.Addr().Is6() && !target.Addr().Is4In6() {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Addr: target.Addr().As16(), Port: int(target.Port())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("TCP_NODELAY: %w", err)
	}
	if setup != nil {
		if err := setup(fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return -1, fmt.Errorf("connect to %s: %w", target, err)
	}
	return fd, nil
}

func sockaddrAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

func (d *Child) dialTimeout() time.Duration {
	if d.DialTimeout > 0 {
		return d.DialTimeout
	}
	return DefaultDialTimeout
}

// tcpConn is one client joined to its container connection.
type tcpConn struct {
	ln                     *tcpListener
	from                   netip.AddrPort
	clientSide, serverSide side
	up, down               flow // client to server, server to client
	connecting             bool
	timer                  *timer
	closed                 bool
}

// side is one socket and what epoll last said of it: readable and
// writable stay true until a splice finds them not.
type side struct {
	fd                 int
	key                uint64
	readable, writable bool
}

func (s *side) note(events uint32) {
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.readable = true
	}
	if events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		s.writable = true
	}
}

// flow is one direction: src's bytes wait in a pipe until dst takes them.
type flow struct {
	src, dst *side
	pipe     *pipe // held only while bytes are in it
	queued   int   // bytes in pipe
	ended    bool  // src said EOF and dst was half-closed
}

type clientHandler struct{ c *tcpConn }
type serverHandler struct{ c *tcpConn }

func (h clientHandler) ready(events uint32) {
	h.c.clientSide.note(events)
	h.c.pump()
}

func (h serverHandler) ready(events uint32) {
	c := h.c
	c.serverSide.note(events)
	if c.connecting {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if err := connectError(c.serverSide.fd); err != nil {
			c.ln.loop.d.logf("forward %s to %s: %v", c.from, c.ln.port.target, err)
			c.close()
			return
		}
		c.connecting = false
		c.ln.loop.stopTimer(c.timer)
		c.clientSide.readable, c.clientSide.writable = true, true
	}
	c.pump()
}

func connectError(fd int) error {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if errno != 0 {
		return unix.Errno(errno)
	}
	return nil
}

// pump moves what it can both ways; an error on either ends both, as a
// reset ends a TCP connection.
func (c *tcpConn) pump() {
	if c.connecting || c.closed {
		return
	}
	l := c.ln.loop
	upMore, err := l.move(&c.up)
	if err != nil {
		c.close()
		return
	}
	downMore, err := l.move(&c.down)
	if err != nil {
		c.close()
		return
	}
	if c.up.ended && c.down.ended {
		c.close()
		return
	}
	if upMore || downMore {
		l.later(c.pump)
	}
}

func (c *tcpConn) close() {
	if c.closed {
		return
	}
	c.closed = true
	l := c.ln.loop
	l.stopTimer(c.timer)
	for _, f := range []*flow{&c.up, &c.down} {
		if f.pipe != nil {
			l.pipes.drop(f.pipe)
			f.pipe = nil
		}
	}
	for _, s := range []*side{&c.clientSide, &c.serverSide} {
		if s.key != 0 {
			l.remove(s.fd, s.key)
		}
		unix.Close(s.fd)
	}
	delete(c.ln.conns, c)
}

// moveTurns bounds one direction's splices per turn, so that a fast
// connection lets the others, and new clients, have the loop too.
const moveTurns = 16

// move runs one direction until src or dst would block, or its turns run
// out: more says it could go on. At src's end it half-closes dst, so the
// other direction goes on.
func (l *loop) move(f *flow) (more bool, err error) {
	for range moveTurns {
		if f.queued > 0 {
			if !f.dst.writable {
				return false, nil
			}
			n, err := unix.Splice(f.pipe.r, nil, f.dst.fd, nil, f.queued, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			switch {
			case errors.Is(err, unix.EAGAIN):
				f.dst.writable = false
				return false, nil
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				return false, err
			}
			f.queued -= int(n)
			continue
		}
		if f.ended || !f.src.readable {
			if f.pipe != nil { // empty: let others use it meanwhile
				l.pipes.put(f.pipe)
				f.pipe = nil
			}
			return false, nil
		}
		if f.pipe == nil {
			p, err := l.pipes.get()
			if err != nil {
				return false, err
			}
			f.pipe = p
		}
		n, err := unix.Splice(f.src.fd, nil, f.pipe.w, nil, f.pipe.size, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case errors.Is(err, unix.EAGAIN):
			f.src.readable = false
			l.pipes.put(f.pipe)
			f.pipe = nil
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return false, err
		case n == 0:
			f.ended = true
			l.pipes.put(f.pipe)
			f.pipe = nil
			// ENOTCONN: the peer reset meanwhile; the other direction sees it.
			_ = unix.Shutdown(f.dst.fd, unix.SHUT_WR)
			return false, nil
		}
		f.queued = int(n)
	}
	return true, nil
}
