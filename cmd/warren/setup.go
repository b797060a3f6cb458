package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/context/store"
	"github.com/urfave/cli/v2"

	"warren/internal/config"
	"warren/rootless/bootstrap"
)

// The systemd user units `warren setup` installs, and the docker CLI
// context it creates.
const (
	serviceUnit   = "warren.service"
	socketUnit    = "warren.socket"
	dockerContext = "warren"
)

func setupCommand() *cli.Command {
	return &cli.Command{
		Name:      "setup",
		Usage:     "Install warren for this user: a systemd user unit, a docker context",
		UsageText: "warren setup [OPTIONS]",
		Description: `Checks the prerequisites (as 'warren info' does) and stops with their fixes
when one is missing. Where a systemd user manager runs, it installs and
enables warren.socket and warren.service, so that the daemon starts at login
or at the first API call. It creates the docker CLI context "warren".
Running it again changes only what differs; --uninstall removes it all.

Examples:
  warren setup
  warren setup --uninstall
  docker --context warren ps`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "uninstall", Usage: "Remove the units and the docker context"},
			&cli.StringFlag{Name: "systemd-dir", Usage: "Write the units to this folder (e.g. to check them), even without a systemd user manager"},
		},
		Action: setupAction,
	}
}

func setupAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	s := sessionOf(c)
	unitDir, write, managed, err := unitTarget(c.String("systemd-dir"))
	if err != nil {
		return err
	}
	if c.Bool("uninstall") {
		return uninstall(s.out, unitDir, managed)
	}
	if !writeChecks(s.out, bootstrap.Checks()) {
		return statusError{status: 1, msg: "warren: setup stopped: fix the missing prerequisites above, then run 'warren setup' again"}
	}
	fmt.Fprintln(s.out)
	if err := installUnits(s, unitDir, write, managed); err != nil {
		return err
	}
	fmt.Fprintln(s.out)
	host := "unix://" + s.paths.Socket()
	if err := installDockerContext(s.out, host); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Use it with 'docker context use %s' or 'docker --context %s ...', or set:\n", dockerContext, dockerContext)
	fmt.Fprintf(s.out, "export DOCKER_HOST=%s\n", host)
	return nil
}

// unitTarget is the folder the units go to, whether to write them there,
// and whether a running systemd user manager loads that folder (so that
// setup enables them). An explicit folder is written even without a
// manager; the default one only with a manager.
func unitTarget(explicit string) (dir string, write, managed bool, err error) {
	def, err := userUnitDir()
	if err != nil {
		return "", false, false, err
	}
	running := userManagerRunning()
	if explicit == "" {
		return def, running, running, nil
	}
	abs, err := filepath.Abs(explicit)
	if err != nil {
		return "", false, false, fmt.Errorf("warren: %w", err)
	}
	return abs, true, running && abs == def, nil
}

// userManagerRunning tells whether this user has a systemd manager: it
// listens on $XDG_RUNTIME_DIR/systemd/private.
func userManagerRunning() bool {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(rt, "systemd", "private"))
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// userUnitDir is where a user's own units live.
func userUnitDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "systemd", "user"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("warren: find the systemd user unit folder: %w", err)
	}
	return filepath.Join(home, ".config", "systemd", "user"), nil
}

// systemdUnits tells whether a running systemd user manager has warren's
// socket unit installed.
func systemdUnits() (bool, error) {
	if !userManagerRunning() {
		return false, nil
	}
	dir, err := userUnitDir()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(filepath.Join(dir, socketUnit))
	return err == nil, nil
}

// runSystemctl runs `systemctl --user args...`, showing the command and
// its output.
func runSystemctl(out io.Writer, args ...string) error {
	args = append([]string{"--user"}, args...)
	fmt.Fprintf(out, "+ systemctl %s\n", strings.Join(args, " "))
	cmd := exec.Command("systemctl", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("warren: systemctl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// unitFiles are the units' contents: the daemon runs on the paths this
// setup sees, started by the first connection to its socket or at login.
func unitFiles(exe string, runtimeDir, dataDir, socket string) map[string]string {
	env := fmt.Sprintf("Environment=%s %s\n",
		systemdQuote(config.EnvRuntimeDir+"="+runtimeDir), systemdQuote(config.EnvDataDir+"="+dataDir))
	return map[string]string{
		socketUnit: `[Unit]
Description=warren API socket (rootless Docker-compatible engine)

[Socket]
ListenStream=` + systemdEscape(socket) + `
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
`,
		serviceUnit: `[Unit]
Description=warren daemon (rootless Docker-compatible engine)
Requires=` + socketUnit + `
After=` + socketUnit + `

[Service]
Type=simple
ExecStart=` + systemdQuote(exe) + ` daemon
` + env + `Restart=on-failure
# SIGTERM to the daemon alone: it stops its engine and containers itself.
KillMode=mixed
TimeoutStopSec=60

[Install]
WantedBy=default.target
`,
	}
}

// systemdEscape doubles the characters systemd expands in unit values.
func systemdEscape(s string) string {
	return strings.NewReplacer("%", "%%", "$", "$$", `\`, `\\`).Replace(s)
}

// systemdQuote is one word of ExecStart= or Environment=, quoted when it
// holds blanks or quotes.
func systemdQuote(s string) string {
	e := systemdEscape(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'") {
		return e
	}
	return `"` + strings.ReplaceAll(e, `"`, `\"`) + `"`
}

func installUnits(s *session, dir string, write, managed bool) error {
	if !write {
		fmt.Fprintln(s.out, "systemd: no systemd user manager runs for this user: no unit installed.")
		fmt.Fprintln(s.out, "  warren commands start the daemon in the background when it is not running.")
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("warren: find the warren binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("warren: %w", err)
	}
	files := unitFiles(exe, s.paths.RuntimeDir, s.paths.DataDir, s.paths.Socket())
	for _, name := range []string{socketUnit, serviceUnit} {
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, []byte(files[name])) {
			fmt.Fprintf(s.out, "systemd: %s is up to date\n", path)
			continue
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return fmt.Errorf("warren: %w", err)
		}
		fmt.Fprintf(s.out, "systemd: wrote %s\n", path)
	}
	if !managed {
		fmt.Fprintln(s.out, "systemd: no systemd user manager runs for this user (or it does not load this folder): the units are not enabled.")
		return nil
	}
	enable := []string{"enable", "--now", socketUnit, serviceUnit}
	// A daemon that a command started holds the lock and the socket: the
	// units take over once it stops, rather than setup stopping containers.
	if lock, pid, err := runningDaemon(s.paths.RuntimeDir); err == nil && lock != nil {
		lock.Close()
		if !underUnit(pid) {
			enable = []string{"enable", socketUnit, serviceUnit}
			fmt.Fprintf(s.out, "systemd: a warren daemon runs outside systemd (pid %d): the units start at your next login, or now with:\n  kill %d && systemctl --user start %s %s\n", pid, pid, socketUnit, serviceUnit)
		}
	}
	for _, args := range [][]string{{"daemon-reload"}, enable} {
		if err := runSystemctl(s.out, args...); err != nil {
			return err
		}
	}
	if u, err := user.Current(); err == nil {
		if _, err := os.Stat(filepath.Join("/var/lib/systemd/linger", u.Username)); err != nil {
			fmt.Fprintf(s.out, "systemd: the daemon stops when you log out; to keep it (and its containers) running, run:\n  loginctl enable-linger %s\n", u.Username)
		}
	}
	return nil
}

// underUnit tells whether systemd runs pid as warren.service.
func underUnit(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), "/"+serviceUnit)
}

func uninstall(out io.Writer, dir string, managed bool) error {
	changed := false
	paths := []string{filepath.Join(dir, serviceUnit), filepath.Join(dir, socketUnit)}
	present := false
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			present = true
		}
	}
	if managed && present {
		if err := runSystemctl(out, "disable", "--now", socketUnit, serviceUnit); err != nil {
			return err
		}
	}
	for _, p := range paths {
		err := os.Remove(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("warren: %w", err)
		}
		fmt.Fprintf(out, "systemd: removed %s\n", p)
		changed = true
	}
	if managed && present {
		if err := runSystemctl(out, "daemon-reload"); err != nil {
			return err
		}
	}
	removed, err := removeDockerContext(out)
	if err != nil {
		return err
	}
	if !changed && !removed {
		fmt.Fprintln(out, "Nothing to remove: warren is not set up for this user.")
	}
	return nil
}

// dockerContextMeta and dockerEndpoint are the docker CLI's context
// metadata (command.DockerContext) and docker endpoint
// (context.EndpointMetaBase), as its context store writes them.
type dockerContextMeta struct {
	Description string `json:",omitempty"`
}

type dockerEndpoint struct {
	Host          string `json:",omitempty"`
	SkipTLSVerify bool
}

// dockerStore is the docker CLI's context store, under $DOCKER_CONFIG or
// ~/.docker.
func dockerStore() *store.ContextStore {
	cfg := store.NewConfig(func() any { return &dockerContextMeta{} },
		store.EndpointTypeGetter("docker", func() any { return &dockerEndpoint{} }))
	return store.New(dockerconfig.ContextStoreDir(), cfg)
}

func installDockerContext(out io.Writer, host string) error {
	st := dockerStore()
	meta := store.Metadata{
		Name:      dockerContext,
		Metadata:  dockerContextMeta{Description: "warren, rootless Docker-compatible engine"},
		Endpoints: map[string]any{"docker": dockerEndpoint{Host: host}},
	}
	verb := "created"
	old, err := st.GetMetadata(dockerContext)
	switch {
	case err == nil:
		// The store hands back the getter's type dereferenced.
		if ep, ok := old.Endpoints["docker"].(dockerEndpoint); ok && ep.Host == host && !ep.SkipTLSVerify {
			fmt.Fprintf(out, "docker: context %q is up to date (%s)\n", dockerContext, host)
			return nil
		}
		verb = "updated"
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("warren: read docker context %q: %w", dockerContext, err)
	}
	if err := st.CreateOrUpdate(meta); err != nil {
		return fmt.Errorf("warren: write docker context %q: %w", dockerContext, err)
	}
	fmt.Fprintf(out, "docker: %s context %q (%s)\n", verb, dockerContext, host)
	return nil
}

// removeDockerContext removes the context, and makes the docker CLI's
// current context the default again if it was warren's, as
// `docker context rm -f` does.
func removeDockerContext(out io.Writer) (bool, error) {
	st := dockerStore()
	if _, err := st.GetMetadata(dockerContext); err != nil {
		if cerrdefs.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("warren: read docker context %q: %w", dockerContext, err)
	}
	cf, err := dockerconfig.Load(dockerconfig.Dir())
	if err != nil {
		return false, fmt.Errorf("warren: %w", err)
	}
	if cf.CurrentContext == dockerContext {
		cf.CurrentContext = ""
		if err := cf.Save(); err != nil {
			return false, fmt.Errorf("warren: %w", err)
		}
		fmt.Fprintln(out, "docker: the current context is \"default\" again")
	}
	if err := st.Remove(dockerContext); err != nil {
		return false, fmt.Errorf("warren: %w", err)
	}
	fmt.Fprintf(out, "docker: removed context %q\n", dockerContext)
	return true, nil
}
