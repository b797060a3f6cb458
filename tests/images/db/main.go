// Command db is the demo database image: a TCP server on :5432 that greets
// each client with a banner line and echoes the lines it receives.
package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
)

const banner = "warren-db ready"

func main() {
	ln, err := net.Listen("tcp", ":5432")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("db listening on :5432")
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(conn)
	}
}

func serve(conn net.Conn) {
	defer conn.Close()
	log.Printf("client %s", conn.RemoteAddr())
	if _, err := fmt.Fprintln(conn, banner); err != nil {
		return
	}
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		if _, err := fmt.Fprintln(conn, lines.Text()); err != nil {
			return
		}
	}
}
