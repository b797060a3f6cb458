package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// tcpForwarder accepts on the host listener the parent passed and joins
// each connection to one dialled to the container.
type tcpForwarder struct {
	d      *Child
	ln     *net.TCPListener
	target netip.AddrPort
	ctx    context.Context // ends every connection
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (d *Child) startTCP(f *os.File, target netip.AddrPort) (forwarder, error) {
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("use the passed listener: %w", err)
	}
	ln, ok := l.(*net.TCPListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("passed socket is a %T, not a TCP listener", l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fw := &tcpForwarder{d: d, ln: ln, target: target, ctx: ctx, cancel: cancel}
	fw.wg.Add(1)
	go fw.acceptLoop()
	return fw, nil
}

func (fw *tcpForwarder) stop() {
	fw.cancel()
	fw.ln.Close()
	fw.wg.Wait()
}

func (fw *tcpForwarder) acceptLoop() {
	defer fw.wg.Done()
	var backoff time.Duration
	for {
		c, err := fw.ln.AcceptTCP()
		if err != nil {
			if fw.ctx.Err() != nil {
				return
			}
			// Out of descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			fw.d.logf("accept on %s: %v; retrying in %v", fw.ln.Addr(), err, backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-fw.ctx.Done():
				return
			}
		}
		backoff = 0
		fw.wg.Add(1)
		go fw.serve(c)
	}
}

// serve dials the container for one client and moves the bytes.
func (fw *tcpForwarder) serve(client *net.TCPConn) {
	defer fw.wg.Done()
	server, err := fw.d.dialTCP(fw.ctx, addrPortOf(client.RemoteAddr()), fw.target)
	if err != nil {
		fw.d.logf("forward %s to %s: %v", client.RemoteAddr(), fw.target, err)
		client.Close()
		return
	}
	join(fw.ctx, client, server)
}

// join copies both ways until both sides have ended, passing each
// half-close on, and closes both. The copies are io.Copy between two
// *net.TCPConn, which Go does with splice(2): the bytes stay in the
// kernel. ctx ending closes both at once.
func join(ctx context.Context, a, b *net.TCPConn) {
	stop := context.AfterFunc(ctx, func() {
		a.Close()
		b.Close()
	})
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		copyHalf(b, a)
	}()
	copyHalf(a, b)
	wg.Wait()
	a.Close()
	b.Close()
}

// copyHalf copies src to dst; at src's end it half-closes dst, so the
// other direction goes on. An error (a reset, say) ends both directions.
func copyHalf(dst, src *net.TCPConn) {
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		src.Close()
		return
	}
	_ = dst.CloseWrite()
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	return netip.AddrPort{}
}

// dialTCP connects to the container, as the client itself when that can
// work (see transparent.go), else from the engine's own address.
func (d *Child) dialTCP(ctx context.Context, client, target netip.AddrPort) (*net.TCPConn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.dialTimeout())
	defer cancel()
	if d.wantTransparent(client, target) {
		c, err := dialTransparent(ctx, client, target)
		if err == nil {
			return c, nil
		}
		d.logf("dial %s as %s, falling back to a plain dial: %v", target, client, err)
	}
	// No keep-alive probes towards the container: it is on this host, and
	// the client's side keeps Go's default probes to find dead peers.
	dialer := net.Dialer{KeepAlive: -1}
	c, err := dialer.DialContext(ctx, "tcp", target.String())
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, errors.New("dial returned a non-TCP connection")
	}
	return tc, nil
}

func (d *Child) dialTimeout() time.Duration {
	if d.DialTimeout > 0 {
		return d.DialTimeout
	}
	return DefaultDialTimeout
}
