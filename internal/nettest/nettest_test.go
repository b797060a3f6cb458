package nettest

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func TestServeTCP(t *testing.T) {
	ap := ServeTCP(t, "127.0.0.1:0", func(c *net.TCPConn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Write([]byte("got " + line))
	})
	for range 2 { // a connection each, served in turn
		c, err := net.Dial("tcp", ap.String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hi\n"))
		got, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || got != "got hi\n" {
			t.Fatalf("read %q, %v", got, err)
		}
	}
}

func TestServeUDP(t *testing.T) {
	ap := ServeUDP(t, "127.0.0.1:0", func(b []byte) []byte { return append([]byte("echo: "), b...) })
	c, err := net.Dial("udp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("datagram"))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "echo: datagram" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}
