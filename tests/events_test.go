package tests

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The suite's daemon is shared by parallel tests, so every events query
// here filters on a container name, label or image tag of its own.

// unixNow is a since/until value as the API takes it.
func unixNow() string {
	t := time.Now()
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// eventFormat prints what the tests compare: type, action and the
// attributes they care about.
const eventFormat = `{{.Type}} {{.Action}} name={{.Actor.Attributes.name}} image={{.Actor.Attributes.image}} exitCode={{index .Actor.Attributes "exitCode"}}`

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if strings.TrimRight(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, got, strings.Join(want, "\n"))
	}
}

// A container's life between since and until: the command ends by itself
// because until is past, and each event carries name, image and (die)
// exitCode.
func TestEventsContainerLifecycle(t *testing.T) {
	// Not parallel: replaying --since/--until reads the daemon's last 256
	// events, which the rest of the suite running alongside could overrun.
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		t0 := unixNow()
		id := strings.TrimSpace(c.mustRun(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "exit 3"))
		c.mustRun(t, "wait", name)
		c.mustRun(t, "rm", name)
		t1 := unixNow()
		out := c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "container="+name, "--format", eventFormat)
		wantLines(t, "events", out,
			"container create name="+name+" image=busybox exitCode=",
			"container start name="+name+" image=busybox exitCode=",
			"container die name="+name+" image=busybox exitCode=3",
			"container destroy name="+name+" image=busybox exitCode=",
		)
		if sys := c.mustRun(t, "system", "events", "--since", t0, "--until", t1, "--filter", "container="+name, "--format", eventFormat); sys != out {
			t.Errorf("system events printed %q, events %q", sys, out)
		}
		// The default line: local time with nanoseconds, type, action,
		// ID, then the attributes sorted by key.
		out = c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "container="+name, "--filter", "event=die")
		line := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(execDuration=\d+, exitCode=3, image=busybox, name=` + regexp.QuoteMeta(name) + `\)\n$`
		if !regexp.MustCompile(line).MatchString(out) {
			t.Errorf("default line %q does not match %s", out, line)
		}
		// The bridge's connect and disconnect name the container.
		out = c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "type=network", "--filter", "network=bridge",
			"--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.Attributes.container}}")
		for _, want := range []string{"connect bridge bridge " + id, "disconnect bridge bridge " + id} {
			if !containsLine(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
		// The CLIs turn durations and dates into unix seconds; json is
		// {{json .}}.
		until := time.Now().Add(time.Second).Format(time.RFC3339Nano)
		out = c.mustRun(t, "events", "--since", "10m", "--until", until, "--filter", "container="+name, "--filter", "event=create", "--format", "json")
		if !strings.Contains(out, `"Type":"container","Action":"create","Actor":{"ID":"`) || len(strings.Split(strings.TrimSpace(out), "\n")) != 1 {
			t.Errorf("--since 10m --until <RFC 3339> --format json printed %q", out)
		}
	})
}

func TestEventsFilterEventTypeAndLabel(t *testing.T) {
	// Not parallel: replaying --since/--until reads the daemon's last 256
	// events, which the rest of the suite running alongside could overrun.
	bothCLIs(t, func(t *testing.T, c cli) {
		tok := uniqueName(t)
		a, b := container(t), container(t)
		t0 := unixNow()
		c.mustRun(t, "run", "--rm", "--name", a, "--label", "tok="+tok, "busybox", "true")
		c.mustRun(t, "run", "--rm", "--name", b, "--label", "other="+tok, "busybox", "true")
		t1 := unixNow()
		out := c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "event=start", "--filter", "type=container",
			"--filter", "label=tok="+tok, "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.tok}}")
		wantLines(t, "event=start type=container label=tok", out, "start "+a+" "+tok)
		out = c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "label=other="+tok, "--filter", "event=die",
			"--filter", "event=destroy", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
		wantLines(t, "label=other, event=die or destroy", out, "die "+b, "destroy "+b)
	})
}

func TestEventsImageTagUntag(t *testing.T) {
	// Not parallel: replaying --since/--until reads the daemon's last 256
	// events, which the rest of the suite running alongside could overrun.
	bothCLIs(t, func(t *testing.T, c cli) {
		ref := uniqueName(t) + ":v1"
		id := strings.TrimSpace(c.mustRun(t, "image", "inspect", "-f", "{{.ID}}", "busybox"))
		t0 := unixNow()
		c.mustRun(t, "tag", "busybox", ref)
		c.mustRun(t, "rmi", ref)
		t1 := unixNow()
		out := c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "type=image", "--filter", "image="+id,
			"--format", "{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}")
		// Other tests tag and untag busybox meanwhile: look for ours.
		for _, want := range []string{"image tag " + id + " " + ref, "image untag " + id + " " + id} {
			if !containsLine(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
	})
}

func TestEventsExec(t *testing.T) {
	// Not parallel: replaying --since/--until reads the daemon's last 256
	// events, which the rest of the suite running alongside could overrun.
	bothCLIs(t, func(t *testing.T, c cli) {
		name, _ := runDetached(t, c, "busybox", "sleep", "1000")
		t0 := unixNow()
		if _, _, code := c.run(t, "exec", name, "sh", "-c", "exit 4"); code != 4 {
			t.Fatalf("exec exit code %d, want 4", code)
		}
		t1 := unixNow()
		out := c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "container="+name,
			"--format", `{{.Action}}|{{.Actor.Attributes.execID}}|{{index .Actor.Attributes "exitCode"}}`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("events:\n%s\nwant exec_create, exec_start, exec_die", out)
		}
		execID := strings.Split(lines[0], "|")[1]
		wantLines(t, "exec events", out,
			"exec_create: sh -c exit 4|"+execID+"|",
			"exec_start: sh -c exit 4|"+execID+"|",
			"exec_die|"+execID+"|4")
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(execID) {
			t.Errorf("execID %q", execID)
		}
		// exec_start is a prefix filter, as in Docker.
		out = c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "container="+name, "--filter", "event=exec_start", "--format", "{{.Action}}")
		wantLines(t, "event=exec_start", out, "exec_start: sh -c exit 4")
	})
}

// A follow without until streams live events; the test ends it by pid.
// since makes the replay start before the container exists, so no event
// is lost to the subscription's start.
func TestEventsFollow(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		bin := suite.bin
		if c.name == "docker" {
			bin = suite.docker
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "events", "--since", unixNow(), "--filter", "container="+name, "--format", "{{.Action}}")
		cmd.Env = suite.env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		lines := bufio.NewReader(out)
		c.mustRun(t, "run", "--rm", "--name", name, "busybox", "true")
		var got []string
		for len(got) == 0 || got[len(got)-1] != "destroy" {
			line, err := lines.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			if l := strings.TrimSpace(line); l != "attach" { // the CLIs attach to run
				got = append(got, l)
			}
		}
		if strings.Join(got, " ") != "create start die destroy" {
			t.Errorf("followed %q, want create start die destroy", got)
		}
	})
}

func TestEventsBadInput(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--filter", "bogus=1"}, "Error response from daemon: invalid filter 'bogus'"},
			{[]string{"--since", "20", "--until", "10"}, "Error response from daemon: `since` time (20) cannot be after `until` time (10)"},
		} {
			stdout, stderr, code := c.run(t, append([]string{"events"}, tc.args...)...)
			if code != 1 || stdout != "" || !containsLine(stderr, tc.want) {
				t.Errorf("events %v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, stdout, stderr, tc.want)
			}
		}
		_, stderr, code := c.run(t, "events", "--format", "{{.Nope}}")
		if code != 64 || !strings.HasPrefix(stderr, "Error parsing format: ") {
			t.Errorf("events --format {{.Nope}}: exit %d, stderr %q; want 64 and Error parsing format", code, stderr)
		}
	})
}

// A follow ends, with status 0, when the daemon stops: the stream is
// closed by the engine, not cut by the server's shutdown.
func TestEventsEndWithDaemon(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t)
	for _, c := range []struct{ name, bin string }{{"warren", suite.bin}, {"docker", suite.docker}} {
		if c.bin == "" {
			requireDocker(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.bin, "events", "--since", "0", "--filter", "event=start", "--format", "{{.Action}} "+c.name)
		cmd.Env = d.env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		d.mustRun(t, "run", "--rm", "busybox", "true")
		// The start line says this follow is subscribed.
		if line, err := bufio.NewReader(out).ReadString('\n'); line != "start "+c.name+"\n" {
			t.Fatalf("%s events printed %q (%v)", c.name, line, err)
		}
		defer func(cmd *exec.Cmd) {
			if err := cmd.Wait(); err != nil {
				t.Errorf("%s events after the daemon stopped: %v", c.name, err)
			}
		}(cmd)
	}
	if err := d.proc.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// A restart policy's restart is die then start, without a restart event;
// docker restart sends one.
func TestEventsRestarts(t *testing.T) {
	// Not parallel: replaying --since/--until reads the daemon's last 256
	// events, which the rest of the suite running alongside could overrun.
	bothCLIs(t, func(t *testing.T, c cli) {
		name := container(t)
		t0 := unixNow()
		c.mustRun(t, "run", "-d", "--name", name, "--restart", "on-failure:1", "busybox", "sh", "-c", "exit 2")
		waitFor(t, 30*time.Second, name+" to have restarted once and exited", func() bool {
			out, _, code := warren(t, "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name)
			return code == 0 && strings.TrimSpace(out) == "exited 1"
		})
		c.mustRun(t, "restart", name)
		t1 := unixNow()
		out := c.mustRun(t, "events", "--since", t0, "--until", t1, "--filter", "container="+name, "--format", "{{.Action}}")
		// The restart stops nothing (the container had exited) and starts
		// it; its exit may come before or after the restart event.
		got := strings.Fields(out)
		if len(got) < 6 || strings.Join(got[:6], " ") != "create start die start die start" || !slices.Contains(got[6:], "restart") {
			t.Errorf("events %q, want create start die start die start, then restart", got)
		}
	})
}
