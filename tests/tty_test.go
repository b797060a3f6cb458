package tests

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal runs a CLI on a real pseudo-terminal, as a user's shell would, and
// collects everything it prints.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startTerminal(t *testing.T, c cli, rows, cols uint16, args ...string) *terminal {
	t.Helper()
	bin := suite.bin
	if c.name == "docker" {
		bin = suite.docker
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = withEnv(suite.env, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatalf("start %s on a pty: %v", c.name, err)
	}
	term := &terminal{t: t, cmd: cmd, tty: tty, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return // EIO once the CLI has exited
			}
		}
	}()
	go func() { term.done <- cmd.Wait() }()
	t.Cleanup(func() { tty.Close() })
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.tty, s); err != nil {
		term.t.Fatalf("type %q: %v", s, err)
	}
}

// expect waits until the output (past mark) contains want and returns the
// new mark.
func (term *terminal) expect(mark int, want string) int {
	term.t.Helper()
	var at int
	waitFor(term.t, 20*time.Second, "terminal output "+want, func() bool {
		out := term.output()
		at = strings.Index(out[mark:], want)
		return at >= 0
	})
	return mark + at + len(want)
}

// exit waits for the CLI to end and returns its exit code.
func (term *terminal) exit() int {
	term.t.Helper()
	select {
	case err := <-term.done:
		if err == nil {
			return 0
		}
		if e, ok := err.(*exec.ExitError); ok {
			return e.ExitCode()
		}
		term.t.Fatalf("terminal CLI: %v", err)
	case <-time.After(20 * time.Second):
		term.t.Fatalf("CLI did not exit; output so far:\n%s", term.output())
	}
	return -1
}

func TestRunInteractiveTTY(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		term := startTerminal(t, c, 30, 100, "run", "-it", "--rm", "busybox", "sh")
		mark := term.expect(0, "# ") // busybox sh's root prompt
		// The typed line is echoed as typed; only the shell prints 42.
		term.send("echo $((6*7))\r")
		mark = term.expect(mark, "42\r\n")
		term.send("stty size\r")
		mark = term.expect(mark, "30 100\r\n")
		if err := pty.Setsize(term.tty, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
			t.Fatal(err)
		}
		// The new size travels CLI → daemon → container asynchronously.
		waitFor(t, 20*time.Second, "resize to be seen by stty", func() bool {
			term.send("stty size\r")
			next := strings.Index(term.output()[mark:], "40 120\r\n")
			return next >= 0
		})
		// The poll above may have queued more stty lines. A Ctrl-D typed
		// while one of them runs meets the cooked line discipline, which
		// turns it into an end-of-file marker that busybox's line editor
		// never sees once it is back in raw mode. So wait until every queued
		// line has run and the shell prompts again.
		term.send("echo synced$((1+1))\r")
		mark = term.expect(mark, "synced2\r\n")
		term.expect(mark, "# ")
		term.send("\x04") // Ctrl-D: the shell exits, and so does the CLI
		if code := term.exit(); code != 0 {
			t.Errorf("run -it exit code %d after Ctrl-D, want 0; output:\n%s", code, term.output())
		}
	})
}

func TestRunTTYExitCode(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, warrenCLI, 24, 80, "run", "-it", "--rm", "busybox", "sh")
	term.expect(0, "# ")
	term.send("exit 4\r")
	if code := term.exit(); code != 4 {
		t.Errorf("exit code %d, want 4", code)
	}
}

func TestExecInteractiveTTY(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		term := startTerminal(t, c, 24, 80, "exec", "-it", name, "sh")
		mark := term.expect(0, "# ")
		term.send("echo hi$((1+1)); exit\r")
		term.expect(mark, "hi2\r\n")
		if code := term.exit(); code != 0 {
			t.Errorf("exec -it exit code %d, want 0; output:\n%s", code, term.output())
		}
	})
}
