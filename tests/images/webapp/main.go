// Command webapp is the demo web application image: it answers on :5000 and,
// when linked to the db image (--link db:db), says whether it reached it.
package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	http.HandleFunc("/", hello)
	log.Printf("webapp listening on :5000")
	log.Fatal(http.ListenAndServe(":5000", nil))
}

func hello(w http.ResponseWriter, r *http.Request) {
	log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
	fmt.Fprintln(w, "Hello world!")
	addr, port := os.Getenv("DB_PORT_5432_TCP_ADDR"), os.Getenv("DB_PORT_5432_TCP_PORT")
	if addr == "" || port == "" {
		return
	}
	fmt.Fprintln(w, dbStatus(net.JoinHostPort(addr, port)))
}

// dbStatus dials the linked database and reads its banner, so the page
// proves the link variables point at a live container.
func dbStatus(target string) string {
	conn, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		return fmt.Sprintf("Database: unreachable at %s (%v)", target, err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	banner, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Sprintf("Database: unreachable at %s (no banner: %v)", target, err)
	}
	return fmt.Sprintf("Database: connected to %s (%s)", target, strings.TrimSpace(banner))
}
