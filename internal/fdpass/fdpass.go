// Package fdpass passes open descriptors between processes over unix
// sockets (SCM_RIGHTS): the one codec for the uplink's tap, the port
// driver's bound sockets and the sandbox's pty master. A message is a
// payload and the descriptors that travel with it; what the payload means
// is the caller's protocol.
package fdpass

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Pair returns a connected pair of unix sockets of type typ
// (unix.SOCK_STREAM, unix.SOCK_SEQPACKET): this process's end as a conn,
// whose reads go through the poller, and the other end as a file to hand
// to a child (exec.Cmd.ExtraFiles). Both are close-on-exec.
func Pair(typ int) (*net.UnixConn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	local := os.NewFile(uintptr(fds[0]), "socketpair")
	peer := os.NewFile(uintptr(fds[1]), "socketpair peer")
	defer local.Close() // FileConn dups it
	c, err := net.FileConn(local)
	if err != nil {
		peer.Close()
		return nil, nil, fmt.Errorf("socketpair conn: %w", err)
	}
	return c.(*net.UnixConn), peer, nil
}

// Send writes payload and fds as one message. On a stream socket the
// payload must hold at least one byte to carry the descriptors.
func Send(c *net.UnixConn, payload []byte, fds ...int) error {
	oob := rights(fds)
	n, oobn, err := c.WriteMsgUnix(payload, oob, nil)
	if err != nil {
		return err
	}
	if n != len(payload) || oobn != len(oob) {
		return io.ErrShortWrite
	}
	return nil
}

// SendRaw is Send on a bare descriptor with a blocking sendmsg, for a
// child between clone and exec that must not use the Go runtime's poller.
func SendRaw(sock int, payload []byte, fds ...int) error {
	return unix.Sendmsg(sock, payload, rights(fds), nil, 0)
}

func rights(fds []int) []byte {
	if len(fds) == 0 {
		return nil
	}
	return unix.UnixRights(fds...)
}

// Receive reads one message into buf and returns the payload's length and
// the descriptors passed with it, close-on-exec (the net package asks for
// MSG_CMSG_CLOEXEC), so no command started meanwhile inherits them. The
// caller owns them (os.NewFile with a name that says what they are). A
// message that carries more than maxFDs, or that was cut short, is refused
// and every descriptor it carried closed. A peer that is gone, or a message
// with neither payload nor descriptors, reads as io.EOF.
func Receive(c *net.UnixConn, buf []byte, maxFDs int) (int, []int, error) {
	// Room for one descriptor more than allowed, so that an excess arrives
	// (to be closed) instead of being dropped with MSG_CTRUNC.
	oob := make([]byte, unix.CmsgSpace(4*(maxFDs+1)))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return 0, nil, err
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return 0, nil, err
	}
	switch {
	case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
		Close(fds)
		return 0, nil, errors.New("fdpass: truncated message")
	case len(fds) > maxFDs:
		Close(fds)
		return 0, nil, fmt.Errorf("fdpass: %d descriptors passed with a message, at most %d expected", len(fds), maxFDs)
	case n == 0 && len(fds) == 0:
		return 0, nil, io.EOF // a SEQPACKET peer that is gone reads as an empty message
	}
	return n, fds, nil
}

// parseRights returns the descriptors of every SCM_RIGHTS message in oob;
// on an error it closes the ones it had found.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("fdpass: parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			Close(fds)
			return nil, fmt.Errorf("fdpass: parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// Close closes received descriptors, for the paths that refuse a message
// after Receive.
func Close(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
