// Command connserver is the short-connection benchmark's server: for each
// connection it reads one request line, writes one reply line and closes.
// It runs on the host (the loopback baseline) and inside the bench image, so
// every figure measures the same server.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// reply is what every request gets back; small, so the figure measures
// connection setup and teardown rather than bytes.
const reply = "ok\n"

func main() {
	addr := flag.String("listen", ":5300", "address to listen on")
	idle := flag.Duration("idle", 0, "exit after this long without a new connection (0: never); for peers such as pasta whose command must end by itself")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	// The harness waits for this line in the container's log before it
	// starts the clients.
	fmt.Fprintf(os.Stdout, "connserver listening on %s\n", ln.Addr())
	if *idle > 0 {
		go exitWhenIdle(ln, *idle)
	}
	log.Fatal(serve(ln))
}

// exitWhenIdle closes the listener once no connection has arrived for d,
// which ends serve and the process.
func exitWhenIdle(ln net.Listener, d time.Duration) {
	for {
		last := lastAccept.Load()
		wait := time.Until(time.Unix(0, last).Add(d))
		if wait <= 0 {
			ln.Close()
			os.Exit(0)
		}
		time.Sleep(wait)
	}
}

// lastAccept is when the latest connection arrived (UnixNano).
var lastAccept atomic.Int64

func init() { lastAccept.Store(time.Now().UnixNano()) }

// serve answers connections until the listener fails; each connection gets
// its own goroutine so a slow client never holds the others back.
func serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		lastAccept.Store(time.Now().UnixNano())
		go answer(conn)
	}
}

// answer reads one line and replies once. The deadline keeps a client that
// never sends from pinning a goroutine and a descriptor forever.
func answer(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		return
	}
	_, _ = conn.Write([]byte(reply))
}
