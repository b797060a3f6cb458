package main

import (
	"bufio"
	"net"
	"testing"
	"time"

	"warren/internal/nettest"
)

// echoOnce is a minimal stand-in for connserver: one line in, one line out.
func echoOnce(t *testing.T) string {
	t.Helper()
	return nettest.ServeTCP(t, "127.0.0.1:0", func(c *net.TCPConn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			c.Write([]byte("ok\n"))
		}
	}).String()
}

func TestRunCountsEveryConnection(t *testing.T) {
	addr := echoOnce(t)
	for _, tc := range []struct{ n, c int }{{1, 1}, {50, 1}, {50, 4}, {7, 100}} {
		res := run(addr, tc.n, tc.c, 5*time.Second)
		if res.ok != int64(tc.n) || res.errors != 0 {
			t.Errorf("n=%d c=%d: %s (first error %v)", tc.n, tc.c, res, res.firstErr)
		}
	}
}

func TestRunReportsRefusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res := run(addr, 5, 2, time.Second)
	if res.ok != 0 || res.errors != 5 || res.firstErr == nil {
		t.Fatalf("got %s, first error %v; want 5 errors", res, res.firstErr)
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		res  result
		want string
	}{
		{result{ok: 100, elapsed: time.Second}, "conns_per_s=100 ok=100 errors=0 seconds=1.000"},
		{result{ok: 10, errors: 2, elapsed: 500 * time.Millisecond}, "conns_per_s=20 ok=10 errors=2 seconds=0.500"},
		{result{}, "conns_per_s=0 ok=0 errors=0 seconds=0.000"},
	}
	for _, tc := range tests {
		if got := tc.res.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
