// Command procprobe is the confinement test image's attacker. Run as a
// container's command (`procprobe HOSTDIR`), it polls /proc for processes
// other than itself and tries to leave the container through each one's
// /proc/PID/root and /proc/PID/cwd: to see and write into HOSTDIR, a folder
// that exists only on the host, and to read an /etc/hostname that is not
// the container's. It prints one "ESCAPE ..." line per success, "ready"
// once it polls, and on SIGTERM the number of processes it looked at.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: procprobe HOSTDIR")
		os.Exit(2)
	}
	hostDir := os.Args[1]
	own, err := os.ReadFile("/etc/hostname")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seen := map[string]bool{}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	self := strconv.Itoa(os.Getpid())
	fmt.Println("ready")
	for {
		select {
		case <-stop:
			fmt.Printf("looked at %d processes\n", len(seen))
			return
		default:
		}
		proc, err := os.Open("/proc")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		names, _ := proc.Readdirnames(-1)
		proc.Close()
		for _, pid := range names {
			if _, err := strconv.Atoi(pid); err != nil || pid == self || pid == "1" {
				continue
			}
			seen[pid] = true
			for _, link := range []string{"root", "cwd"} {
				try(filepath.Join("/proc", pid, link), pid, hostDir, own)
			}
		}
	}
}

// try attempts every escape through one /proc/PID/root or cwd link.
func try(base, pid, hostDir string, own []byte) {
	dir := base + hostDir
	if _, err := os.Stat(dir); err == nil {
		fmt.Printf("ESCAPE %s: saw host folder %s\n", base, hostDir)
	}
	if err := os.WriteFile(filepath.Join(dir, "pwned-"+pid), []byte("escaped\n"), 0o644); err == nil {
		fmt.Printf("ESCAPE %s: wrote into host folder %s\n", base, hostDir)
	}
	if b, err := os.ReadFile(base + "/etc/hostname"); err == nil && !bytes.Equal(b, own) {
		fmt.Printf("ESCAPE %s: read a foreign /etc/hostname %q\n", base, bytes.TrimSpace(b))
	}
}
