package fdpass

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pair returns both ends of a connected unix socket of type typ.
func pair(t *testing.T, typ int) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	a, f, err := Pair(typ)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, fileConn(t, f)
}

// fileConn turns a Pair's file end into a conn, as a child would.
func fileConn(t *testing.T, f *os.File) *net.UnixConn {
	t.Helper()
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}

// pipe returns a pipe whose write end is to be passed; the read end checks
// that the passed copy works.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// socketTypes are the kinds of socket warren passes descriptors over.
var socketTypes = []struct {
	name string
	typ  int
}{{"stream", unix.SOCK_STREAM}, {"seqpacket", unix.SOCK_SEQPACKET}}

func TestSendReceive(t *testing.T) {
	for _, tc := range socketTypes {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, tc.typ)
			r, w := pipe(t)
			if err := Send(a, []byte("T"), int(w.Fd())); err != nil {
				t.Fatal(err)
			}
			w.Close() // the received copy must keep the pipe open
			buf := make([]byte, 16)
			n, fds, err := Receive(b, buf, 1)
			if err != nil || string(buf[:n]) != "T" || len(fds) != 1 {
				t.Fatalf("Receive = %q, %d fds, %v", buf[:n], len(fds), err)
			}
			got := os.NewFile(uintptr(fds[0]), "received")
			defer got.Close()
			flags, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0)
			if err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Fatalf("received fd is not close-on-exec (flags %#x, %v)", flags, err)
			}
			if _, err := got.Write([]byte("hi")); err != nil {
				t.Fatal(err)
			}
			read := make([]byte, 2)
			if _, err := io.ReadFull(r, read); err != nil || string(read) != "hi" {
				t.Fatalf("read %q, %v", read, err)
			}
		})
	}
}

func TestReceiveWithoutFiles(t *testing.T) {
	a, b := pair(t, unix.SOCK_SEQPACKET)
	if err := Send(a, []byte(`{"op":"reply"}`)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, fds, err := Receive(b, buf, 1)
	if err != nil || len(fds) != 0 || string(buf[:n]) != `{"op":"reply"}` {
		t.Fatalf("Receive = %q, %d fds, %v", buf[:n], len(fds), err)
	}
}

func TestSendRaw(t *testing.T) {
	c, peer, err := Pair(unix.SOCK_SEQPACKET)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer peer.Close()
	_, w := pipe(t)
	if err := SendRaw(int(peer.Fd()), []byte("x"), int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	n, fds, err := Receive(c, make([]byte, 4), 1)
	if err != nil || n != 1 || len(fds) != 1 {
		t.Fatalf("Receive = %d, %d fds, %v", n, len(fds), err)
	}
	Close(fds)
}

// A message that is not what the protocol expects is refused whole, and
// nothing it carried stays open.
func TestReceiveRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		nfds    int
		bufLen  int
		want    string
	}{
		{"too many files", "m", 2, 16, "2 descriptors passed with a message, at most 1 expected"},
		{"payload cut short", "a longer message", 1, 4, "truncated message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, unix.SOCK_SEQPACKET)
			r, w := pipe(t)
			fds := make([]int, tc.nfds)
			for i := range fds {
				fds[i] = int(w.Fd())
			}
			if err := Send(a, []byte(tc.payload), fds...); err != nil {
				t.Fatal(err)
			}
			_, got, err := Receive(b, make([]byte, tc.bufLen), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || got != nil {
				t.Fatalf("Receive = %d fds, %v; want error %q", len(got), err, tc.want)
			}
			// With every copy of the write end closed, the reader sees EOF.
			w.Close()
			if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("a refused descriptor stayed open: read %d, %v", n, err)
			}
		})
	}
}

func TestReceiveEOF(t *testing.T) {
	for _, tc := range socketTypes {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t, tc.typ)
			a.Close()
			if _, _, err := Receive(b, make([]byte, 4), 1); !errors.Is(err, io.EOF) {
				t.Fatalf("Receive after the peer closed = %v, want EOF", err)
			}
		})
	}
}
