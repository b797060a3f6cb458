// Package sdactivation takes the listening socket that systemd passes to a
// socket-activated service (sd_listen_fds(3)): $LISTEN_PID names this
// process, $LISTEN_FDS counts the sockets, which start at fd 3.
package sdactivation

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// firstFD is SD_LISTEN_FDS_START.
const firstFD = 3

// Passed tells whether systemd passed sockets to this process.
func Passed() bool {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	return err == nil && pid == os.Getpid() && os.Getenv("LISTEN_FDS") != ""
}

// Listener returns the one stream socket systemd passed, listening, or nil
// when none was passed to this process. It unsets the variables, so that
// the processes this one starts do not take the socket for theirs.
func Listener() (net.Listener, error) {
	if !Passed() {
		return nil, nil
	}
	_, err := Inspect()
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID"} {
		os.Unsetenv(k)
	}
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(firstFD)
	f := os.NewFile(firstFD, "LISTEN_FD_3")
	defer f.Close() // FileListener holds a duplicate
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("the socket systemd passed: %w", err)
	}
	return l, nil
}

// Path is the file system path a passed Unix socket is bound to.
func Path(l net.Listener) string {
	if a, ok := l.Addr().(*net.UnixAddr); ok {
		return a.Name
	}
	return ""
}

// check refuses anything but a listening stream socket: a unit with
// ListenDatagram= or Accept=yes passes something else.
func check(fd int) error {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fmt.Errorf("not a socket: %w", err)
	}
	if typ != unix.SOCK_STREAM {
		return fmt.Errorf("not a stream socket (type %d)", typ)
	}
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return err
	}
	if listening == 0 {
		return fmt.Errorf("not listening (a unit with Accept=yes passes connections)")
	}
	return nil
}

// Inspect checks, without taking it, that systemd passed this process one
// listening stream socket, and returns the path it is bound to: a parent
// that hands the socket on to its child checks it first.
func Inspect() (string, error) {
	if n := os.Getenv("LISTEN_FDS"); n != "1" {
		return "", fmt.Errorf("systemd passed LISTEN_FDS=%s sockets; warren's socket unit has one ListenStream", n)
	}
	if err := check(firstFD); err != nil {
		return "", fmt.Errorf("the socket systemd passed (fd %d): %w", firstFD, err)
	}
	sa, err := unix.Getsockname(firstFD)
	if err != nil {
		return "", fmt.Errorf("the socket systemd passed: %w", err)
	}
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		return u.Name, nil
	}
	return "", fmt.Errorf("the socket systemd passed is not a Unix socket")
}
