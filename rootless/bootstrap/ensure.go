package bootstrap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"warren/internal/config"
)

// How EnsureDaemon waits for a daemon it started: the socket usually
// answers within a few hundred milliseconds.
const (
	startTimeout = 15 * time.Second
	pollInterval = 5 * time.Millisecond
)

// EnsureDaemon returns once the daemon answers on p.Socket(), starting
// `warren daemon` in the background first if nothing answers. Several CLI
// processes may race here: the daemon lock lets one daemon win, the others'
// daemons exit, and every caller ends up talking to the winner.
func EnsureDaemon(p config.Paths) error {
	if ping(p.Socket()) == nil {
		return nil
	}
	if err := p.MakeDirs(); err != nil {
		return err
	}
	d, err := startDetached(p)
	if err != nil {
		return err
	}
	return d.waitReady(p)
}

// ping asks the API for GET /_ping, as the docker CLI does first.
func ping(socket string) error {
	c := http.Client{
		Timeout: time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}},
	}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://warren/_ping")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping %s: %s", socket, resp.Status)
	}
	return nil
}

// started is a daemon EnsureDaemon launched.
type started struct {
	exited  chan error
	log     string
	logFrom int64 // where this daemon's lines begin in the log
}

// startDetached launches `warren daemon` in its own session, so that the
// terminal's signals and the CLI's exit do not reach it, writing to the log.
func startDetached(p config.Paths) (*started, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start the warren daemon: %w", err)
	}
	trimLog(p.LogFile())
	log, err := os.OpenFile(p.LogFile(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open daemon log: %w", err)
	}
	defer log.Close()
	from, err := log.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("open daemon log: %w", err)
	}
	cmd := exec.Command(exe, "daemon")
	cmd.Env = append(os.Environ(), p.Env()...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the warren daemon: %w", err)
	}
	s := &started{exited: make(chan error, 1), log: p.LogFile(), logFrom: from}
	go func() { s.exited <- cmd.Wait() }()
	return s, nil
}

// maxLogSize bounds daemon.log: each background start appends to it, and
// only the latest daemon's lines matter.
const maxLogSize = 1 << 20

// trimLog empties an oversized log before a new daemon writes to it.
func trimLog(path string) {
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogSize {
		os.Truncate(path, 0)
	}
}

// waitReady polls the socket until the daemon answers. If ours exits and no
// other daemon holds the lock, the daemon failed: its last words say why.
func (s *started) waitReady(p config.Paths) error {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	exited := s.exited
	for time.Now().Before(deadline) {
		if ping(p.Socket()) == nil {
			return nil
		}
		select {
		case <-exited:
			if !lockHeld(p) && ping(p.Socket()) != nil {
				return s.failure()
			}
			// Another CLI's daemon won the lock; wait for it instead.
			exited = nil
		case <-tick.C:
		}
	}
	return fmt.Errorf("warren: the daemon did not answer on %s within %s; see %s", p.Socket(), startTimeout, s.log)
}

// failure is the error for a daemon that exited before answering.
func (s *started) failure() error {
	f, err := os.Open(s.log)
	if err == nil {
		defer f.Close()
		if _, err = f.Seek(s.logFrom, io.SeekStart); err == nil {
			if line := lastMeaningfulLine(f); line != "" {
				return errors.New(line)
			}
		}
	}
	return fmt.Errorf("warren: the daemon exited before answering; see %s", s.log)
}

// lastMeaningfulLine picks, from a failed daemon's output, the line that
// says why: the daemon's own fatal error ("warren: …") unless it only says
// the engine exited, then the engine's ("warren engine: …"), else the last
// line.
func lastMeaningfulLine(r io.Reader) string {
	var fatal, engine, last string
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "warren: ") && !strings.HasPrefix(line, "warren: "+engineExitedFailText):
			fatal = line
		case strings.HasPrefix(line, "warren engine: "):
			engine = line
		}
		last = line
	}
	switch {
	case fatal != "":
		return fatal
	case engine != "":
		return engine
	}
	return last
}
