package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"

	"warren/internal/fdpass"
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
	var fds []int
	if fd >= 0 {
		fds = []int{fd}
	}
	if err := fdpass.Send(c, b, fds...); err != nil {
		return fmt.Errorf("send %s: %w", m.Op, err)
	}
	return nil
}

// receive reads one message and the file passed with it, if any. A
// message with more than one file is refused (and its files closed).
func receive(c *net.UnixConn) (message, *os.File, error) {
	buf := make([]byte, maxMessage)
	n, fds, err := fdpass.Receive(c, buf, 1)
	if errors.Is(err, io.EOF) {
		return message{}, nil, errEOF
	}
	if err != nil {
		return message{}, nil, err
	}
	var f *os.File
	if len(fds) == 1 {
		f = os.NewFile(uintptr(fds[0]), "passed socket")
	}
	var m message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeFile(f)
		return message{}, nil, fmt.Errorf("decode message: %w", err)
	}
	return m, f, nil
}

var errEOF = errors.New("peer closed the control connection")

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
