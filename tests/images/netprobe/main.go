// Command netprobe is the network test image's tool. As a server (the
// default: `netprobe serve udp:7000`) it answers on each given port: a TCP
// client gets the line "netprobe <port>" and then its own lines echoed back,
// a UDP datagram is echoed unchanged. As a client (`netprobe udp HOST:PORT
// MESSAGE`) it sends one datagram and prints the reply, which busybox's nc
// cannot do (Debian's build has no -u).
package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"serve", "udp:7000"}
	}
	var err error
	switch {
	case args[0] == "serve" && len(args) > 1:
		err = serve(args[1:])
	case args[0] == "udp" && len(args) == 3:
		err = udpRequest(args[1], args[2])
	default:
		err = fmt.Errorf("usage: netprobe serve tcp:PORT|udp:PORT... | netprobe udp HOST:PORT MESSAGE")
	}
	if err != nil {
		log.Fatal(err)
	}
}

// serve listens on every spec before it logs that it is ready, so a test
// that waits for the log line knows all ports answer.
func serve(specs []string) error {
	for _, spec := range specs {
		proto, port, ok := strings.Cut(spec, ":")
		if !ok {
			return fmt.Errorf("bad spec %q, want tcp:PORT or udp:PORT", spec)
		}
		switch proto {
		case "tcp":
			ln, err := net.Listen("tcp", ":"+port)
			if err != nil {
				return err
			}
			go acceptLoop(ln, port)
		case "udp":
			pc, err := net.ListenPacket("udp", ":"+port)
			if err != nil {
				return err
			}
			go echoDatagrams(pc)
		default:
			return fmt.Errorf("bad protocol in %q", spec)
		}
	}
	log.Printf("netprobe ready: %s", strings.Join(specs, " "))
	select {}
}

func acceptLoop(ln net.Listener, port string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go echoLines(conn, port)
	}
}

func echoLines(conn net.Conn, port string) {
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "netprobe %s\n", port); err != nil {
		return
	}
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		if _, err := fmt.Fprintln(conn, lines.Text()); err != nil {
			return
		}
	}
}

func echoDatagrams(pc net.PacketConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}

// udpRequest sends msg to addr and prints the first reply, retrying a few
// times since a datagram may be lost.
func udpRequest(addr, msg string) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	for try := 0; try < 5; try++ {
		if _, err := conn.Write([]byte(msg)); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(buf)
		if err == nil {
			fmt.Printf("%s\n", buf[:n])
			return nil
		}
	}
	return fmt.Errorf("no reply from %s", addr)
}
