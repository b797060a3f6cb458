package tests

// Confinement: Docker's default seccomp profile in every container and
// exec, and --security-opt as Docker takes it.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seccompMode is the Seccomp line of /proc/self/status in a new container.
func seccompMode(t *testing.T, c cli, args ...string) string {
	t.Helper()
	out := c.mustRun(t, append(append([]string{"run", "--rm"}, args...), "busybox", "grep", "^Seccomp:", "/proc/self/status")...)
	return strings.Join(strings.Fields(out), " ")
}

func TestSeccompByDefault(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{nil, "Seccomp: 2"},
			{[]string{"-u", "1000:1000"}, "Seccomp: 2"},
			{[]string{"--security-opt", "seccomp=builtin"}, "Seccomp: 2"},
			{[]string{"--security-opt", "seccomp=unconfined"}, "Seccomp: 0"},
			{[]string{"--privileged"}, "Seccomp: 0"},
		} {
			if got := seccompMode(t, c, tt.args...); got != tt.want {
				t.Errorf("run %v: %q, want %q", tt.args, got, tt.want)
			}
		}
	})
}

// unshare(CLONE_NEWUSER) is one the kernel lets anyone make and the
// profile refuses without CAP_SYS_ADMIN: EPERM under the filter, fine
// without it.
func TestSeccompRefusesWithEPERM(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		_, stderr, code := c.run(t, "run", "--rm", "busybox", "unshare", "-U", "true")
		if code == 0 || !strings.Contains(stderr, "Operation not permitted") {
			t.Errorf("unshare -U under the default profile: exit %d, stderr %q; want EPERM", code, stderr)
		}
		c.mustRun(t, "run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true")
		// CAP_SYS_ADMIN opens the profile's rules for it.
		c.mustRun(t, "run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "unshare", "-U", "true")
	})
}

func TestSeccompCustomProfile(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	body := `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
}`
	if err := os.WriteFile(profile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		_, stderr, code := c.run(t, "run", "--rm", "--security-opt", "seccomp="+profile, "busybox", "mkdir", "/x")
		if code != 1 || !strings.Contains(stderr, "mkdir: can't create directory '/x': Operation not permitted") {
			t.Errorf("mkdir under a profile refusing it: exit %d, stderr %q", code, stderr)
		}
		// What the profile does not name runs, and the kernel sees a filter.
		if got := seccompMode(t, c, "--security-opt", "seccomp="+profile); got != "Seccomp: 2" {
			t.Errorf("custom profile: %q", got)
		}
		c.mustRun(t, "run", "--rm", "busybox", "mkdir", "/x")
	})
}

// exec'd processes get the container's filter; --privileged on the exec
// does not lift it (Docker's exec keeps the container's profile).
func TestSeccompExec(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		confined, _ := runDetached(t, c, "busybox", "sleep", "1000")
		free, _ := runDetached(t, c, "--security-opt", "seccomp=unconfined", "busybox", "sleep", "1000")
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{confined, nil, "Seccomp: 2"},
			{confined, []string{"--privileged"}, "Seccomp: 2"},
			{confined, []string{"-u", "1000"}, "Seccomp: 2"},
			{free, nil, "Seccomp: 0"},
		} {
			out := c.mustRun(t, append(append([]string{"exec"}, tt.args...), tt.name, "grep", "^Seccomp:", "/proc/self/status")...)
			if got := strings.Join(strings.Fields(out), " "); got != tt.want {
				t.Errorf("exec %v: %q, want %q", tt.args, got, tt.want)
			}
		}
	})
}

// systempaths=unconfined (turned by the CLI into empty masked and
// read-only lists) leaves /proc unmasked.
func TestSecurityOptSystemPaths(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		count := `awk '$5 ~ "^/proc/." {n++} END {print n+0}' /proc/self/mountinfo`
		if got := strings.TrimSpace(c.mustRun(t, "run", "--rm", "busybox", "sh", "-c", count)); got == "0" {
			t.Errorf("no mounts over /proc paths by default")
		}
		if got := strings.TrimSpace(c.mustRun(t, "run", "--rm", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", count)); got != "0" {
			t.Errorf("%s mounts over /proc paths with systempaths=unconfined, want 0", got)
		}
	})
}

// The options Docker accepts on a host without AppArmor or SELinux run.
func TestSecurityOptAccepted(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		c.mustRun(t, "run", "--rm", "--security-opt", "no-new-privileges", "--security-opt", "no-new-privileges=false",
			"--security-opt", "apparmor=unconfined", "--security-opt", "label=disable", "busybox", "true")
	})
}

func TestErrSecurityOpt(t *testing.T) {
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	badAction := filepath.Join(dir, "bad-action.json")
	if err := os.WriteFile(badJSON, []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badAction, []byte(`{"defaultAction":"SCMP_ACT_NOPE"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	eachCLI(t, func(t *testing.T, c cli) {
		leftovers(t)
		for _, tt := range []struct {
			opt, want string
		}{
			{"foo=bar", `Error response from daemon: invalid --security-opt 2: "foo=bar"`},
			{"no-new-privileges=maybe", `Error response from daemon: invalid --security-opt 2: "no-new-privileges=maybe"`},
			{"foo", `Invalid --security-opt: "foo"`},
			{"seccomp=" + filepath.Join(dir, "missing.json"), "opening seccomp profile (" + filepath.Join(dir, "missing.json") + ") failed"},
			{"seccomp=" + badJSON, "compacting json for seccomp profile (" + badJSON + ") failed"},
			{"seccomp=" + badAction, `Error response from daemon: seccomp: unknown action "SCMP_ACT_NOPE"`},
		} {
			expectFailure(t, c, 125, []string{tt.want}, "run", "--security-opt", tt.opt, "busybox", "true")
		}
	})
}

// info names the seccomp profile containers get, as Docker's does.
func TestInfoSeccompProfile(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		out := c.mustRun(t, "info")
		for _, want := range []string{" Security Options:\n  seccomp\n   Profile: builtin\n", "  rootless\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s info lacks %q:\n%s", c.name, want, out)
			}
		}
	})
}
