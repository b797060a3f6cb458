package tests

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Ctrl-C on an attached `run` goes to the container (sig-proxy), which
// handles it. The same SIGINT cancels the CLI command's context; that must
// not cut run's streams: the container's last words and exit status arrive.
func TestRunSigProxyInterrupt(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(suite.bin, "run", "--rm", "busybox", "sh", "-c",
		`trap 'echo got-INT; exit 3' INT; echo ready; while true; do sleep 0.1; done`)
	cmd.Env = suite.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("first line %q, want ready; stderr %s", lines.Text(), stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || strings.Join(rest, "\n") != "got-INT" {
		t.Errorf("after SIGINT: output %q, exit %v, stderr %q; want got-INT and exit status 3", rest, err, stderr.String())
	}
}
