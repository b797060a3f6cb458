// Command connload measures short connections per second: each of N
// connections connects, sends one small request, reads the reply and
// closes, with C of them in flight at a time (C=1: strictly in sequence).
// It prints one line, "conns_per_s=R ok=K errors=E seconds=S", that the
// bench scripts parse.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const request = "ping\n"

func main() {
	addr := flag.String("addr", "127.0.0.1:5300", "server address")
	n := flag.Int("n", 2000, "connections in total")
	c := flag.Int("c", 1, "connections in flight at once")
	timeout := flag.Duration("timeout", 10*time.Second, "per-connection deadline")
	flag.Parse()
	if *n < 1 || *c < 1 {
		fmt.Fprintln(os.Stderr, "connload: -n and -c must be at least 1")
		os.Exit(2)
	}
	res := run(*addr, *n, *c, *timeout)
	fmt.Println(res)
	if res.ok == 0 {
		fmt.Fprintln(os.Stderr, "connload: first error:", res.firstErr)
		os.Exit(1)
	}
}

type result struct {
	ok, errors int64
	elapsed    time.Duration
	firstErr   error
}

// rate is successful connections per second of wall time.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

func (r result) String() string {
	return fmt.Sprintf("conns_per_s=%.0f ok=%d errors=%d seconds=%.3f", r.rate(), r.ok, r.errors, r.elapsed.Seconds())
}

// run spreads n connections over c workers that take tickets from one
// counter, so the total is exact whatever c is.
func run(addr string, n, c int, timeout time.Duration) result {
	if c > n {
		c = n
	}
	var next, ok, failed atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := oneConn(addr, timeout); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return result{ok: ok.Load(), errors: failed.Load(), elapsed: time.Since(start), firstErr: firstErr}
}

// oneConn is one short connection: connect, one request, one reply, close.
func oneConn(addr string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(request)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		return fmt.Errorf("read reply: %w", err)
	}
	return nil
}
