package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"golang.org/x/sys/unix"
)

// The parent and the child talk over one SOCK_SEQPACKET connection, so
// every message is one packet and a passed socket travels with the
// message that names it.
const (
	opAdd    = "add"    // parent → child, with the bound socket
	opRemove = "remove" // parent → child
	opReply  = "reply"  // child → parent
)

// maxMessage bounds one packet; a message is a few hundred bytes of JSON.
const maxMessage = 4096

type message struct {
	Op    string    `json:"op"`
	Seq   uint64    `json:"seq"` // a reply carries its request's
	ID    int       `json:"id,omitempty"`
	Spec  port.Spec `json:"spec,omitzero"`
	Error string    `json:"error,omitempty"`
}

// send writes m with fd (if fd >= 0) as SCM_RIGHTS.
func send(c *net.UnixConn, m message, fd int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if _, _, err := c.WriteMsgUnix(b, oob, nil); err != nil {
		return fmt.Errorf("send %s: %w", m.Op, err)
	}
	return nil
}

// receive reads one message and the file passed with it, if any. A
// message with more than one file is refused (and its files closed).
func receive(c *net.UnixConn) (message, *os.File, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if errors.Is(err, io.EOF) {
		return message{}, nil, errEOF
	}
	if err != nil {
		return message{}, nil, err
	}
	if n == 0 && oobn == 0 {
		return message{}, nil, errEOF // a SEQPACKET peer that is gone
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return message{}, nil, err
	}
	var f *os.File
	switch {
	case len(fds) == 1:
		f = os.NewFile(uintptr(fds[0]), "passed socket")
	case len(fds) > 1:
		closeAll(fds)
		return message{}, nil, errors.New("more than one file passed with a message")
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeFile(f)
		return message{}, nil, errors.New("truncated message")
	}
	var m message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeFile(f)
		return message{}, nil, fmt.Errorf("decode message: %w", err)
	}
	return m, f, nil
}

var errEOF = errors.New("peer closed the control connection")

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	scms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range scms {
		got, err := unix.ParseUnixRights(&scms[i])
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
