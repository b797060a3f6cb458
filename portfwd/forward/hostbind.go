package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
)

// splitProto splits "tcp4" into "tcp" and "4"; the family may be empty.
func splitProto(proto string) (kind, family string, err error) {
	kind, family = proto[:min(3, len(proto))], proto[min(3, len(proto)):]
	if (kind != "tcp" && kind != "udp") || (family != "" && family != "4" && family != "6") {
		return "", "", fmt.Errorf("unsupported port protocol %s", proto)
	}
	return kind, family, nil
}

// bindHost creates the host socket for spec: a TCP listener or a bound
// UDP socket. fd stays valid as long as the returned closer is open.
func bindHost(ctx context.Context, spec port.Spec) (io.Closer, int, error) {
	kind, _, err := splitProto(spec.Proto)
	if err != nil {
		return nil, -1, err
	}
	addr := net.JoinHostPort(spec.ParentIP, strconv.Itoa(spec.ParentPort))
	var lc net.ListenConfig
	var sock interface {
		io.Closer
		SyscallConn() (syscall.RawConn, error)
	}
	if kind == "tcp" {
		ln, err := lc.Listen(ctx, spec.Proto, addr)
		if err != nil {
			return nil, -1, err
		}
		sock = ln.(*net.TCPListener)
	} else {
		pc, err := lc.ListenPacket(ctx, spec.Proto, addr)
		if err != nil {
			return nil, -1, err
		}
		sock = pc.(*net.UDPConn)
	}
	fd, err := socketFD(sock)
	if err != nil {
		sock.Close()
		return nil, -1, err
	}
	return sock, fd, nil
}

func socketFD(s interface {
	SyscallConn() (syscall.RawConn, error)
}) (int, error) {
	raw, err := s.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}

func isEPERM(err error) bool {
	// net.Listen's error does not always unwrap to EPERM; its text does.
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) ||
		strings.Contains(err.Error(), "permission denied")
}

// unprivilegedPortStart is where the sysctl is read; a variable for tests.
var unprivilegedPortStart = "/proc/sys/net/ipv4/ip_unprivileged_port_start"

// annotateEPERM says what to do about a privileged port, in RootlessKit's
// words (portfwd turns them into Docker's error), and keeps the error.
func annotateEPERM(origErr error, spec port.Spec) error {
	b, err := os.ReadFile(unprivilegedPortStart)
	if err != nil {
		return origErr
	}
	start, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || spec.ParentPort >= start {
		return origErr // not about the sysctl
	}
	return fmt.Errorf("cannot expose privileged port %d, you can add 'net.ipv4.ip_unprivileged_port_start=%d' to /etc/sysctl.conf (currently %d), or choose a larger port number (>= %d): %w",
		spec.ParentPort, spec.ParentPort, start, start, origErr)
}
