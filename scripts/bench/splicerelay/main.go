// Command splicerelay is the floor of any userland port forwarder: it
// joins each client to a second connection on the host's loopback and
// moves the bytes with splice(2), a blocking thread per direction, no
// namespaces, bridge or event loop. Run beside a direct loopback stream,
// it shows what the second TCP connection alone costs on this machine.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func main() {
	listenAddr := flag.String("listen", "127.0.0.1:5302", "address to accept clients on")
	target := flag.String("target", "127.0.0.1:5201", "address to relay them to")
	flag.Parse()
	from, err := netip.ParseAddrPort(*listenAddr)
	if err != nil {
		log.Fatal(err)
	}
	to, err := netip.ParseAddrPort(*target)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := listen(from)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "splicerelay listening on %s\n", from)
	log.Fatal(serve(ln, to))
}

func listen(addr netip.AddrPort) (int, error) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(ln, sockaddr(addr)); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("bind %s: %w", addr, err)
	}
	if err := unix.Listen(ln, 128); err != nil {
		unix.Close(ln)
		return -1, err
	}
	return ln, nil
}

// serve relays every client of ln to target until accept fails.
func serve(ln int, target netip.AddrPort) error {
	for {
		client, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
			continue
		}
		if err != nil {
			return err
		}
		go relay(client, target)
	}
}

func sockaddr(ap netip.AddrPort) *unix.SockaddrInet4 {
	return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
}

func relay(client int, to netip.AddrPort) {
	server, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Connect(server, sockaddr(to))
	}
	if err != nil {
		log.Printf("dial %s: %v", to, err)
		unix.Close(client)
		return
	}
	for _, fd := range []int{client, server} {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	done := make(chan struct{})
	go func() { move(server, client); close(done) }()
	move(client, server)
	<-done
	unix.Close(client)
	unix.Close(server)
}

// move splices src into dst through a 1 MiB pipe (warren's size) until
// src ends, then half-closes dst.
func move(src, dst int) {
	runtime.LockOSThread()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	size, err := unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, 1<<20)
	if err != nil {
		size = 64 << 10
	}
	for {
		n, err := unix.Splice(src, nil, p[1], nil, size, unix.SPLICE_F_MOVE)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		for n > 0 {
			m, err := unix.Splice(p[0], nil, dst, nil, int(n), unix.SPLICE_F_MOVE)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return
			}
			n -= m
		}
	}
	_ = unix.Shutdown(dst, unix.SHUT_WR)
}
