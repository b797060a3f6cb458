package uplink

import (
	"fmt"
	"net"
	"os"

	"warren/internal/fdpass"
)

// The child and the parent speak one exchange on the driver's unix socket:
// the child sends one byte carrying the tap fd as SCM_RIGHTS, the parent
// answers one status byte once the fd is wired to the netstack, so the child
// reports a parent-side failure as its own error before the namespace's
// command starts.
const (
	msgTap    = 'T'
	replyOK   = 'K'
	replyFail = 'F'
)

// sendFD sends f over conn with the one-byte message msgTap.
func sendFD(conn *net.UnixConn, f *os.File) error {
	if err := fdpass.Send(conn, []byte{msgTap}, int(f.Fd())); err != nil {
		return fmt.Errorf("send %s fd: %w", f.Name(), err)
	}
	return nil
}

// recvFD receives the tap sent by sendFD, close-on-exec so that no command
// the parent starts inherits it.
func recvFD(conn *net.UnixConn) (int, error) {
	buf := make([]byte, 1)
	_, fds, err := fdpass.Receive(conn, buf, 1)
	if err != nil {
		return -1, fmt.Errorf("receive tap fd: %w", err)
	}
	if buf[0] != msgTap || len(fds) != 1 {
		fdpass.Close(fds)
		return -1, fmt.Errorf("receive tap fd: unexpected message %q with %d fds", buf[0], len(fds))
	}
	return fds[0], nil
}
