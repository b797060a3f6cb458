package uplink

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// The parent dials the host's loopback for the engine and hands it the
// connected socket; it dials nothing else.
func TestDialHostLoopback(t *testing.T) {
	sock := filepath.Join(t.TempDir(), loopbackSock)
	l, err := listenLoopback(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { serveLoopback(ctx, l, io.Discard); close(done) }()
	t.Cleanup(func() { cancel(); l.Close(); <-done })

	srv, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		c, err := srv.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "pong:"+line)
	}()
	conn, err := DialHostLoopback(context.Background(), sock, "tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "ping\n")
	if got, _ := bufio.NewReader(conn).ReadString('\n'); got != "pong:ping\n" {
		t.Errorf("through the dialled socket: %q", got)
	}

	for _, tt := range []struct{ network, addr, want string }{
		{"tcp", "192.0.2.1:80", `tcp "192.0.2.1:80" is not a TCP address on the host's loopback`},
		{"udp", "127.0.0.1:53", `udp "127.0.0.1:53" is not a TCP address on the host's loopback`},
		{"tcp", "localhost:80", `tcp "localhost:80" is not a TCP address on the host's loopback`},
	} {
		_, err := DialHostLoopback(context.Background(), sock, tt.network, tt.addr)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("dial %s %s: %v, want …%s", tt.network, tt.addr, err, tt.want)
		}
	}
	// A refused port is the dial's own error, in one line.
	closed, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := closed.Addr().String()
	closed.Close()
	if _, err := DialHostLoopback(context.Background(), sock, "tcp", addr); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dial a closed port: %v", err)
	}
}

func TestHostAddr(t *testing.T) {
	a, ok := HostAddr()
	if !ok {
		t.Fatal("HostAddr found no address; the test machine has one")
	}
	if !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		t.Errorf("HostAddr = %s, want a global IPv4 address", a)
	}
	// It is one of the host's own: a listener there works.
	l, err := net.Listen("tcp4", net.JoinHostPort(a.String(), "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", a, err)
	}
	l.Close()
}
