package uplink

import (
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"warren/internal/fdpass"
)

// unixPair returns both ends of a connected unix stream socket as UnixConns.
func unixPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	a, f, err := fdpass.Pair(unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b.(*net.UnixConn)
}

func TestSendRecvFD(t *testing.T) {
	a, b := unixPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := sendFD(a, w); err != nil {
		t.Fatal(err)
	}
	w.Close() // the receiver's copy must keep the pipe open
	fd, err := recvFD(b)
	if err != nil {
		t.Fatal(err)
	}
	got := os.NewFile(uintptr(fd), "received")
	defer got.Close()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("received fd is not close-on-exec (flags %#x, %v)", flags, err)
	}
	if _, err := got.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := r.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestRecvFDWithoutRights(t *testing.T) {
	a, b := unixPair(t)
	if _, err := a.Write([]byte{msgTap}); err != nil {
		t.Fatal(err)
	}
	if _, err := recvFD(b); err == nil {
		t.Fatal("recvFD accepted a message without an fd")
	}
	a.Close()
	if _, err := recvFD(b); err == nil {
		t.Fatal("recvFD succeeded on a closed connection")
	}
}
