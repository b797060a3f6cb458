package uplink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"warren/internal/fdpass"
)

// The engine's own connections to the host's loopback (a pull from a
// registry on the host's 127.0.0.1:5000) do not go through the gateway,
// which leads to the host's loopback only when containers may use it too.
// The engine asks the parent instead, over a unix socket that no container
// can see: the parent dials in the host's network namespace and hands the
// connected socket back as SCM_RIGHTS. It dials loopback addresses only.
//
// The exchange: the engine writes "tcp 127.0.0.1:5000\n"; the parent
// answers one byte, replyOK carrying the fd, or replyFail followed by the
// error's text.

// loopbackSock is the socket's name in the driver's folder.
const loopbackSock = "loopback.sock"

// dialTimeout bounds the parent's dial, and the whole exchange.
const dialTimeout = 30 * time.Second

// LoopbackSocket is where the parent serves loopback dials, given
// RootlessKit's state dir.
func LoopbackSocket(stateDir string) string {
	return filepath.Join(stateDir, "uplink", loopbackSock)
}

func listenLoopback(sock string) (*net.UnixListener, error) {
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("uplink: remove stale socket: %w", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("uplink: listen: %w", err)
	}
	return l, nil
}

// serveLoopback answers dials until l is closed; ctx ends the ones in flight.
func serveLoopback(ctx context.Context, l *net.UnixListener, log io.Writer) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(log, "uplink: loopback accept: %v\n", err)
			}
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			if err := answerDial(ctx, conn); err != nil {
				fmt.Fprintf(log, "uplink: loopback dial: %v\n", err)
			}
		}()
	}
}

func answerDial(ctx context.Context, conn *net.UnixConn) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 256)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	network, addr, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	out, err := dialLoopback(ctx, network, addr)
	if err != nil {
		_, werr := conn.Write(append([]byte{replyFail}, err.Error()...))
		return errors.Join(err, werr)
	}
	defer out.Close()
	f, err := out.(*net.TCPConn).File()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fdpass.Send(conn, []byte{replyOK}, int(f.Fd())); err != nil {
		return fmt.Errorf("send socket: %w", err)
	}
	return nil
}

// dialLoopback dials addr if it is a TCP address on the host's loopback.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() || (network != "tcp" && network != "tcp4" && network != "tcp6") {
		return nil, fmt.Errorf("%s %q is not a TCP address on the host's loopback", network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// DialHostLoopback connects to addr, a TCP address on the host's loopback,
// through the parent serving sock (LoopbackSocket).
func DialHostLoopback(ctx context.Context, sock, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, fmt.Errorf("dial %s on the host's loopback: %w", addr, err)
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	deadline := time.Now().Add(dialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(conn, "%s %s\n", network, addr); err != nil {
		return nil, fmt.Errorf("dial %s on the host's loopback: %w", addr, err)
	}
	fd, err := recvReply(conn)
	if err != nil {
		return nil, fmt.Errorf("dial %s on the host's loopback: %w", addr, err)
	}
	f := os.NewFile(uintptr(fd), "host-loopback")
	defer f.Close()
	return net.FileConn(f)
}

// recvReply reads the parent's answer: the connected socket, or its error.
func recvReply(conn *net.UnixConn) (int, error) {
	buf := make([]byte, 512)
	n, fds, err := fdpass.Receive(conn, buf, 1)
	if err != nil {
		return -1, err
	}
	switch {
	case n > 0 && buf[0] == replyOK && len(fds) == 1:
		return fds[0], nil
	case n > 0 && buf[0] == replyFail:
		fdpass.Close(fds)
		rest, _ := io.ReadAll(io.LimitReader(conn, 512))
		return -1, errors.New(string(buf[1:n]) + string(rest))
	}
	fdpass.Close(fds)
	return -1, errors.New("unexpected answer from the daemon's parent")
}
