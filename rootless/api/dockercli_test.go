package api

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"warren/internal/testenv"
)

// dockerCLI finds the real docker client; these tests check warren against
// what it actually sends and reads, so they only skip when it is absent.
func dockerCLI(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/docker", "/usr/local/bin/docker"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		return p
	}
	testenv.Require(t, false, "the docker CLI is not installed")
	return ""
}

// runDocker runs the docker CLI against sock and returns stdout, stderr and
// the exit status.
func runDocker(t *testing.T, sock string, args ...string) (string, string, int) {
	t.Helper()
	bin := dockerCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	home := t.TempDir()
	cmd.Env = []string{
		"DOCKER_HOST=unix://" + sock,
		"DOCKER_CONFIG=" + home,
		"HOME=" + home,
		"PATH=/usr/bin:/bin",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("docker %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func TestDockerCLI(t *testing.T) {
	dockerCLI(t)
	fake := newFakeBackend()
	sock := serve(t, fake)

	expect := func(args []string, wantOut string, wantCode int) {
		t.Helper()
		out, errOut, code := runDocker(t, sock, args...)
		if out != wantOut || code != wantCode {
			t.Errorf("docker %v = %q (exit %d, stderr %q), want %q (exit %d)", args, out, code, errOut, wantOut, wantCode)
		}
	}

	expect([]string{"version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}"}, "1.50 1.50\n", 0)
	expect([]string{"run", "--rm", "busybox", "echo", "hello"}, "hello\n", 0)
	expect([]string{"run", "--name", "web", "busybox", "fail", "3"}, "", 3)
	expect([]string{"ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "name=web"}, "fake_0 Up 5 minutes\nweb Up 5 minutes\n", 0)
	expect([]string{"inspect", "-f", "{{.Name}} {{.NetworkSettings.IPAddress}}", "web"}, "/web 172.17.0.2\n", 0)
	expect([]string{"rm", "--link", "/web/db"}, "/web/db\n", 0)
	expect([]string{"logs", "web"}, "hello\n", 0)
	expect([]string{"exec", "web", "ls", "/"}, "ls /\n", 0)
	expect([]string{"exec", "-d", "web", "ls", "/"}, "", 0)
	expect([]string{"pull", "-q", "busybox"}, "docker.io/library/busybox:latest\n", 0)
	expect([]string{"pull", "broken"}, "Using default tag: latest\nlatest: Pulling from library/busybox\nabc123: Pulling fs layer\n", 1)
	expect([]string{"inspect", "nosuch"}, "[]\n", 1)
	expect([]string{"rm", "-f", "nosuch", "web"}, "web\n", 0)

	tarball := filepath.Join(t.TempDir(), "busybox.tar")
	if err := os.WriteFile(tarball, []byte("TARBALL"), 0o644); err != nil {
		t.Fatal(err)
	}
	expect([]string{"load", "-i", tarball}, "Loaded image: busybox:latest\n", 0)

	// The ps filter reached the engine in the CLI's map form.
	if got := fake.listOpts.Filters["name"]; len(got) != 1 || got[0] != "web" {
		t.Errorf("ps filters reached the engine as %v", fake.listOpts.Filters)
	}
	if _, errOut, _ := runDocker(t, sock, "logs", "web"); errOut != "oops\n" {
		t.Errorf("docker logs stderr %q, want oops", errOut)
	}
	if _, errOut, code := runDocker(t, sock, "run", "missing"); code != 125 || !bytes.Contains([]byte(errOut), []byte("Unable to find image 'missing:latest' locally")) {
		t.Errorf("docker run missing: exit %d stderr %q", code, errOut)
	}
}
