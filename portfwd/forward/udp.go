package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

// udpForwarder reads the host socket the parent bound and gives each
// client address a flow: a socket connected to the container whose
// replies go back to that client through the host socket. As with TCP,
// the flow's socket has the client's own address where that can work
// (see transparent.go).
type udpForwarder struct {
	d      *Child
	host   *net.UDPConn
	target netip.AddrPort
	idle   time.Duration
	max    int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	flows map[netip.AddrPort]*udpFlow
}

type udpFlow struct {
	client netip.AddrPort
	conn   *net.UDPConn
	last   atomic.Int64 // unix nanoseconds of the last packet either way
}

func (f *udpFlow) touch() { f.last.Store(time.Now().UnixNano()) }

func (d *Child) startUDP(f *os.File, target netip.AddrPort) (forwarder, error) {
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, fmt.Errorf("use the passed socket: %w", err)
	}
	host, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, fmt.Errorf("passed socket is a %T, not a UDP socket", pc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fw := &udpForwarder{
		d: d, host: host, target: target,
		idle: d.udpIdleTimeout(), max: d.udpMaxFlows(),
		ctx: ctx, cancel: cancel,
		flows: map[netip.AddrPort]*udpFlow{},
	}
	fw.wg.Add(1)
	go fw.readLoop()
	return fw, nil
}

func (fw *udpForwarder) stop() {
	fw.cancel()
	fw.host.Close()
	fw.mu.Lock()
	for _, f := range fw.flows {
		f.conn.Close()
	}
	fw.mu.Unlock()
	fw.wg.Wait()
}

// readLoop passes each client datagram on through its flow.
func (fw *udpForwarder) readLoop() {
	defer fw.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, client, err := fw.host.ReadFromUDPAddrPort(buf)
		if err != nil {
			if fw.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ECONNREFUSED queued by ICMP: not fatal to a listener
		}
		flow, err := fw.flow(client)
		if err != nil {
			fw.d.logf("udp %s from %s: %v", fw.target, client, err)
			continue
		}
		flow.touch()
		// A refused write (nothing listens in the container yet) drops
		// this datagram only, as a lost packet would.
		_, _ = flow.conn.Write(buf[:n])
	}
}

// flow returns client's flow, starting one if there is room.
func (fw *udpForwarder) flow(client netip.AddrPort) (*udpFlow, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if f, ok := fw.flows[client]; ok {
		return f, nil
	}
	if fw.ctx.Err() != nil {
		return nil, net.ErrClosed
	}
	if len(fw.flows) >= fw.max {
		return nil, fmt.Errorf("%d flows open, dropping a new client's datagram", fw.max)
	}
	conn, err := fw.d.dialUDP(client, fw.target)
	if err != nil {
		return nil, err
	}
	f := &udpFlow{client: client, conn: conn}
	f.touch()
	fw.flows[client] = f
	fw.wg.Add(1)
	go fw.replyLoop(f)
	return f, nil
}

// replyLoop sends the container's replies to the flow's client until the
// flow has been idle for fw.idle or the port is removed.
func (fw *udpForwarder) replyLoop(f *udpFlow) {
	defer fw.wg.Done()
	defer fw.drop(f)
	buf := make([]byte, maxDatagram)
	for {
		deadline := time.Unix(0, f.last.Load()).Add(fw.idle)
		if !time.Now().Before(deadline) {
			return
		}
		_ = f.conn.SetReadDeadline(deadline)
		n, err := f.conn.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // idle unless the client sent meanwhile: checked above
			}
			if fw.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNREFUSED from an earlier datagram: keep the flow
		}
		f.touch()
		if _, err := fw.host.WriteToUDPAddrPort(buf[:n], f.client); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (fw *udpForwarder) drop(f *udpFlow) {
	fw.mu.Lock()
	if fw.flows[f.client] == f {
		delete(fw.flows, f.client)
	}
	fw.mu.Unlock()
	f.conn.Close()
}

func (d *Child) udpIdleTimeout() time.Duration {
	if d.UDPIdleTimeout > 0 {
		return d.UDPIdleTimeout
	}
	return DefaultUDPIdleTimeout
}

func (d *Child) udpMaxFlows() int {
	if d.UDPMaxFlows > 0 {
		return d.UDPMaxFlows
	}
	return DefaultUDPMaxFlows
}

// dialUDP connects a flow's socket to the container, from the client's
// address when that can work, else from the engine's own (as when one
// client port already has a flow towards another published port: its
// address is taken then, as for TCP).
func (d *Child) dialUDP(client, target netip.AddrPort) (*net.UDPConn, error) {
	if d.wantTransparent(client, target) {
		c, err := dialTransparentUDP(client, target)
		if err == nil {
			return c, nil
		}
		d.logf("udp: dial %s as %s, falling back to a plain dial: %v", target, client, err)
	}
	return net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(target))
}

func dialTransparentUDP(client, target netip.AddrPort) (*net.UDPConn, error) {
	dialer := net.Dialer{
		LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(client.Addr().Unmap(), client.Port())),
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = transparentSockopts(int(fd))
			})
			return errors.Join(err, serr)
		},
	}
	c, err := dialer.Dial("udp4", target.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}
