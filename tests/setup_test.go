package tests

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// setupEnv is the suite's environment with a home, config and docker
// folder of the test's own, and an XDG_RUNTIME_DIR where no systemd user
// manager listens: setup must never reach a real one.
func setupEnv(t *testing.T) (env []string, root string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"home", "config", "xdg", "docker"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env = withEnv(suite.env,
		"HOME="+filepath.Join(root, "home"),
		"XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"XDG_RUNTIME_DIR="+filepath.Join(root, "xdg"),
		"DOCKER_CONFIG="+filepath.Join(root, "docker"),
		"DOCKER_HOST=", "DOCKER_CONTEXT=",
	)
	return env, root
}

func mustRunIn(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	r := runCmd(bin, env, nil, args...)
	t.Logf("$ %s %s → %d", filepath.Base(bin), strings.Join(args, " "), r.code)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// setup writes units that systemd accepts and a docker context the docker
// CLI talks to the daemon through; run again it changes nothing; uninstall
// removes both.
func TestSetupUnitsAndDockerContext(t *testing.T) {
	if suite.docker == "" {
		t.Fatal("the docker CLI is needed (scripts/setup-root.sh installs it)")
	}
	env, root := setupEnv(t)
	units := filepath.Join(root, "units")
	out := mustRunIn(t, suite.bin, env, "setup", "--systemd-dir", units)
	for _, want := range []string{
		"systemd: wrote " + filepath.Join(units, "warren.socket"),
		"systemd: wrote " + filepath.Join(units, "warren.service"),
		"the units are not enabled",
		`docker: created context "warren" (unix://` + suite.socket + ")",
		"export DOCKER_HOST=unix://" + suite.socket,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("setup output lacks %q:\n%s", want, out)
		}
	}
	service := readFile(filepath.Join(units, "warren.service"))
	for _, want := range []string{"ExecStart=" + suite.bin + " daemon\n", "Restart=on-failure\n", "WARREN_RUNTIME_DIR=" + suite.runDir} {
		if !strings.Contains(service, want) {
			t.Errorf("warren.service lacks %q:\n%s", want, service)
		}
	}
	if socket := readFile(filepath.Join(units, "warren.socket")); !strings.Contains(socket, "ListenStream="+suite.socket+"\n") {
		t.Errorf("warren.socket does not listen on %s:\n%s", suite.socket, socket)
	}
	// Without a manager, nothing goes to the user's own unit folder.
	if fileExists(filepath.Join(root, "config", "systemd", "user", "warren.service")) {
		t.Error("setup wrote a unit into the user's unit folder without a systemd user manager")
	}
	verify := exec.Command("systemd-analyze", "--user", "verify",
		filepath.Join(units, "warren.socket"), filepath.Join(units, "warren.service"))
	verify.Env = env
	if b, err := verify.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("systemd-analyze --user verify: %v\n%s", err, b)
	}

	r := runCmd(suite.docker, env, nil, "--context", "warren", "version", "--format", "{{.Server.Version}}")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Fatalf("docker --context warren version: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	serverVersion := strings.TrimSpace(mustWarren(t, "version", "--format", "{{.Server.Version}}"))
	if got := strings.TrimSpace(r.stdout); got != serverVersion {
		t.Errorf("docker --context warren talks to server %q, want warren's %q", got, serverVersion)
	}
	mustRunIn(t, suite.docker, env, "context", "use", "warren")
	mustRunIn(t, suite.docker, env, "ps")

	again := mustRunIn(t, suite.bin, env, "setup", "--systemd-dir", units)
	if strings.Contains(again, "wrote") || strings.Contains(again, "created") || strings.Contains(again, "updated") {
		t.Errorf("a second setup changed something:\n%s", again)
	}
	if !strings.Contains(again, `context "warren" is up to date`) {
		t.Errorf("a second setup does not say the context is up to date:\n%s", again)
	}

	un := mustRunIn(t, suite.bin, env, "setup", "--uninstall", "--systemd-dir", units)
	for _, want := range []string{"systemd: removed", `docker: removed context "warren"`, `the current context is "default" again`} {
		if !strings.Contains(un, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, un)
		}
	}
	for _, u := range []string{"warren.socket", "warren.service"} {
		if fileExists(filepath.Join(units, u)) {
			t.Errorf("uninstall left %s", u)
		}
	}
	if ls := mustRunIn(t, suite.docker, env, "context", "ls", "-q"); containsLine(ls, "warren") {
		t.Errorf("docker still lists the context:\n%s", ls)
	}
	if r := runCmd(suite.docker, env, nil, "--context", "warren", "version"); r.code == 0 {
		t.Error("docker --context warren still works after uninstall")
	}
	if un := mustRunIn(t, suite.bin, env, "setup", "--uninstall", "--systemd-dir", units); !strings.Contains(un, "Nothing to remove") {
		t.Errorf("a second uninstall:\n%s", un)
	}
}

// Without a systemd user manager and without --systemd-dir, setup says so,
// writes no unit, and still creates the context.
func TestSetupWithoutSystemd(t *testing.T) {
	env, root := setupEnv(t)
	out := mustRunIn(t, suite.bin, env, "setup")
	if !strings.Contains(out, "no systemd user manager runs for this user: no unit installed") {
		t.Errorf("setup does not say that no unit was installed:\n%s", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "config")); len(entries) != 0 {
		t.Errorf("setup wrote under the config folder without a manager: %v", entries)
	}
	if ls := mustRunIn(t, suite.docker, env, "context", "ls", "-q"); !containsLine(ls, "warren") {
		t.Errorf("no warren context:\n%s", ls)
	}
}

// A missing prerequisite stops setup with its fix, before any change.
func TestSetupStopsOnMissingPrerequisite(t *testing.T) {
	env, root := setupEnv(t)
	env = withEnv(env, "PATH=/nonexistent")
	r := runCmd(suite.bin, env, nil, "setup", "--systemd-dir", filepath.Join(root, "units"))
	if r.code != 1 {
		t.Fatalf("setup without newuidmap in PATH: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "MISSING") || !strings.Contains(r.stdout, "Fix: install the uidmap package") {
		t.Errorf("setup does not name the fix:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "setup stopped: fix the missing prerequisites above") {
		t.Errorf("stderr: %q", r.stderr)
	}
	if fileExists(filepath.Join(root, "units")) || fileExists(filepath.Join(root, "docker", "contexts")) {
		t.Error("setup changed something although a prerequisite is missing")
	}
}

func TestSetupRejectsArguments(t *testing.T) {
	_, stderr, code := warren(t, "setup", "extra")
	if code != 1 || !strings.Contains(stderr, "'warren setup' accepts no arguments") {
		t.Errorf("setup extra: exit %d: %s", code, stderr)
	}
}

// ownedByOthers lists the files under dir that the user does not own.
func ownedByOthers(dir string) []string {
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
				found = append(found, p)
			}
		}
		return nil
	})
	return found
}

// system reset stops the daemon and removes its folders, files of
// subordinate ids included, without root; it refuses without a terminal
// unless forced.
func TestResetRemovesEverything(t *testing.T) {
	d := startOwnDaemon(t)
	dataDir := filepath.Join(filepath.Dir(d.runDir), "data")
	d.mustRun(t, "run", "--name", "owned", "busybox", "sh", "-c",
		"mkdir -p /sub/deep && touch /sub/deep/f && chown -R 1234:1234 /sub && chmod 0 /sub/deep")
	d.mustRun(t, "run", "-d", "--name", "running", "busybox", "sleep", "1000")
	if len(ownedByOthers(dataDir)) == 0 {
		t.Fatal("no file of a subordinate id under the data folder: the test proves nothing")
	}

	r := d.run(t, "system", "reset")
	if r.code != 1 || !strings.Contains(r.stderr, "refusing to reset without a terminal") {
		t.Fatalf("reset without a terminal: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if !fileExists(dataDir) || d.proc.exited() {
		t.Fatal("a refused reset removed something")
	}
	if ps := d.mustRun(t, "ps", "-q"); strings.TrimSpace(ps) == "" {
		t.Fatal("a refused reset stopped the containers")
	}

	r = d.run(t, "system", "reset", "-f")
	if r.code != 0 {
		t.Fatalf("reset -f: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Stopped the warren daemon", "Removed " + dataDir, "Removed " + d.runDir} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("reset output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, dir := range []string{dataDir, d.runDir} {
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v): %v", dir, err, ownedByOthers(dir))
		}
	}
	if !d.proc.exited() {
		t.Error("the daemon still runs after reset")
	}
	if pids := daemonsFor(d.runDir); len(pids) != 0 {
		t.Errorf("daemons left: %v", pids)
	}
	// Nothing to reset: it succeeds and removes nothing.
	if r := d.run(t, "system", "reset", "-f"); r.code != 0 || strings.Contains(r.stdout, "Removed") {
		t.Errorf("reset of nothing: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// A daemon that uses the data folder from another runtime folder is
// stopped too, before its data goes.
func TestResetStopsTheDataFoldersDaemon(t *testing.T) {
	d := startOwnDaemon(t)
	dataDir := filepath.Join(filepath.Dir(d.runDir), "data")
	env := withEnv(d.env, "WARREN_RUNTIME_DIR="+t.TempDir())
	r := runCmd(suite.bin, env, nil, "system", "reset", "-f")
	if r.code != 0 || !strings.Contains(r.stdout, "Stopped the warren daemon") {
		t.Fatalf("reset: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 10*time.Second, "the daemon to be reaped", d.proc.exited)
	if fileExists(dataDir) {
		t.Error("the data folder is still there")
	}
}

// A data folder that holds nothing of warren's (a mistyped --data-dir) is
// refused, and nothing is removed.
func TestResetRefusesForeignFolder(t *testing.T) {
	root := t.TempDir()
	foreign := filepath.Join(root, "mine")
	if err := os.MkdirAll(filepath.Join(foreign, "src"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := withEnv(suite.env, "WARREN_RUNTIME_DIR="+filepath.Join(root, "run"), "WARREN_DATA_DIR="+foreign)
	r := runCmd(suite.bin, env, nil, "system", "reset", "-f")
	if r.code != 1 || !strings.Contains(r.stderr, "refusing to remove "+foreign+": it holds nothing of warren's") {
		t.Errorf("reset of a foreign folder: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if !fileExists(filepath.Join(foreign, "src")) {
		t.Error("the foreign folder was removed")
	}
}

// On a terminal, reset asks as podman does; "n" keeps everything, "y"
// removes it.
func TestResetAsksOnATerminal(t *testing.T) {
	d := startOwnDaemon(t)
	dataDir := filepath.Join(filepath.Dir(d.runDir), "data")
	// script(1) gives the command a terminal and feeds it our stdin.
	r := runCmd("script", d.env, []byte("n\n"), "-qec", suite.bin+" system reset", "/dev/null")
	if r.code != 0 {
		t.Errorf("reset answered n: exit %d, want 0 (as docker's prompts): %s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "WARNING! This will remove:") || !strings.Contains(r.stdout, "Are you sure you want to continue? [y/N]") {
		t.Errorf("no warning:\n%s", r.stdout)
	}
	if !fileExists(dataDir) || d.proc.exited() {
		t.Error("an answer of n removed something")
	}
	r = runCmd("script", d.env, []byte("y\n"), "-qec", suite.bin+" system reset", "/dev/null")
	if r.code != 0 || fileExists(dataDir) {
		t.Errorf("reset answered y: exit %d, data folder left: %v\n%s%s", r.code, fileExists(dataDir), r.stdout, r.stderr)
	}
}

// The bash script loads in a plain bash (no bash-completion package) and
// completes the names of running containers from the daemon.
func TestCompletionBash(t *testing.T) {
	running, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	stopped := uniqueName(t)
	mustWarren(t, "create", "--name", stopped, "busybox", "true")
	t.Cleanup(func() { warren(t, "rm", "-f", stopped) })
	script := mustWarren(t, "completion", "bash")
	complete := func(words ...string) []string {
		t.Helper()
		// COMP_WORDS as bash fills it; the script is loaded as a user does.
		sh := `source <(warren completion bash) || exit 9
complete -p warren >/dev/null || exit 8
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_warren_complete
printf '%s\n' "${COMPREPLY[@]}"`
		r := runCmd("bash", completionEnv(t), nil, append([]string{"--norc", "-c", sh, "bash"}, words...)...)
		if r.code != 0 {
			t.Fatalf("bash completion of %q: exit %d: %s", words, r.code, r.stderr)
		}
		return strings.Split(strings.TrimSpace(r.stdout), "\n")
	}
	if !strings.Contains(script, "complete -F _warren_complete warren") {
		t.Fatalf("script:\n%s", script)
	}
	has := slices.Contains[[]string]
	if got := complete("warren", "stop", ""); !has(got, running) || has(got, stopped) {
		t.Errorf("warren stop <TAB> = %q, want %s and not %s", got, running, stopped)
	}
	if got := complete("warren", "start", ""); !has(got, stopped) || has(got, running) {
		t.Errorf("warren start <TAB> = %q, want %s and not %s", got, stopped, running)
	}
	if got := complete("warren", "rmi", "busy"); !has(got, "busybox:latest") {
		t.Errorf("warren rmi busy<TAB> = %q", got)
	}
	if got := complete("warren", "run", "--network", ""); !has(got, "host") || !has(got, "container:"+running) {
		t.Errorf("warren run --network <TAB> = %q", got)
	}
	if got := complete("warren", "ima"); !has(got, "image") || !has(got, "images") || len(got) != 2 {
		t.Errorf("warren ima<TAB> = %q", got)
	}
	if got := complete("warren", "ps", "--al"); len(got) != 1 || got[0] != "--all" {
		t.Errorf("warren ps --al<TAB> = %q", got)
	}
}

// completionEnv finds the binary under test as warren, as a user's shell
// does.
func completionEnv(t *testing.T) []string {
	t.Helper()
	if filepath.Base(suite.bin) != "warren" {
		t.Fatalf("the binary under test is %s; the scripts complete the command warren", suite.bin)
	}
	return withEnv(suite.env, "PATH="+filepath.Dir(suite.bin)+":"+os.Getenv("PATH"))
}

// fish loads the script and completes command lines (complete -C) with
// the daemon's names.
func TestCompletionFish(t *testing.T) {
	running, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	complete := func(line string) []string {
		t.Helper()
		r := runCmd("fish", completionEnv(t), nil, "--no-config", "-c", "warren completion fish | source; complete -C $argv[1]", line)
		if r.code != 0 {
			t.Fatalf("fish completion of %q: exit %d: %s", line, r.code, r.stderr)
		}
		return strings.Split(strings.TrimSpace(r.stdout), "\n")
	}
	if got := complete("warren stop "); !slices.Contains(got, running) {
		t.Errorf("warren stop <TAB> = %q, want %s", got, running)
	}
	if got := complete("warren rmi busy"); !slices.Contains(got, "busybox:latest") {
		t.Errorf("warren rmi busy<TAB> = %q", got)
	}
	if got := complete("warren ima"); !slices.Equal(got, []string{"image", "images"}) {
		t.Errorf("warren ima<TAB> = %q", got)
	}
}

// zsh loads the script (it registers _warren with compdef) and _warren
// offers the daemon's names. compadd and compdef exist only inside zsh's
// completion system, so they are stood in for by functions that print.
func TestCompletionZsh(t *testing.T) {
	running, _ := runDetached(t, warrenCLI, "busybox", "sleep", "1000")
	sh := `compadd() { [[ $1 == -a ]] && print -l -- ${(@P)2} }
compdef() { print "compdef $*" }
_files() { print "FILES" }
source <(warren completion zsh) || exit 9
words=("$@"); CURRENT=$#
_warren`
	complete := func(words ...string) []string {
		t.Helper()
		r := runCmd("zsh", completionEnv(t), nil, append([]string{"-f", "-c", sh, "zsh"}, words...)...)
		if r.code != 0 {
			t.Fatalf("zsh completion of %q: exit %d: %s", words, r.code, r.stderr)
		}
		return strings.Split(strings.TrimSpace(r.stdout), "\n")
	}
	got := complete("warren", "stop", "")
	if got[0] != "compdef _warren warren" || !slices.Contains(got, running) {
		t.Errorf("warren stop <TAB> = %q, want the compdef line and %s", got, running)
	}
	if got := complete("warren", "ps", ""); !slices.Contains(got, "FILES") {
		t.Errorf("warren ps <TAB> = %q, want the fallback to files", got)
	}
}

func TestCompletionScripts(t *testing.T) {
	if _, stderr, code := warren(t, "completion", "tcsh"); code != 1 || !strings.Contains(stderr, `unsupported shell "tcsh"`) {
		t.Errorf("completion tcsh: exit %d: %s", code, stderr)
	}
	if _, stderr, code := warren(t, "completion"); code != 1 || !strings.Contains(stderr, "'warren completion' requires 1 argument") {
		t.Errorf("completion: exit %d: %s", code, stderr)
	}
}

// Help reads like docker's: a usage line, the summary, the options with
// their types, and examples where they help.
func TestHelp(t *testing.T) {
	out := mustWarren(t, "--help")
	for _, want := range []string{"Usage:  warren [OPTIONS] COMMAND\n", "\nCommands:\n", "  setup  ", "  completion  ", "\nGlobal Options:\n", "Run 'warren COMMAND --help' for more information on a command."} {
		if !strings.Contains(out, want) {
			t.Errorf("warren --help lacks %q:\n%s", want, out)
		}
	}
	out = mustWarren(t, "ps", "--help")
	for _, want := range []string{"Usage:  warren ps [OPTIONS]\n\nList containers\n", "\nExamples:\n  warren ps -a\n", "\nOptions:\n", "  -a, --all ", "      --format string "} {
		if !strings.Contains(out, want) {
			t.Errorf("warren ps --help lacks %q:\n%s", want, out)
		}
	}
	if out := mustWarren(t, "help", "ps"); !strings.HasPrefix(out, "Usage:  warren ps [OPTIONS]\n") {
		t.Errorf("warren help ps:\n%s", out)
	}
	out = mustWarren(t, "system", "--help")
	if !strings.Contains(out, "Usage:  warren system COMMAND") || !strings.Contains(out, "  reset  ") || strings.Contains(out, "help, h") {
		t.Errorf("warren system --help:\n%s", out)
	}
}
