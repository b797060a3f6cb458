package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"warren/internal/fdpass"
)

// The init and exec children get two extra descriptors: the request (a
// pipe the parent writes one JSON document to) and a SOCK_SEQPACKET
// socket for sync messages both ways. The child marks the socket
// close-on-exec, so the parent reading EOF means the user's command was
// exec'd.
const (
	requestFd = 3
	syncFd    = 4
	// initFd is the sealed copy of warren an --init container's
	// docker-init runs from.
	initFd = 5
)

const (
	msgReady   = "ready"   // init: root built, waiting for msgGo (may carry the pty master)
	msgGo      = "go"      // engine: exec the user's command now
	msgConsole = "console" // exec: the pty master
	msgPid     = "pid"     // exec: the command's pid, once it runs
	msgError   = "error"   // child: setup or exec failed
)

type syncMsg struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
	// Code is the exit code Docker gives the failure (msgError only): the
	// child classifies its own error, where errors.Is still works.
	Code int `json:"code,omitempty"`
	// Pid is the exec'd command's pid in the engine's namespace (msgPid).
	Pid int `json:"pid,omitempty"`
}

// Docker's exit codes for a process that never ran (moby's daemon/start.go
// and the shell's convention).
const (
	ExitCannotInvoke = 126 // found, but cannot be run: permission denied, a directory
	ExitNotFound     = 127 // no such command
	ExitUnknown      = 128 // any other failure to start
)

// StartError is the child's report that the user's command (or the setup
// before it) failed, with Docker's exit code for it.
type StartError struct {
	Code int
	Msg  string
}

func (e *StartError) Error() string { return e.Msg }

// ExitCode is the exit code Docker records for a process that failed to
// start with err: the child's own classification, else ExitUnknown.
func ExitCode(err error) int {
	var se *StartError
	if errors.As(err, &se) && se.Code != 0 {
		return se.Code
	}
	return ExitUnknown
}

// execRequest is what Exec sends to ExecMain.
type execRequest struct {
	Pid  int       `json:"pid"`
	Spec *ExecSpec `json:"spec"`
}

// newSyncPair returns the parent's end as a conn (so reads go through the
// poller) and the child's end as a file for ExtraFiles.
func newSyncPair() (*net.UnixConn, *os.File, error) {
	c, child, err := fdpass.Pair(unix.SOCK_SEQPACKET)
	if err != nil {
		return nil, nil, fmt.Errorf("sync %w", err)
	}
	return c, child, nil
}

// readMsg reads one message and the descriptor it carries, if any. io.EOF
// means the child exec'd (or died).
func readMsg(c *net.UnixConn) (syncMsg, *os.File, error) {
	buf := make([]byte, 64*1024)
	n, fds, err := fdpass.Receive(c, buf, 1)
	if err != nil {
		return syncMsg{}, nil, err
	}
	var fd *os.File
	if len(fds) == 1 {
		fd = os.NewFile(uintptr(fds[0]), "pty-master")
	}
	var m syncMsg
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		if fd != nil {
			fd.Close()
		}
		return syncMsg{}, nil, fmt.Errorf("sync message %q: %w", buf[:n], err)
	}
	return m, fd, nil
}

func writeMsg(c *net.UnixConn, m syncMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, _, err = c.WriteMsgUnix(b, nil, nil)
	return err
}

// Child side: plain blocking syscalls on the locked thread.

func childSend(m syncMsg, fd int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if fd >= 0 {
		return fdpass.SendRaw(syncFd, b, fd)
	}
	return fdpass.SendRaw(syncFd, b)
}

func childRecv() (syncMsg, error) {
	buf := make([]byte, 4096)
	for {
		n, _, _, _, err := unix.Recvmsg(syncFd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return syncMsg{}, fmt.Errorf("read sync socket: %w", err)
		}
		if n == 0 {
			return syncMsg{}, errors.New("engine closed the sync socket")
		}
		var m syncMsg
		err = json.Unmarshal(buf[:n], &m)
		return m, err
	}
}

// readRequest decodes the one JSON document on the request pipe.
func readRequest(v any) error {
	f := os.NewFile(requestFd, "request")
	defer f.Close()
	if err := json.NewDecoder(f).Decode(v); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	return nil
}
