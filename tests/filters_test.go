package tests

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The suite's daemon is shared by parallel tests, so every filter here
// includes a label or name unique to the test, and the unfiltered prunes
// run on a daemon of their own.

// psList is the NAMES column of `ps args...`, one name per container.
func psList(t *testing.T, c cli, args ...string) []string {
	t.Helper()
	return strings.Fields(c.mustRun(t, append(append([]string{"ps"}, args...), "--format", "{{.Names}}")...))
}

func wantNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s lists %v, want %v", what, got, want)
	}
}

// createLabeled creates a container of image with the labels and returns
// its name.
func createLabeled(t *testing.T, c cli, image string, labels ...string) string {
	t.Helper()
	name := container(t)
	args := []string{"create", "--name", name}
	for _, l := range labels {
		args = append(args, "--label", l)
	}
	c.mustRun(t, append(args, image)...)
	return name
}

// Several label filters must all hold: compose lists a service's
// containers with its project and service labels, and ORing them listed
// containers twice and had it recreate or kill other projects' ones.
func TestFilterPsLabelsAND(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		tok := uniqueName(t)
		ab := createLabeled(t, c, "busybox", "a="+tok, "b="+tok)
		a := createLabeled(t, c, "busybox", "a="+tok)
		createLabeled(t, c, "busybox", "b="+tok)
		wantNames(t, "ps -a --filter label=a --filter label=b", psList(t, c, "-a", "--filter", "label=a="+tok, "--filter", "label=b="+tok), ab)
		wantNames(t, "ps -a --filter label=a", psList(t, c, "-a", "--filter", "label=a="+tok), a, ab)
		wantNames(t, "ps (running only) --filter label=a", psList(t, c, "--filter", "label=a="+tok))
	})
}

// Values of one key are ORed; a status filter lists stopped containers
// without -a; exited= needs -a.
func TestFilterPsStatusOR(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		label := "wf.status=" + uniqueName(t)
		created := createLabeled(t, c, "busybox", label)
		exited := container(t)
		if _, _, code := c.run(t, "run", "--name", exited, "--label", label, "busybox", "sh", "-c", "exit 3"); code != 3 {
			t.Fatalf("run sh -c 'exit 3' exited %d", code)
		}
		running, _ := runDetached(t, c, "--label", label, "busybox", "sleep", "1000")
		f := []string{"--filter", "label=" + label}
		wantNames(t, "ps status=created|exited", psList(t, c, append(f, "--filter", "status=created", "--filter", "status=exited")...), exited, created)
		wantNames(t, "ps status=running", psList(t, c, append(f, "--filter", "status=running")...), running)
		wantNames(t, "ps -a exited=3", psList(t, c, append(f, "-a", "--filter", "exited=3")...), exited)
		wantNames(t, "ps -a exited=0", psList(t, c, append(f, "-a", "--filter", "exited=0")...))
		wantNames(t, "ps -a health=none is-task=false", psList(t, c, append(f, "-a", "--filter", "health=none", "--filter", "is-task=false")...),
			running, exited, created)
		wantNames(t, "ps -a network=bridge", psList(t, c, append(f, "-a", "--filter", "network=bridge", "--filter", "status=running")...), running)
	})
}

// name is a regular expression on the name, with or without its slash.
func TestFilterPsNameRegexp(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		base := container(t)
		web, db := base+"-web", base+"-db"
		for _, n := range []string{web, db} {
			t.Cleanup(func() { runCmd(suite.bin, suite.env, nil, "rm", "-f", n) })
			c.mustRun(t, "create", "--name", n, "busybox")
		}
		wantNames(t, "name=^/?base-w", psList(t, c, "-a", "--filter", "name=^/?"+regexp.QuoteMeta(base)+"-w"), web)
		wantNames(t, "name=base-(web|db)$", psList(t, c, "-a", "--filter", "name="+regexp.QuoteMeta(base)+"-(web|db)$"), db, web)
		wantNames(t, "name=base-db name=base-web", psList(t, c, "-a", "--filter", "name="+db, "--filter", "name="+web), db, web)
		id := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.Id}}", web))
		wantNames(t, "id=<prefix>", psList(t, c, "-a", "--filter", "id="+id[:12]), web)
	})
}

// before and since take a container's name or ID.
func TestFilterPsBeforeSince(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		label := "wf.order=" + uniqueName(t)
		first := createLabeled(t, c, "busybox", label)
		second := createLabeled(t, c, "busybox", label)
		third := createLabeled(t, c, "busybox", label)
		id := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.Id}}", first))
		f := []string{"-a", "--filter", "label=" + label}
		wantNames(t, "since=first", psList(t, c, append(f, "--filter", "since="+first)...), third, second)
		wantNames(t, "since=<id of first>", psList(t, c, append(f, "--filter", "since="+id)...), third, second)
		wantNames(t, "before=third", psList(t, c, append(f, "--filter", "before="+third)...), second, first)
		wantNames(t, "since=first before=third", psList(t, c, append(f, "--filter", "since="+first, "--filter", "before="+third)...), second)
		_, stderr, code := c.run(t, "ps", "--filter", "before=nosuch-"+label[9:])
		if code != 1 || stderr != "Error response from daemon: No such container: nosuch-"+label[9:]+"\n" {
			t.Errorf("ps --filter before=nosuch: exit %d, stderr %q", code, stderr)
		}
	})
}

// publish is the host port, expose the container port; ranges and
// protocols as Docker's.
func TestFilterPsPublishExpose(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		label := "wf.ports=" + uniqueName(t)
		web, _ := runDetached(t, c, "--label", label, "-p", "127.0.0.1::80", "busybox", "sleep", "1000")
		exp, _ := runDetached(t, c, "--label", label, "--expose", "8080", "busybox", "sleep", "1000")
		hp := randomPort(t, strings.TrimSpace(c.mustRun(t, "port", web, "80")), "127.0.0.1")
		f := []string{"--filter", "label=" + label}
		wantNames(t, "publish=<host port>", psList(t, c, append(f, "--filter", "publish="+strconv.Itoa(hp))...), web)
		wantNames(t, "publish=<host port>/udp", psList(t, c, append(f, "--filter", "publish="+strconv.Itoa(hp)+"/udp")...))
		wantNames(t, "expose=80", psList(t, c, append(f, "--filter", "expose=80")...), web)
		wantNames(t, "expose=8000-8080/tcp", psList(t, c, append(f, "--filter", "expose=8000-8080/tcp")...), exp)
		wantNames(t, "expose=80 expose=8080", psList(t, c, append(f, "--filter", "expose=80", "--filter", "expose=8080")...), exp, web)
		_, stderr, code := c.run(t, "ps", "--filter", "publish=80:80")
		if code != 1 || stderr != "Error response from daemon: filter for 'publish' should not contain ':': 80:80\n" {
			t.Errorf("ps --filter publish=80:80: exit %d, stderr %q", code, stderr)
		}
	})
}

// ancestor takes the image's name, name:tag or ID.
func TestFilterPsAncestor(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		label := "wf.ancestor=" + uniqueName(t)
		bb := createLabeled(t, c, "busybox", label)
		web := createLabeled(t, c, "warren/webapp", label)
		id := strings.TrimSpace(c.mustRun(t, "image", "inspect", "-f", "{{.Id}}", "warren/webapp"))
		f := []string{"-a", "--filter", "label=" + label}
		wantNames(t, "ancestor=busybox", psList(t, c, append(f, "--filter", "ancestor=busybox")...), bb)
		wantNames(t, "ancestor=busybox:latest", psList(t, c, append(f, "--filter", "ancestor=busybox:latest")...), bb)
		wantNames(t, "ancestor=<short webapp ID>", psList(t, c, append(f, "--filter", "ancestor="+id[7:19])...), web)
		wantNames(t, "ancestor=busybox ancestor=warren/webapp", psList(t, c, append(f, "--filter", "ancestor=busybox", "--filter", "ancestor=warren/webapp")...), web, bb)
		wantNames(t, "ancestor=<unknown image>", psList(t, c, append(f, "--filter", "ancestor=nosuch-image")...))
	})
}

// An unknown key is Docker's 400 "invalid filter 'x'": exit 1.
func TestFilterUnknownKey(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, cmd := range [][]string{{"ps", "--filter", "x=1"}, {"images", "--filter", "x=1"}, {"container", "prune", "-f", "--filter", "x=1"}} {
			stdout, stderr, code := c.run(t, cmd...)
			if code != 1 || stdout != "" || stderr != "Error response from daemon: invalid filter 'x'\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
			}
		}
		_, stderr, code := c.run(t, "ps", "--filter", "status=sleeping")
		if want := "Error response from daemon: invalid filter 'status=sleeping': invalid value for state (sleeping): must be one of created, running, paused, restarting, removing, exited, dead\n"; code != 1 || stderr != want {
			t.Errorf("ps --filter status=sleeping: exit %d, stderr %q", code, stderr)
		}
	})
}

// rootfsTar writes a one-file root filesystem whose content is unique, so
// each import makes a new image.
func rootfsTar(t *testing.T, content string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	tw.Close()
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// importUntagged imports a labeled image without a name (a dangling one)
// and returns its ID.
func importUntagged(t *testing.T, c cli, label string) string {
	t.Helper()
	out := c.mustRun(t, "import", "-c", "LABEL "+label, rootfsTar(t, label))
	id := strings.TrimSpace(out)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("import printed %q", out)
	}
	t.Cleanup(func() { runCmd(suite.bin, suite.env, nil, "rmi", "-f", id) })
	return id
}

func imagesList(t *testing.T, c cli, args ...string) []string {
	t.Helper()
	return strings.Fields(c.mustRun(t, append(append([]string{"images"}, args...), "--format", "{{.ID}}|{{.Repository}}:{{.Tag}}")...))
}

func TestFilterImages(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		tok := uniqueName(t)
		id := importUntagged(t, c, "wf.image="+tok)
		short := id[7:19]
		dangling := short + "|<none>:<none>"
		if got := imagesList(t, c, "--filter", "dangling=true"); !slices.Contains(got, dangling) || slices.ContainsFunc(got, func(s string) bool { return !strings.HasSuffix(s, "|<none>:<none>") }) {
			t.Errorf("images --filter dangling=true = %v, want %s and only untagged images", got, dangling)
		}
		if got := imagesList(t, c, "--filter", "dangling=false"); slices.Contains(got, dangling) {
			t.Errorf("images --filter dangling=false lists the dangling %s", dangling)
		}
		wantNames(t, "images label=wf.image=tok", imagesList(t, c, "--filter", "label=wf.image="+tok), dangling)
		wantNames(t, "images label=wf.image=tok dangling=false", imagesList(t, c, "--filter", "label=wf.image="+tok, "--filter", "dangling=false"))
		wantNames(t, "images label=wf.image=other", imagesList(t, c, "--filter", "label=wf.image=other-"+tok))

		repo := "wf-" + strings.ReplaceAll(tok, "_", "-")
		c.mustRun(t, "tag", id, repo+":v1")
		c.mustRun(t, "tag", id, repo+":v2")
		t.Cleanup(func() { runCmd(suite.bin, suite.env, nil, "rmi", repo+":v1", repo+":v2") })
		wantNames(t, "images reference=repo*:v1", imagesList(t, c, "--filter", "reference="+repo[:len(repo)-2]+"*:v1"), short+"|"+repo+":v1")
		wantNames(t, "images reference=repo", imagesList(t, c, "--filter", "reference="+repo), short+"|"+repo+":v1", short+"|"+repo+":v2")
		busy := imagesList(t, c, "--filter", "reference=busy*")
		if !slices.ContainsFunc(busy, func(s string) bool { return strings.HasSuffix(s, "|busybox:latest") }) ||
			slices.ContainsFunc(busy, func(s string) bool { _, ref, _ := strings.Cut(s, "|"); return !strings.HasPrefix(ref, "busy") }) {
			t.Errorf("images --filter reference='busy*' = %v", busy)
		}
		_, stderr, code := c.run(t, "images", "--filter", "before=nosuch-"+repo)
		// Docker names the reference it looked for, tag included.
		if code != 1 || stderr != "Error response from daemon: No such image: nosuch-"+repo+":latest\n" {
			t.Errorf("images --filter before=nosuch: exit %d, stderr %q", code, stderr)
		}
	})
}

// Prune with a label filter removes only the matching stopped containers;
// it is safe on the shared daemon because the label is the test's own.
func TestPruneContainersByLabel(t *testing.T) {
	t.Parallel()
	bothCLIs(t, func(t *testing.T, c cli) {
		tok := uniqueName(t)
		gone := createLabeled(t, c, "busybox", "wf.prune="+tok, "wf.tier=web")
		keepTier := createLabeled(t, c, "busybox", "wf.prune="+tok, "wf.tier=db")
		keepOther := createLabeled(t, c, "busybox", "wf.prune=other-"+tok, "wf.tier=web")
		running, _ := runDetached(t, c, "--label", "wf.prune="+tok, "--label", "wf.tier=web", "busybox", "sleep", "1000")
		id := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.Id}}", gone))
		out := c.mustRun(t, "container", "prune", "-f", "--filter", "label=wf.prune="+tok, "--filter", "label=wf.tier=web")
		if !strings.HasPrefix(out, "Deleted Containers:\n"+id+"\n\nTotal reclaimed space: ") {
			t.Errorf("container prune printed %q, want only %s deleted", out, id)
		}
		left := append(psList(t, c, "-a", "--filter", "label=wf.prune="+tok), psList(t, c, "-a", "--filter", "label=wf.prune=other-"+tok)...)
		wantNames(t, "after prune, ps -a", left, running, keepTier, keepOther)
		// label! with a label of the test's own (label!=x alone would
		// reach other tests' containers).
		tierID := strings.TrimSpace(c.mustRun(t, "inspect", "-f", "{{.Id}}", keepTier))
		out = c.mustRun(t, "container", "prune", "-f", "--filter", "label=wf.prune="+tok, "--filter", "label!=wf.tier=web")
		if !strings.HasPrefix(out, "Deleted Containers:\n"+tierID+"\n\nTotal reclaimed space: ") {
			t.Errorf("container prune label!=wf.tier=web printed %q, want only %s deleted", out, tierID)
		}
		wantNames(t, "after label! prune, ps -a", psList(t, c, "-a", "--filter", "label=wf.prune="+tok), running)
	})
}

// The unfiltered prunes, with both CLIs' prompt, on a daemon of the
// test's own: they remove every stopped container and unused image.
func TestPruneOwnDaemon(t *testing.T) {
	d := startOwnDaemon(t)
	clients := []struct {
		name, bin string
	}{{"warren", suite.bin}, {"docker", suite.docker}}
	for _, cl := range clients {
		if cl.bin == "" {
			continue // the docker CLI is not installed
		}
		run := func(stdin string, args ...string) result {
			t.Helper()
			var in []byte
			if stdin != "" {
				in = []byte(stdin)
			}
			r := runCmd(cl.bin, d.env, in, args...)
			t.Logf("$ %s %s → %d", cl.name, strings.Join(args, " "), r.code)
			return r
		}
		stopped := strings.TrimSpace(d.mustRun(t, "create", "busybox"))
		running := strings.TrimSpace(d.mustRun(t, "run", "-d", "busybox", "sleep", "1000"))

		const warn = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
		if r := run("n\n", "container", "prune"); r.code != 0 || r.stdout != warn || r.stderr != "" {
			t.Errorf("%s container prune, answered n: %+v", cl.name, r)
		}
		if ids := strings.Fields(d.mustRun(t, "ps", "-aq", "--no-trunc")); len(ids) != 2 {
			t.Fatalf("%s: a declined prune removed containers: %v", cl.name, ids)
		}
		r := run("y\n", "container", "prune")
		if r.code != 0 || !strings.HasPrefix(r.stdout, warn+"Deleted Containers:\n"+stopped+"\n\nTotal reclaimed space: ") {
			t.Errorf("%s container prune, answered y: %+v", cl.name, r)
		}
		if ids := strings.Fields(d.mustRun(t, "ps", "-aq", "--no-trunc")); !slices.Equal(ids, []string{running}) {
			t.Errorf("%s: after prune ps -a = %v, want only the running %s", cl.name, ids, running)
		}
		if r := run("", "container", "prune", "-f"); r.code != 0 || r.stdout != "Total reclaimed space: 0B\n" {
			t.Errorf("%s container prune with nothing to prune: %+v", cl.name, r)
		}

		// Image prune: the untagged image goes; -a also takes the unused
		// warren/webapp, never busybox, which the running container uses.
		out := d.mustRun(t, "import", rootfsTar(t, "prune-"+cl.name))
		dangling := strings.TrimSpace(out)
		r = run("", "image", "prune", "-f")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Deleted Images:\ndeleted: "+dangling+"\n") || strings.HasSuffix(r.stdout, "space: 0B\n") {
			t.Errorf("%s image prune: %+v", cl.name, r)
		}
		if cl.name == "warren" {
			r = run("y\n", "image", "prune", "-a")
			want := "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] Deleted Images:\nuntagged: warren/webapp:latest\ndeleted: sha256:"
			if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
				t.Errorf("image prune -a: %+v", r)
			}
			if got := strings.Fields(d.mustRun(t, "images", "--format", "{{.Repository}}")); !slices.Equal(got, []string{"busybox"}) {
				t.Errorf("after image prune -a, images = %v, want busybox only", got)
			}
		}
		d.mustRun(t, "rm", "-f", running)
	}
}
