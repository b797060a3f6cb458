// Package nettest gives tests the small servers they talk to: a TCP server
// running a handler per connection and a UDP server answering each
// datagram, both stopped (and waited for) when the test ends. Tests of
// every package use these instead of a listener loop of their own.
package nettest

import (
	"net"
	"net/netip"
	"sync"
	"testing"
)

// ServeTCP listens on addr (such as "127.0.0.1:0") and runs serve on each
// connection in a goroutine of its own; serve owns the connection. When
// the test ends the listener closes and ServeTCP waits for every serve to
// return, so serve must end once its client is done.
func ServeTCP(tb testing.TB, addr string, serve func(*net.TCPConn)) netip.AddrPort {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c.(*net.TCPConn))
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// ServeUDP listens on addr and sends reply(datagram) back to each sender
// until the test ends.
func ServeUDP(tb testing.TB, addr string, reply func([]byte) []byte) netip.AddrPort {
	tb.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo(reply(buf[:n]), from)
		}
	}()
	tb.Cleanup(func() { c.Close(); <-done })
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Echo is the reply of an echo server.
func Echo(b []byte) []byte { return b }
