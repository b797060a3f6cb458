package tests

// Legacy links (--link) end to end: the variables, /etc/hosts lines and
// their updates, reachability, the bad cases with Docker's texts, rm --link,
// and --icc=false. The expected values are docker-behavior.md sections 1, 2
// and 4.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const defaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// portVars is the four variables Docker sets per exposed port.
func portVars(prefix, ip string, port int, proto string) []string {
	p := fmt.Sprintf("%s_PORT_%d_%s", prefix, port, strings.ToUpper(proto))
	return []string{
		fmt.Sprintf("%s=%s://%s:%d", p, proto, ip, port),
		fmt.Sprintf("%s_ADDR=%s", p, ip),
		fmt.Sprintf("%s_PORT=%d", p, port),
		fmt.Sprintf("%s_PROTO=%s", p, proto),
	}
}

// Every variable of two links compared exactly: a port range with its
// START/END, a UDP port that must not be "first", the source's env without
// PATH, an alias with '-', a link without alias; and the order of the whole
// env: PATH, HOSTNAME, the link variables, the recipient's own -e.
func TestLinkEnv(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		src, _ := runDetached(t, c, "--expose", "6379-6381", "--expose", "53/udp",
			"-e", "e1=", "-e", "e2=v2", "-e", "e3=v3=v3", "busybox", "sleep", "1000")
		db, _ := runDetached(t, c, "warren/db")
		srcIP, dbIP := bridgeIP(t, src), bridgeIP(t, db)
		r := container(t)
		out := c.mustRun(t, "run", "--rm", "--name", r, "--link", src+":my-src", "--link", db,
			"-e", "OWN=1", "-e", "e2=mine", "busybox", "env")

		want := []string{"MY_SRC_PORT=tcp://" + srcIP + ":6379"}
		for _, p := range []int{6379, 6380, 6381} {
			want = append(want, portVars("MY_SRC", srcIP, p, "tcp")...)
		}
		want = append(want,
			"MY_SRC_PORT_6379_TCP_START=tcp://"+srcIP+":6379", "MY_SRC_PORT_6379_TCP_PORT_START=6379",
			"MY_SRC_PORT_6379_TCP_END=tcp://"+srcIP+":6381", "MY_SRC_PORT_6379_TCP_PORT_END=6381")
		want = append(want, portVars("MY_SRC", srcIP, 53, "udp")...)
		want = append(want, "MY_SRC_NAME=/"+r+"/my-src", "MY_SRC_ENV_e1=", "MY_SRC_ENV_e2=v2", "MY_SRC_ENV_e3=v3=v3")
		dbAlias := strings.ToUpper(strings.ReplaceAll(db, "-", "_"))
		want = append(want, dbAlias+"_PORT=tcp://"+dbIP+":5432")
		want = append(want, portVars(dbAlias, dbIP, 5432, "tcp")...)
		want = append(want, dbAlias+"_NAME=/"+r+"/"+db)

		lines := envLines(out)
		if len(lines) < 2+len(want) {
			t.Fatalf("env has %d lines, want at least %d:\n%s", len(lines), 2+len(want), out)
		}
		if lines[0] != defaultPathEnv || !regexp.MustCompile(`^HOSTNAME=[0-9a-f]{12}$`).MatchString(lines[1]) {
			t.Errorf("env should start with PATH and HOSTNAME, got %q, %q", lines[0], lines[1])
		}
		links, own := lines[2:2+len(want)], lines[2+len(want):]
		if got, exp := sortedCopy(links), sortedCopy(want); !slices.Equal(got, exp) {
			t.Errorf("link variables differ\n got: %q\nwant: %q\nwhole env:\n%s", got, exp, out)
		}
		// The runtime appends HOME when the env has none, as runc does. The
		// docker 28 CLI itself sends -e values in varying order (seen:
		// ["e2=mine","OWN=1"] in .Config.Env), so only warren's is ordered.
		if c.name == "docker" {
			own = sortedCopy(own)
		}
		if !slices.Equal(own, []string{"OWN=1", "e2=mine"}) && !slices.Equal(own, []string{"OWN=1", "e2=mine", "HOME=/root"}) &&
			!(c.name == "docker" && slices.Equal(own, []string{"HOME=/root", "OWN=1", "e2=mine"})) {
			t.Errorf("after the link variables env has %q, want the recipient's own OWN=1, e2=mine (then HOME)", own)
		}
	})
}

// The hosts line of a link names the alias, the source's hostname and, when
// it differs from the alias, the source's name; the alias, the name and the
// hostname all answer ping.
func TestLinkHostsAndPing(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		src, _ := runDetached(t, c, "busybox", "sleep", "1000")
		aliased, _ := runDetached(t, c, "--link", src+":webdb", "busybox", "sleep", "1000")
		plain, _ := runDetached(t, c, "--link", src, "busybox", "sleep", "1000")
		ip, hostname := bridgeIP(t, src), hostnameOf(t, src)

		wantLinkLine(t, c, aliased, "webdb", linkLine(ip, "webdb", hostname, src))
		wantLinkLine(t, c, plain, src, linkLine(ip, src, hostname, src))
		// The link lines come before the recipient's own line, which is last.
		hosts := hostsOf(t, c, aliased)
		own := bridgeIP(t, aliased) + "\t" + hostnameOf(t, aliased) + "\n"
		if !strings.HasSuffix(hosts, own) {
			t.Errorf("/etc/hosts should end with the recipient's own line %q:\n%s", own, hosts)
		}
		for _, target := range []string{"webdb", src, hostname} {
			out := c.mustRun(t, "exec", aliased, "ping", "-c", "1", "-W", "5", target)
			if !strings.Contains(out, "("+ip+")") || !strings.Contains(out, "1 packets received") {
				t.Errorf("ping %s from the recipient:\n%s", target, out)
			}
		}
	})
}

// The demo's pair: the web app reads DB_PORT_5432_TCP_ADDR/_PORT and
// connects to the database through them.
func TestLinkWebReachesDB(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		db, _ := runDetached(t, c, "warren/db")
		web, _ := runDetached(t, c, "--link", db+":db", "warren/webapp")
		client, _ := runDetached(t, c, "--link", web+":web", "busybox", "sleep", "1000")
		want := "Hello world!\nDatabase: connected to " + bridgeIP(t, db) + ":5432 (warren-db ready)\n"
		var page string
		waitFor(t, 30*time.Second, "the web app to answer", func() bool {
			out, _, code := c.run(t, "exec", client, "timeout", "5", "wget", "-q", "-O-", "http://web:5000/")
			page = out
			return code == 0
		})
		if page != want {
			t.Errorf("web page through the link = %q, want %q", page, want)
		}
	})
}

// A source that restarts at another address: every running recipient's
// line follows it, whether its alias differs from the source's name (which
// Docker gets wrong) or not, while exec sees fresh variables. Two recipients
// of one source also show in ps --no-trunc.
func TestLinkSourceRestartUpdatesRecipients(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		src, _ := runDetached(t, c, "--expose", "5432", "busybox", "sleep", "1000")
		aliased, _ := runDetached(t, c, "--link", src+":dbalias", "busybox", "sleep", "1000")
		plain, _ := runDetached(t, c, "--link", src, "busybox", "sleep", "1000")
		hostname := hostnameOf(t, src)

		got := sortedCopy(psNoTruncNames(t, c, src))
		if want := sortedCopy([]string{src, aliased + "/dbalias", plain + "/" + src}); !slices.Equal(got, want) {
			t.Errorf("ps --no-trunc names of the source = %q, want %q", got, want)
		}

		_, ip := restartElsewhere(t, c, src)
		wantLinkLine(t, c, aliased, "dbalias", linkLine(ip, "dbalias", hostname, src))
		wantLinkLine(t, c, plain, src, linkLine(ip, src, hostname, src))
		out := c.mustRun(t, "exec", aliased, "ping", "-c", "1", "-W", "5", "dbalias")
		if !strings.Contains(out, "("+ip+")") || !strings.Contains(out, "1 packets received") {
			t.Errorf("ping dbalias after the source moved to %s:\n%s", ip, out)
		}
		env := c.mustRun(t, "exec", aliased, "env")
		if want := "DBALIAS_PORT_5432_TCP_ADDR=" + ip; !containsLine(env, want) {
			t.Errorf("exec env after the source moved lacks %s:\n%s", want, env)
		}
	})
}

// A source removed and created again under the same name: when the new one
// starts, the running recipient's line points at it (Docker leaves such a
// link dangling, moby#28937), and the recipient can restart.
func TestLinkSourceRecreated(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		src, _ := runDetached(t, c, "--expose", "5432", "busybox", "sleep", "1000")
		web, _ := runDetached(t, c, "--link", src+":db", "busybox", "sleep", "1000")
		oldIP := bridgeIP(t, src)
		c.mustRun(t, "rm", "-f", src)
		// Hold the freed address so the new source is seen to move.
		runDetached(t, c, "busybox", "sleep", "1000")
		c.mustRun(t, "run", "-d", "--name", src, "--expose", "5432", "busybox", "sleep", "1000")
		ip, hostname := bridgeIP(t, src), hostnameOf(t, src)
		if ip == oldIP {
			t.Logf("note: the new source got the old address %s back", ip)
		}
		wantLinkLine(t, c, web, "db", linkLine(ip, "db", hostname, src))
		if env := c.mustRun(t, "exec", web, "env"); !containsLine(env, "DB_PORT_5432_TCP_ADDR="+ip) {
			t.Errorf("exec env lacks DB_PORT_5432_TCP_ADDR=%s:\n%s", ip, env)
		}
		if got, want := inspectField(t, web, "{{.HostConfig.Links}}"), "[/"+src+":/"+web+"/db]"; got != want {
			t.Errorf(".HostConfig.Links = %s, want %s", got, want)
		}
		c.mustRun(t, "restart", "-t", "0", web)
		wantLinkLine(t, c, web, "db", linkLine(ip, "db", hostname, src))
	})
}

// inspect and ps show links; a link name finds its source; rm --link drops
// just the link; removing a source needs no link check.
func TestLinkRm(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		db, _ := runDetached(t, c, "busybox", "sleep", "1000")
		web, _ := runDetached(t, c, "--link", db+":db", "busybox", "sleep", "1000")
		other, _ := runDetached(t, c, "--link", db+":db2", "busybox", "sleep", "1000")

		if got, want := inspectField(t, web, "{{.HostConfig.Links}}"), "[/"+db+":/"+web+"/db]"; got != want {
			t.Errorf(".HostConfig.Links = %s, want %s", got, want)
		}
		if got := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.Name}}", web+"/db")); got != "/"+db {
			t.Errorf("inspect %s/db names %s, want the source /%s", web, got, db)
		}
		if out := c.mustRun(t, "rm", "--link", "/"+web+"/db"); out != "/"+web+"/db\n" {
			t.Errorf("rm --link printed %q, want %q", out, "/"+web+"/db\n")
		}
		if got := inspectField(t, web, "{{.HostConfig.Links}}"); got != "[]" {
			t.Errorf(".HostConfig.Links after rm --link = %s, want []", got)
		}
		if got, want := sortedCopy(psNoTruncNames(t, c, db)), sortedCopy([]string{db, other + "/db2"}); !slices.Equal(got, want) {
			t.Errorf("ps --no-trunc names after rm --link = %q, want %q", got, want)
		}
		if got := inspectField(t, db, "{{.State.Status}}"); got != "running" {
			t.Errorf("rm --link left the source %s", got)
		}

		if out := c.mustRun(t, "rm", "-f", db); out != db+"\n" {
			t.Errorf("rm -f of a linked source printed %q", out)
		}
		if got := inspectField(t, other, "{{.State.Status}}"); got != "running" {
			t.Errorf("removing the source left the recipient %s", got)
		}
	})
}

// Bad links fail with Docker's texts and exit codes and leave nothing
// behind; a missing source is a 400 so the CLI does not try to pull.
func TestLinkErrors(t *testing.T) {
	eachCLI(t, func(t *testing.T, c cli) {
		t.Run("missing source", func(t *testing.T) {
			leftovers(t)
			stderr := expectFailure(t, c, 125, []string{
				"Error response from daemon: could not get container for bogus: No such container: bogus",
			}, "run", "--rm", "--link", "bogus:alias", "busybox", "true")
			if strings.Contains(stderr, "Unable to find image") {
				t.Errorf("the CLI tried to pull after a link error:\n%s", stderr)
			}
			status, msg := apiError(t, "/v1.50/containers/create",
				`{"Image":"busybox","Cmd":["true"],"HostConfig":{"Links":["bogus:alias"]}}`)
			if want := "could not get container for bogus: No such container: bogus"; status != 400 || msg != want {
				t.Errorf("create with a missing source: %d %q, want 400 %q", status, msg, want)
			}
		})
		t.Run("stopped source", func(t *testing.T) {
			src := container(t)
			c.mustRun(t, "create", "--name", src, "busybox", "sleep", "1000")
			web := container(t)
			want := "Cannot link to a non running container: /" + src + " AS /" + web + "/db"
			expectFailure(t, c, 125, []string{"Error response from daemon: " + want},
				"run", "--name", web, "--link", src+":db", "busybox", "true")
			if got := inspectField(t, web, "{{.State.Status}}"); got != "created" {
				t.Errorf("recipient after the failed start is %s, want created", got)
			}
			expectFailure(t, c, 1, []string{"Error response from daemon: " + want}, "start", web)
		})
		t.Run("source stopped under a running recipient", func(t *testing.T) {
			src, _ := runDetached(t, c, "busybox", "sleep", "1000")
			web, _ := runDetached(t, c, "--link", src+":db", "busybox", "sleep", "1000")
			c.mustRun(t, "stop", "-t", "0", src)
			// exec computes the link variables afresh, so it needs the source.
			want := "Cannot link to a non running container: /" + src + " AS /" + web + "/db"
			expectFailure(t, c, 1, []string{"Error response from daemon: " + want}, "exec", web, "true")
			expectFailure(t, c, 1, []string{"Error response from daemon: " + want}, "restart", "-t", "0", web)
		})
		t.Run("rm --link of a default name", func(t *testing.T) {
			src, _ := runDetached(t, c, "busybox", "sleep", "1000")
			expectFailure(t, c, 1, []string{"Error response from daemon: Conflict, cannot remove the default link name of the container"},
				"rm", "--link", "/"+src)
			if got := inspectField(t, src, "{{.State.Status}}"); got != "running" {
				t.Errorf("the refused rm --link left %s %s", src, got)
			}
		})
		t.Run("host network", func(t *testing.T) {
			const want = "conflicting options: host type networking can't be used with links. This would result in undefined behavior"
			src, _ := runDetached(t, c, "busybox", "sleep", "1000")
			hostSrc, _ := runDetached(t, c, "--network", "host", "busybox", "sleep", "1000")
			leftovers(t)
			expectFailure(t, c, 125, []string{"Error response from daemon: " + want},
				"run", "--rm", "--network", "host", "--link", src+":db", "busybox", "true")
			expectFailure(t, c, 125, []string{"Error response from daemon: " + want},
				"run", "--rm", "--link", hostSrc+":db", "busybox", "true")
		})
	})
}

// With --icc=false containers reach each other only along links, from the
// recipient to the source, on the source's exposed ports; the opening
// follows a source that restarts at another address.
func TestLinkICCOff(t *testing.T) {
	t.Parallel()
	d := startOwnDaemon(t, "--icc=false")
	c := d.cli()
	run := func(args ...string) string {
		name := uniqueName(t)
		d.mustRun(t, append([]string{"run", "-d", "--name", name}, args...)...)
		return name
	}
	src := run(append([]string{"--expose", "5432"}, serverCmd(5432, 7000)...)...)
	rcp := run(append([]string{"--expose", "5432", "--link", src + ":src"}, serverCmd(5432)...)...)
	other := run(append([]string{"--expose", "5432"}, serverCmd(5432)...)...)
	for _, name := range []string{src, rcp, other} {
		waitServing(t, c, name, 5432)
	}
	waitServing(t, c, src, 7000)
	srcIP, rcpIP, otherIP := d.ip(t, src), d.ip(t, rcp), d.ip(t, other)

	checks := []struct {
		what     string
		from, to string
		port     int
		want     bool
	}{
		{"recipient to source, exposed port, by alias", rcp, "src", 5432, true},
		{"recipient to source, exposed port", rcp, srcIP, 5432, true},
		{"recipient to source, port not exposed", rcp, srcIP, 7000, false},
		{"source to recipient", src, rcpIP, 5432, false},
		{"unrelated to source", other, srcIP, 5432, false},
		{"unrelated to recipient", other, rcpIP, 5432, false},
		{"recipient to unrelated", rcp, otherIP, 5432, false},
	}
	// Concurrently: each blocked attempt waits out its timeout.
	got := make([]bool, len(checks))
	var wg sync.WaitGroup
	for i, ck := range checks {
		wg.Go(func() { got[i] = reach(t, c, ck.from, ck.to, ck.port) })
	}
	wg.Wait()
	for i, ck := range checks {
		if got[i] != ck.want {
			t.Errorf("%s (%s:%d): reached %v, want %v", ck.what, ck.to, ck.port, got[i], ck.want)
		}
	}

	// The source moves: the link is opened for its new address.
	d.mustRun(t, "stop", "-t", "0", src)
	run("busybox", "sleep", "1000")
	d.mustRun(t, "start", src)
	waitServing(t, c, src, 5432)
	newIP := d.ip(t, src)
	if newIP == srcIP {
		t.Logf("note: the source got its address %s back", srcIP)
	}
	if !reach(t, c, rcp, "src", 5432) {
		t.Errorf("after the source restarted the recipient cannot reach it on 5432")
	}
	if reach(t, c, other, newIP, 5432) {
		t.Errorf("after the source restarted an unrelated container reaches it")
	}
}
