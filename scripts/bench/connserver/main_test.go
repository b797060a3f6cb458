package main

import (
	"bufio"
	"net"
	"testing"
)

func TestServeAnswersOnceAndCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serve(ln)

	for i := 0; i < 3; i++ {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		if err != nil || line != reply {
			t.Fatalf("reply = %q, %v; want %q", line, err, reply)
		}
		// The server closes after one reply: the next read is EOF.
		if _, err := r.ReadByte(); err == nil {
			t.Fatal("connection still open after the reply")
		}
		conn.Close()
	}
}
