package tests

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// An input of the piped-stdin matrix: what the client's stdin receives.
type stdinCase struct {
	name  string
	lines int
	// slow writes a line every 50 ms instead of all at once.
	slow bool
}

var stdinCases = []stdinCase{
	{"one-line", 1, false},
	{"100000-lines", 100000, false},
	{"slow-writer", 20, true},
}

func (s stdinCase) data() []byte {
	var b bytes.Buffer
	for i := range s.lines {
		fmt.Fprintf(&b, "line %d of %s\n", i, s.name)
	}
	return b.Bytes()
}

// reader feeds the input, at once or a line every 50 ms, then EOF.
func (s stdinCase) reader() io.Reader {
	data := s.data()
	if !s.slow {
		return bytes.NewReader(data)
	}
	pr, pw := io.Pipe()
	go func() {
		for line := range bytes.Lines(data) {
			time.Sleep(50 * time.Millisecond)
			if _, err := pw.Write(line); err != nil {
				return
			}
		}
		pw.Close()
	}()
	return pr
}

// runPiped runs the CLI with stdin from r, as `producer | cli args`.
func runPiped(t *testing.T, c cli, stdin io.Reader, args ...string) result {
	t.Helper()
	bin := suite.bin
	if c.name == "docker" {
		requireDocker(t)
		bin = suite.docker
	}
	r := runCmdFrom(bin, suite.env, stdin, args...)
	t.Logf("$ … | %s %s → %d", c.name, strings.Join(args, " "), r.code)
	return r
}

// sameOutput compares by length and checksum, so a mismatch of 100,000
// lines prints two lines.
func sameOutput(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d bytes (sha256 %x), want %d bytes (sha256 %x); output starts %q",
			what, len(got), sha256.Sum256([]byte(got)), len(want), sha256.Sum256([]byte(want)), short(got))
	}
}

// eachStdinCase runs f for every CLI and input of the matrix.
func eachStdinCase(t *testing.T, f func(t *testing.T, c cli, in stdinCase)) {
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, in := range stdinCases {
			t.Run(in.name, func(t *testing.T) { f(t, c, in) })
		}
	})
}

// TestStdinRunPiped is `producer | run -i busybox cat`: every byte comes
// back after the client's stdin ended.
func TestStdinRunPiped(t *testing.T) {
	t.Parallel()
	eachStdinCase(t, func(t *testing.T, c cli, in stdinCase) {
		r := runPiped(t, c, in.reader(), "run", "--rm", "-i", "busybox", "cat")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		sameOutput(t, "run -i cat", r.stdout, string(in.data()))
	})
}

// TestStdinExecPiped is `producer | exec -i c sh`: the output and the
// shell's exit code come back after stdin ended.
func TestStdinExecPiped(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		r := runPiped(t, c, strings.NewReader("echo x\nexit 4\n"), "exec", "-i", name, "sh")
		if r.code != 4 || r.stdout != "x\n" {
			t.Errorf("exec -i sh: exit %d, stdout %q, want 4 and \"x\\n\"; stderr %s", r.code, r.stdout, r.stderr)
		}
		for _, in := range stdinCases {
			t.Run(in.name, func(t *testing.T) {
				r := runPiped(t, c, in.reader(), "exec", "-i", name, "cat")
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				sameOutput(t, "exec -i cat", r.stdout, string(in.data()))
			})
		}
	})
}

// TestStdinAttachPiped is `producer | attach c` to a container started
// with -i: head reads the lines, prints them and exits with 3; attach
// prints all of it and exits with the container's code.
func TestStdinAttachPiped(t *testing.T) {
	t.Parallel()
	eachStdinCase(t, func(t *testing.T, c cli, in stdinCase) {
		name, _ := runDetached(t, warrenCLI, "-i", "busybox", "sh", "-c", fmt.Sprintf("head -n %d; exit 3", in.lines))
		r := runPiped(t, c, in.reader(), "attach", name)
		if r.code != 3 {
			t.Errorf("attach exit %d, want 3; stderr %s", r.code, r.stderr)
		}
		sameOutput(t, "attach to head", r.stdout, string(in.data()))
	})
}

// TestAttachStopped: attach refuses a stopped container with docker's
// text, and a tty container when stdin is a pipe.
func TestAttachStopped(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		mustWarren(t, "create", "--name", name, "busybox", "true")
		r := runPiped(t, c, strings.NewReader(""), "attach", name)
		if r.code != 1 || strings.TrimSpace(r.stderr) != "You cannot attach to a stopped container, start it first" {
			t.Errorf("attach to a created container: exit %d, stderr %q", r.code, r.stderr)
		}
		tty, _ := runDetached(t, warrenCLI, "-it", "busybox", "sh")
		r = runPiped(t, c, strings.NewReader(""), "attach", tty)
		if r.code != 1 || strings.TrimSpace(r.stderr) != "the input device is not a TTY" {
			t.Errorf("attach to a tty container from a pipe: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestStdinRunTTYPiped: with a pipe as stdin, -t is refused before
// anything is created, as docker does.
func TestStdinRunTTYPiped(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		r := runPiped(t, c, strings.NewReader("x\n"), "run", "--rm", "-i", "-t", "busybox", "cat")
		if r.code != 1 || strings.TrimSpace(r.stderr) != "the input device is not a TTY" {
			t.Errorf("run -i -t from a pipe: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestStdinRunTTYTerminal types the matrix's inputs on a pty into
// `run -i -t busybox cat` (echo off, so each line comes back once) and
// ends it with Ctrl-D.
func TestStdinRunTTYTerminal(t *testing.T) {
	t.Parallel()
	eachStdinCase(t, func(t *testing.T, c cli, in stdinCase) {
		term := startTerminal(t, c, 24, 80, "run", "-i", "-t", "--rm", "busybox", "sh", "-c", "stty -echo; echo ready; exec cat")
		mark := term.expect(0, "ready\r\n")
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(term.tty, in.reader())
			done <- err
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(string(in.data()), "\n", "\r\n")
		waitFor(t, 60*time.Second, "cat to print every line", func() bool { return len(term.output())-mark >= len(want) })
		term.send("\x04") // Ctrl-D at a line's start: cat sees EOF
		if code := term.exit(); code != 0 {
			t.Errorf("run -i -t exit code %d after Ctrl-D", code)
		}
		sameOutput(t, "run -i -t cat", term.output()[mark:], want)
	})
}
