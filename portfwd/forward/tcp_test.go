package forward

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"golang.org/x/sys/unix"
)

// TestAcceptedSocketsInheritOptions: the forwarder sets TCP_NODELAY and
// keep-alive once, on the listener, and relies on accept copying them.
func TestAcceptedSocketsInheritOptions(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	if err := prepareListener(fd); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var nfd int
	waitFor(t, "a connection to accept", func() bool {
		nfd, _, err = unix.Accept4(fd, unix.SOCK_CLOEXEC)
		return err == nil
	})
	defer unix.Close(nfd)
	for _, o := range inheritedOptions {
		got, err := unix.GetsockoptInt(nfd, o.level, o.opt)
		if err != nil {
			t.Fatal(err)
		}
		// Booleans read back as any non-zero value.
		if (got != 0) != (o.value != 0) || (o.value > 1 && got != o.value) {
			t.Errorf("accepted socket: option %d/%d = %d, want %d", o.level, o.opt, got, o.value)
		}
	}
}

func TestPrepareListenerRefusesOtherSockets(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := prepareListener(fd); err == nil {
		t.Error("a socket that does not listen was taken")
	}
}

// TestBusyStreamLeavesRoom: while one connection streams as fast as the
// loop can move it, new connections through the same loop still get
// through quickly.
func TestBusyStreamLeavesRoom(t *testing.T) {
	p := startPair(t, nil)
	sink := sinkTCP(t)
	srv := echoTCP(t, "127.0.0.1:0")
	hpSink, hpEcho := freePort(t, "tcp"), freePort(t, "tcp")
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hpSink, ChildIP: "127.0.0.1", ChildPort: sink})
	addPort(t, p.parent, port.Spec{Proto: "tcp4", ParentIP: "127.0.0.1", ParentPort: hpEcho, ChildIP: "127.0.0.1", ChildPort: int(srv.Port())})

	stream, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hpSink))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<20)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := stream.Write(buf); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); stream.Close(); <-done }()
	time.Sleep(100 * time.Millisecond) // the stream is under way
	for i := range 20 {
		if err := roundTrip(fmt.Sprintf("127.0.0.1:%d", hpEcho), payload(100, byte(i))); err != nil {
			t.Fatalf("round trip %d beside the stream: %v", i, err)
		}
	}
}

// sinkTCP reads every connection to its end.
func sinkTCP(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
