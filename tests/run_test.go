package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRunEcho(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		stdout, stderr, code := c.run(t, "run", "--rm", "--name", name, "busybox", "sh", "-c", "echo out; echo err >&2")
		if code != 0 || stdout != "out\n" || stderr != "err\n" {
			t.Errorf("got exit %d stdout %q stderr %q, want 0 %q %q", code, stdout, stderr, "out\n", "err\n")
		}
		// --rm: the CLI returns after removal, so the name is free at once.
		for _, n := range psNames(t) {
			if n == name {
				t.Errorf("--rm container %s still listed by ps -a", name)
			}
		}
	})
}

func TestRunExitCode(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		if _, stderr, code := c.run(t, "run", "--rm", "busybox", "sh", "-c", "exit 3"); code != 3 {
			t.Errorf("exit code %d, want 3 (stderr %q)", code, stderr)
		}
	})
}

func TestRunHostnameIsShortID(t *testing.T) {
	t.Parallel()
	name := container(t)
	out := mustWarren(t, "run", "--name", name, "busybox", "sh", "-c", "hostname; cat /etc/hostname; echo $HOSTNAME")
	id := inspectField(t, name, "{{.Id}}")
	short := id[:12]
	if want := short + "\n" + short + "\n" + short + "\n"; out != want {
		t.Errorf("hostname, /etc/hostname, $HOSTNAME = %q, want %q", out, want)
	}
}

func TestRunHostnameFlag(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "run", "--rm", "-h", "myhost", "busybox", "sh", "-c", "hostname; grep -c myhost /etc/hosts")
	if out != "myhost\n1\n" {
		t.Errorf("got %q, want hostname myhost listed once in /etc/hosts", out)
	}
}

func TestRunEtcHosts(t *testing.T) {
	t.Parallel()
	out := mustWarren(t, "run", "--rm", "busybox", "sh", "-c", "cat /etc/hosts; echo =; hostname")
	hosts, hostname, _ := strings.Cut(out, "=\n")
	hostname = strings.TrimSpace(hostname)
	if !strings.HasPrefix(hosts, "127.0.0.1\tlocalhost\n") {
		t.Errorf("/etc/hosts should start with 127.0.0.1<TAB>localhost:\n%s", hosts)
	}
	own := regexp.MustCompile(`(?m)^172\.17\.\d+\.\d+\t` + regexp.QuoteMeta(hostname) + `\n\z`)
	if !own.MatchString(hosts) {
		t.Errorf("/etc/hosts should end with <ip>\\t%s:\n%s", hostname, hosts)
	}
}

func TestRunEnv(t *testing.T) {
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=1\nSPACED=two words\nOVERRIDDEN=file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "run", "--rm", "-e", "FOO=bar", "-e", "EMPTY=", "--env-file", envFile,
			"-e", "OVERRIDDEN=flag", "busybox", "env")
		for _, want := range []string{
			"FOO=bar", "EMPTY=", "FROM_FILE=1", "SPACED=two words", "OVERRIDDEN=flag",
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
		} {
			if !containsLine(out, want) {
				t.Errorf("env lacks %q:\n%s", want, out)
			}
		}
		if containsLine(out, "OVERRIDDEN=file") {
			t.Errorf("-e should replace the env-file value:\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^HOSTNAME=[0-9a-f]{12}$`).MatchString(out) {
			t.Errorf("env lacks HOSTNAME=<short id>:\n%s", out)
		}
	})
}

func TestRunWorkdir(t *testing.T) {
	t.Parallel()
	// Docker creates a missing working directory.
	if out := mustWarren(t, "run", "--rm", "-w", "/tmp/new/dir", "busybox", "pwd"); out != "/tmp/new/dir\n" {
		t.Errorf("pwd = %q, want /tmp/new/dir", out)
	}
}

func TestRunUser(t *testing.T) {
	t.Parallel()
	tests := []struct{ user, want string }{
		{"1000", "1000 1000 user"}, // uid found in /etc/passwd: its group too
		{"user", "1000 1000 user"}, // name looked up
		{"1000:0", "1000 0 user"},  // explicit group
		{"", "0 0 root"},           // default root
		{"4242", "4242 0 4242"},    // unknown uid: gid 0, no name
	}
	for _, tt := range tests {
		t.Run("u="+tt.user, func(t *testing.T) {
			t.Parallel()
			args := []string{"run", "--rm"}
			if tt.user != "" {
				args = append(args, "-u", tt.user)
			}
			args = append(args, "busybox", "sh", "-c", `echo "$(id -u) $(id -g) $(id -un 2>/dev/null)"`)
			if out := strings.TrimSpace(mustWarren(t, args...)); out != tt.want {
				t.Errorf("-u %q: id = %q, want %q", tt.user, out, tt.want)
			}
		})
	}
}

func TestRunEntrypoint(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		if out := c.mustRun(t, "run", "--rm", "--entrypoint", "echo", "busybox", "hi", "there"); out != "hi there\n" {
			t.Errorf("got %q, want %q", out, "hi there\n")
		}
	})
}

func TestRunVolume(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustWarren(t, "run", "--rm", "-v", dir+":/data", "busybox", "sh", "-c", "cat /data/in; echo from container > /data/out")
	if out != "from host\n" {
		t.Errorf("container read %q from the bind mount", out)
	}
	if got := readFile(filepath.Join(dir, "out")); got != "from container\n" {
		t.Errorf("host sees %q, want the container's write", got)
	}
}

func TestRunVolumeReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, code := warren(t, "run", "--rm", "-v", dir+":/data:ro", "busybox", "sh", "-c", "echo x > /data/f")
	if code == 0 || !strings.Contains(stderr, "Read-only file system") {
		t.Errorf("write to a :ro volume: exit %d, stderr %q; want a failure with Read-only file system", code, stderr)
	}
	if fileExists(filepath.Join(dir, "f")) {
		t.Error("the write reached the host folder")
	}
}

// interfaces lists the network interfaces a container sees (/proc/net/dev
// is per network namespace).
func interfaces(t *testing.T, args ...string) []string {
	t.Helper()
	out := mustWarren(t, append(append([]string{"run", "--rm"}, args...), "busybox", "cat", "/proc/net/dev")...)
	var names []string
	for l := range strings.Lines(out) {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			names = append(names, strings.TrimSpace(name))
		}
	}
	return names
}

func TestRunNetworkNone(t *testing.T) {
	t.Parallel()
	if got := interfaces(t, "--network", "none"); strings.Join(got, ",") != "lo" {
		t.Errorf("--network none: interfaces %v, want only lo", got)
	}
	if got := interfaces(t); !strings.Contains(strings.Join(got, ","), "eth0") {
		t.Errorf("default network: interfaces %v, want lo and eth0", got)
	}
}
