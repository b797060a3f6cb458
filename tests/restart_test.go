package tests

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Restart policies as moby's restartmanager applies them. No test times
// the back-off: each waits for the state it expects. A decision to
// restart is made as the exit is recorded, so a container seen "exited"
// is final (it would be "restarting" otherwise).

// statusCount is "<State.Status> <RestartCount>".
func statusCount(t testing.TB, name string) string {
	t.Helper()
	out, _, code := warren(t, "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name)
	if code != 0 {
		return ""
	}
	return strings.TrimSpace(out)
}

func restartCount(t testing.TB, name string) int {
	t.Helper()
	n, err := strconv.Atoi(inspectField(t, name, "{{.RestartCount}}"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// on-failure:2 restarts a failing process exactly twice, then leaves it
// exited with its code.
func TestRestartOnFailureCount(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3")
		waitFor(t, 60*time.Second, name+" to end", func() bool {
			return strings.HasPrefix(statusCount(t, name), "exited ")
		})
		if got := statusCount(t, name); got != "exited 2" {
			t.Errorf("status and RestartCount = %q, want \"exited 2\"", got)
		}
		if got := inspectField(t, name, "{{.State.ExitCode}} {{.State.Restarting}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "3 false on-failure:2" {
			t.Errorf("ExitCode Restarting Policy = %q", got)
		}
		// A clean exit is no failure: no restart.
		ok, _ := runDetached(t, c, "--restart", "on-failure", "busybox", "true")
		waitState(t, ok, "exited")
		if got := statusCount(t, ok); got != "exited 0" {
			t.Errorf("on-failure after exit 0: %q, want \"exited 0\"", got)
		}
	})
}

// always restarts a process that exits 0; ps shows the back-off as
// Docker's "Restarting (0) … ago"; a stop ends it for good.
func TestRestartAlwaysAndStop(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--restart", "always", "busybox", "true")
		waitFor(t, 60*time.Second, name+" to restart twice", func() bool { return restartCount(t, name) >= 2 })
		waitFor(t, 60*time.Second, "ps to show "+name+" restarting", func() bool {
			out := c.mustRun(t, "ps", "--filter", "name=^"+name+"$", "--format", "{{.Status}}")
			return strings.HasPrefix(out, "Restarting (0) ") && strings.HasSuffix(strings.TrimSpace(out), " ago")
		})
		if got := inspectField(t, name, "{{.State.Running}} {{.State.Restarting}}"); got != "true true" && got != "true false" {
			t.Errorf("Running Restarting = %q, want Running true while it restarts", got)
		}
		c.mustRun(t, "stop", name)
		if got := inspectField(t, name, "{{.State.Status}} {{.State.Restarting}}"); got != "exited false" {
			t.Errorf("after stop: %q, want \"exited false\"", got)
		}

		// A running one, stopped, is not restarted either.
		sleeper, _ := runDetached(t, c, "--restart", "always", "busybox", "sleep", "1000")
		c.mustRun(t, "stop", "-t", "1", sleeper)
		if got := statusCount(t, sleeper); got != "exited 0" {
			t.Errorf("after stop: %q, want \"exited 0\"", got)
		}
		// A manual start begins again.
		c.mustRun(t, "start", sleeper)
		waitState(t, sleeper, "running")
	})
}

// A process killed from the host (not through the API) is restarted.
func TestRestartAfterHostKill(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--restart", "always", "busybox", "sleep", "1000")
		pid, err := strconv.Atoi(inspectField(t, name, "{{.State.Pid}}"))
		if err != nil || pid <= 0 {
			t.Fatalf("State.Pid = %d, %v", pid, err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, name+" to run again", func() bool { return statusCount(t, name) == "running 1" })
		if got := inspectField(t, name, "{{.State.ExitCode}}"); got != "0" {
			t.Errorf("ExitCode while running again = %s, want 0", got)
		}
		newPid, _ := strconv.Atoi(inspectField(t, name, "{{.State.Pid}}"))
		if newPid == pid || newPid <= 0 {
			t.Errorf("Pid after the restart = %d (was %d)", newPid, pid)
		}
		// A kill through the API is a manual stop.
		c.mustRun(t, "kill", name)
		if got := statusCount(t, name); got != "exited 1" {
			t.Errorf("after kill: %q, want \"exited 1\"", got)
		}
	})
}

// rm refuses a running or restarting container with a restart policy
// without -f, in Docker's words, and removes it with -f.
func TestRestartRm(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--restart", "always", "busybox", "sleep", "1000")
		_, stderr, code := c.run(t, "rm", name)
		want := fmt.Sprintf("Error response from daemon: cannot remove container %q: container is running: stop the container before removing or force remove\n", name)
		if code != 1 || stderr != want {
			t.Errorf("rm of a running always container: exit %d, stderr %q, want %q", code, stderr, want)
		}
		c.mustRun(t, "rm", "-f", name)
		if _, _, code := warren(t, "inspect", name); code == 0 {
			t.Errorf("%s still exists after rm -f", name)
		}

		// In its back-off: the exit is instant and the waits double, so
		// soon it spends nearly all its time restarting.
		crash, _ := runDetached(t, c, "--restart", "always", "busybox", "sh", "-c", "exit 5")
		waitFor(t, 60*time.Second, crash+" to restart 5 times", func() bool { return restartCount(t, crash) >= 5 })
		refused := false
		for !refused {
			waitFor(t, 60*time.Second, crash+" to be restarting", func() bool {
				return strings.HasPrefix(statusCount(t, crash), "restarting ")
			})
			_, stderr, code := c.run(t, "rm", crash)
			if code == 0 {
				t.Fatalf("rm without -f removed a restarting container")
			}
			// It may have begun its next run meanwhile; then try again.
			refused = strings.Contains(stderr, "container is restarting")
			if !refused && !strings.Contains(stderr, "container is running") {
				t.Fatalf("rm of a restarting container: %q", stderr)
			}
			if refused {
				want := fmt.Sprintf("Error response from daemon: cannot remove container %q: container is restarting: stop the container before removing or force remove\n", crash)
				if stderr != want {
					t.Errorf("rm of a restarting container: %q, want %q", stderr, want)
				}
			}
		}
		waitFor(t, 60*time.Second, crash+" to be restarting", func() bool {
			return strings.HasPrefix(statusCount(t, crash), "restarting ")
		})
		c.mustRun(t, "rm", "-f", crash)
		if _, _, code := warren(t, "inspect", crash); code == 0 {
			t.Errorf("%s still exists after rm -f while restarting", crash)
		}
	})
}

// update --restart changes the policy from the next exit; bad input gets
// Docker's errors and changes nothing; resource limits are refused, not
// dropped.
func TestRestartUpdate(t *testing.T) {
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "--restart", "always", "busybox", "sh", "-c", "exit 4")
		waitFor(t, 60*time.Second, name+" to restart", func() bool { return restartCount(t, name) >= 1 })
		if out := c.mustRun(t, "update", "--restart", "no", name); out != name+"\n" {
			t.Errorf("update printed %q", out)
		}
		waitFor(t, 60*time.Second, name+" to stay exited", func() bool {
			return strings.HasPrefix(statusCount(t, name), "exited ")
		})
		if got := inspectField(t, name, "{{.HostConfig.RestartPolicy.Name}} {{.State.ExitCode}}"); got != "no 4" {
			t.Errorf("after update --restart no: %q", got)
		}

		// And the other way: a stopped container gets a policy, kept on disk.
		c.mustRun(t, "update", "--restart", "on-failure:3", name)
		if got := inspectField(t, name, "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "on-failure:3" {
			t.Errorf("after update --restart on-failure:3: %q", got)
		}

		for _, bad := range []struct {
			args []string
			want string
		}{
			{[]string{"update", "--restart", "bogus", name},
				"invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
			{[]string{"update", "--restart", "always:3", name},
				"invalid restart policy: maximum retry count can only be used with 'on-failure'"},
			{[]string{"update", "--restart", ":3", name}, "invalid restart policy format: no policy provided before colon"},
			{[]string{"update", name}, "you must provide one or more flags when using this command"},
			{[]string{"update", "--restart", "always", "no-such-" + name}, "No such container: no-such-" + name},
		} {
			_, stderr, code := c.run(t, bad.args...)
			if code == 0 || !strings.Contains(stderr, bad.want) {
				t.Errorf("%s %v: exit %d, stderr %q, want %q", c.name, bad.args, code, stderr, bad.want)
			}
		}
		if got := inspectField(t, name, "{{.HostConfig.RestartPolicy.Name}}"); got != "on-failure" {
			t.Errorf("bad updates changed the policy to %q", got)
		}

		// --rm and a policy do not go together, as in Docker.
		rm := container(t)
		c.mustRun(t, "create", "--rm", "--name", rm, "busybox", "true")
		_, stderr, code := c.run(t, "update", "--restart", "always", rm)
		if code == 0 || !strings.Contains(stderr, "Restart policy cannot be updated because AutoRemove is enabled for the container") {
			t.Errorf("update of a --rm container: exit %d, %q", code, stderr)
		}
	})
}

// docker update's resource flags are refused by name: the engine does not
// apply limits yet, and must not pretend to.
func TestRestartUpdateRefusesResources(t *testing.T) {
	requireDocker(t)
	name, _ := runDetached(t, dockerCLI, "busybox", "sleep", "1000")
	_, stderr, code := docker(t, "update", "--memory", "64m", name)
	if code == 0 || !strings.Contains(stderr, "warren does not apply resource limits yet (Memory") {
		t.Errorf("update --memory: exit %d, %q", code, stderr)
	}
	_, stderr, code = docker(t, "update", "--restart", "always", "--cpus", "1", name)
	if code == 0 || !strings.Contains(stderr, "NanoCPUs") {
		t.Errorf("update --cpus: exit %d, %q", code, stderr)
	}
	if got := inspectField(t, name, "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}}"); got != "no 0" {
		t.Errorf("a refused update changed %q", got)
	}
}

// A daemon that ends (SIGTERM, then SIGKILL) brings back always and
// unless-stopped containers when it starts again (a linked one whatever
// order it finds them in), not a manually stopped unless-stopped one nor
// one without a policy, nor one never started.
func TestRestartAtDaemonStart(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t)
	run := func(name string, args ...string) {
		d.mustRun(t, append([]string{"run", "-d", "--stop-timeout", "1", "--name", name}, args...)...)
	}
	run("always", "--restart", "always", "busybox", "sleep", "1000")
	run("unless", "--restart", "unless-stopped", "busybox", "sleep", "1000")
	run("stopped", "--restart", "unless-stopped", "busybox", "sleep", "1000")
	run("plain", "busybox", "sleep", "1000")
	// web needs db running to start; the daemon may find it first.
	run("db", "--restart", "always", "busybox", "sleep", "1000")
	run("web", "--restart", "always", "--link", "db:db", "busybox", "sleep", "1000")
	d.mustRun(t, "create", "--restart", "always", "--name", "created", "busybox", "true")
	d.mustRun(t, "stop", "-t", "1", "stopped")

	status := func(name string) string {
		return strings.TrimSpace(d.mustRun(t, "inspect", "-f", "{{.State.Status}}", name))
	}
	restartDaemon := func(sig syscall.Signal) {
		t.Helper()
		daemon := d.proc.cmd.Process.Pid
		tree := append(processTree(daemon), daemon)
		if err := d.proc.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		<-d.proc.done
		waitFor(t, 30*time.Second, "the daemon's processes to go", func() bool {
			return !slices.ContainsFunc(tree, func(pid int) bool { return !exited(pid) })
		})
		if sig == syscall.SIGTERM && d.proc.err != nil {
			t.Fatalf("daemon exited uncleanly after SIGTERM: %v", d.proc.err)
		}
		logPath := d.proc.log + "." + strconv.Itoa(int(sig))
		p, err := startDaemon(d.env, filepath.Join(d.runDir, "warren.sock"), logPath)
		if err != nil {
			t.Fatal(err)
		}
		d.proc = p
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		restartDaemon(sig)
		for _, name := range []string{"always", "unless", "db", "web"} {
			waitFor(t, 60*time.Second, name+" to come back after "+sig.String(), func() bool { return status(name) == "running" })
		}
		for name, want := range map[string]string{"stopped": "exited", "plain": "exited", "created": "created"} {
			if got := status(name); got != want {
				t.Errorf("after %s: %s is %s, want %s", sig, name, got, want)
			}
		}
	}
	// The restart at daemon start is a fresh start: the count is 0.
	if got := strings.TrimSpace(d.mustRun(t, "inspect", "-f", "{{.RestartCount}}", "always")); got != "0" {
		t.Errorf("RestartCount after the daemon restarts = %s, want 0", got)
	}
}

// BenchmarkRestartLatency is the time from a crash to the new process
// running (inspect's StartedAt minus the crash's FinishedAt), with the
// first back-off of 100 ms in it; each iteration uses a new container,
// so the back-off is the first one. Run it as the e2e tests run, with
// -test.run '^$' -test.bench RestartLatency -test.benchtime 20x.
func BenchmarkRestartLatency(b *testing.B) {
	var lat []time.Duration
	for b.Loop() {
		name := container(b)
		// The first run crashes; the second finds the mark in its upper
		// layer and stays up.
		mustWarren(b, "run", "-d", "--restart", "always", "--name", name, "busybox",
			"sh", "-c", "test -e /crashed && exec sleep 1000; touch /crashed; exit 1")
		waitFor(b, 60*time.Second, name+" to run again", func() bool { return statusCount(b, name) == "running 1" })
		times := strings.Fields(inspectField(b, name, "{{.State.FinishedAt}} {{.State.StartedAt}}"))
		finished, err1 := time.Parse(time.RFC3339Nano, times[0])
		started, err2 := time.Parse(time.RFC3339Nano, times[1])
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		lat = append(lat, started.Sub(finished))
		runCmd(suite.bin, suite.env, nil, "rm", "-f", name)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
