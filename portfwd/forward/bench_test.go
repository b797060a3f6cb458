package forward

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"

	"warren/internal/nettest"
)

// The benchmarks compare, on the host's loopback, a server reached
// directly, through this driver and through RootlessKit's builtin driver
// (both halves in this process, as in the tests):
//
//	go test -run '^$' -bench . -benchtime 3s ./portfwd/forward/
//
// Stream: one connection, 256 KiB writes, bytes/s. ConnRate: connect,
// one small request and its answer, close; one connection at a time.

const streamChunk = 256 << 10

func BenchmarkStream(b *testing.B) {
	for _, route := range benchRoutes {
		b.Run(route.name, func(b *testing.B) {
			addr := route.via(b, sinkServer(b))
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, streamChunk)
			b.SetBytes(streamChunk)
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			_ = c.(*net.TCPConn).CloseWrite()
			var got uint64
			if err := binary.Read(c, binary.BigEndian, &got); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if got != uint64(b.N)*streamChunk {
				b.Fatalf("server got %d bytes, want %d", got, b.N*streamChunk)
			}
		})
	}
}

func BenchmarkConnRate(b *testing.B) {
	for _, route := range benchRoutes {
		b.Run(route.name, func(b *testing.B) {
			addr := route.via(b, pingServer(b))
			buf := make([]byte, 4)
			b.ResetTimer()
			for range b.N {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write([]byte("ping")); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

type benchRoute struct {
	name string
	via  func(b *testing.B, server int) string // the address to dial
}

var benchRoutes = []benchRoute{
	{"loopback", func(_ *testing.B, server int) string { return fmt.Sprintf("127.0.0.1:%d", server) }},
	{"warren", func(b *testing.B, server int) string {
		pd, err := NewParentDriver(io.Discard, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return publishVia(b, pd, NewChildDriver(io.Discard), server)
	}},
	{"rootlesskit-builtin", func(b *testing.B, server int) string {
		pd, err := builtin.NewParentDriver(io.Discard, b.TempDir(), false, "")
		if err != nil {
			b.Fatal(err)
		}
		return publishVia(b, pd, builtin.NewChildDriver(io.Discard), server)
	}},
}

// publishVia runs the driver's halves and publishes server on a free port.
func publishVia(b *testing.B, pd port.ParentDriver, cd port.ChildDriver, server int) string {
	b.Helper()
	init, quitP, quitC := make(chan struct{}), make(chan struct{}), make(chan struct{})
	doneP, doneC := make(chan error, 1), make(chan error, 1)
	go func() { doneP <- pd.RunParentDriver(init, quitP, nil) }()
	go func() { doneC <- cd.RunChildDriver(pd.OpaqueForChild(), quitC, "") }()
	<-init
	b.Cleanup(func() { close(quitC); close(quitP); <-doneC; <-doneP })
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hp := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	st, err := pd.AddPort(context.Background(), port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hp, ChildIP: "127.0.0.1", ChildPort: server})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pd.RemovePort(context.Background(), st.ID) })
	return fmt.Sprintf("127.0.0.1:%d", hp)
}

// sinkServer reads each connection to its end and answers the byte count.
func sinkServer(b *testing.B) int {
	return tcpServer(b, func(c *net.TCPConn) {
		var n uint64
		buf := make([]byte, streamChunk)
		for {
			got, err := c.Read(buf)
			n += uint64(got)
			if err != nil {
				break
			}
		}
		_ = binary.Write(c, binary.BigEndian, n)
	})
}

// pingServer answers one 4-byte request with "pong".
func pingServer(b *testing.B) int {
	return tcpServer(b, func(c *net.TCPConn) {
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err == nil {
			_, _ = c.Write([]byte("pong"))
		}
	})
}

// tcpServer serves each connection to 127.0.0.1:PORT with serve, until
// the test ends, and returns PORT.
func tcpServer(tb testing.TB, serve func(*net.TCPConn)) int {
	tb.Helper()
	return int(nettest.ServeTCP(tb, "127.0.0.1:0", serve).Port())
}
