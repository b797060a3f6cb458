package uplink

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
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

// sendFD sends f over conn as SCM_RIGHTS with a one-byte payload (a stream
// socket needs at least one byte to carry ancillary data).
func sendFD(conn *net.UnixConn, f *os.File) error {
	rights := unix.UnixRights(int(f.Fd()))
	n, oobn, err := conn.WriteMsgUnix([]byte{msgTap}, rights, nil)
	if err != nil {
		return fmt.Errorf("send %s fd: %w", f.Name(), err)
	}
	if n != 1 || oobn != len(rights) {
		return fmt.Errorf("send %s fd: short write", f.Name())
	}
	return nil
}

// recvFD receives the fd sent by sendFD. The fd is returned close-on-exec
// (MSG_CMSG_CLOEXEC) so that no command the parent starts inherits the tap.
func recvFD(conn *net.UnixConn) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	var n, oobn int
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return -1, fmt.Errorf("receive tap fd: %w", err)
	}
	if n == 0 {
		return -1, errors.New("receive tap fd: connection closed before the fd arrived")
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return -1, fmt.Errorf("receive tap fd: %w", err)
	}
	if buf[0] != msgTap || len(fds) != 1 {
		closeAll(fds)
		return -1, fmt.Errorf("receive tap fd: unexpected message %q with %d fds", buf[0], len(fds))
	}
	return fds[0], nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
