package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A client's bytes reach the target, its half-close too, and the target's
// answer comes back.
func TestRelay(t *testing.T) {
	target, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		c, err := target.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c) // until the client's half-close
		fmt.Fprintf(c, "got %d", n)
	}()
	ln, err := listen(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ln)
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	go serve(ln, netip.MustParseAddrPort(target.Addr().String()))

	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 3 << 20
	if _, err := io.Copy(c, strings.NewReader(strings.Repeat("x", size))); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("got %d", size); string(reply) != want {
		t.Errorf("reply = %q, want %q", reply, want)
	}
}
