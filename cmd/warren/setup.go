package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"warren/internal/config"
	"warren/internal/dockerctx"
	"warren/internal/userunit"
	"warren/rootless/bootstrap"
)

// dockerContext is the docker CLI context `warren setup` creates.
const dockerContext = "warren"

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
		return fmt.Errorf("warren: %w", err)
	}
	if c.Bool("uninstall") {
		return uninstall(s.out, unitDir, managed)
	}
	if !writeChecks(s.out, bootstrap.Checks()) {
		return statusError{status: 1, msg: "warren: setup stopped: fix the missing prerequisites above, then run 'warren setup' again"}
	}
	fmt.Fprintln(s.out)
	if err := installUnits(s, unitDir, write, managed); err != nil {
		return fmt.Errorf("warren: %w", err)
	}
	fmt.Fprintln(s.out)
	host := "unix://" + s.paths.Socket()
	change, err := dockerctx.Ensure(dockerContext, host, "warren, rootless Docker-compatible engine")
	if err != nil {
		return fmt.Errorf("warren: %w", err)
	}
	if change == dockerctx.Unchanged {
		fmt.Fprintf(s.out, "docker: context %q is up to date (%s)\n", dockerContext, host)
	} else {
		fmt.Fprintf(s.out, "docker: %s context %q (%s)\n", change, dockerContext, host)
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
	def, err := userunit.Dir()
	if err != nil {
		return "", false, false, err
	}
	running := userunit.ManagerRunning()
	if explicit == "" {
		return def, running, running, nil
	}
	abs, err := filepath.Abs(explicit)
	if err != nil {
		return "", false, false, err
	}
	return abs, true, running && abs == def, nil
}

func installUnits(s *session, dir string, write, managed bool) error {
	if !write {
		fmt.Fprintln(s.out, "systemd: no systemd user manager runs for this user: no unit installed.")
		fmt.Fprintln(s.out, "  warren commands start the daemon in the background when it is not running.")
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the warren binary: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	env := []string{config.EnvRuntimeDir + "=" + s.paths.RuntimeDir, config.EnvDataDir + "=" + s.paths.DataDir}
	files := userunit.Files(exe, s.paths.Socket(), env)
	for _, name := range userunit.Names {
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, []byte(files[name])) {
			fmt.Fprintf(s.out, "systemd: %s is up to date\n", path)
			continue
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "systemd: wrote %s\n", path)
	}
	if !managed {
		fmt.Fprintln(s.out, "systemd: no systemd user manager runs for this user (or it does not load this folder): the units are not enabled.")
		return nil
	}
	enable := append([]string{"enable", "--now"}, userunit.Names...)
	// A daemon that a command started holds the lock and the socket: the
	// units take over once it stops, rather than setup stopping containers.
	if lock, pid, err := runningDaemon(s.paths.LockFile()); err == nil && lock != nil {
		lock.Close()
		if !userunit.RunsAs(pid) {
			enable = append([]string{"enable"}, userunit.Names...)
			fmt.Fprintf(s.out, "systemd: a warren daemon runs outside systemd (pid %d): the units start at your next login, or now with:\n  kill %d && systemctl --user start %s %s\n",
				pid, pid, userunit.Socket, userunit.Service)
		}
	}
	for _, args := range [][]string{{"daemon-reload"}, enable} {
		if err := userunit.Systemctl(s.out, args...); err != nil {
			return err
		}
	}
	if u, err := user.Current(); err == nil && !userunit.Lingering(u.Username) {
		fmt.Fprintf(s.out, "systemd: the daemon stops when you log out; to keep it (and its containers) running, run:\n  loginctl enable-linger %s\n", u.Username)
	}
	return nil
}

func uninstall(out io.Writer, dir string, managed bool) error {
	changed := false
	present := false
	for _, name := range userunit.Names {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			present = true
		}
	}
	if managed && present {
		if err := userunit.Systemctl(out, append([]string{"disable", "--now"}, userunit.Names...)...); err != nil {
			return fmt.Errorf("warren: %w", err)
		}
	}
	for _, name := range userunit.Names {
		p := filepath.Join(dir, name)
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
		if err := userunit.Systemctl(out, "daemon-reload"); err != nil {
			return fmt.Errorf("warren: %w", err)
		}
	}
	removed, wasCurrent, err := dockerctx.Remove(dockerContext)
	if wasCurrent {
		fmt.Fprintln(out, `docker: the current context is "default" again`)
	}
	if err != nil {
		return fmt.Errorf("warren: %w", err)
	}
	if removed {
		fmt.Fprintf(out, "docker: removed context %q\n", dockerContext)
	}
	if !changed && !removed {
		fmt.Fprintln(out, "Nothing to remove: warren is not set up for this user.")
	}
	return nil
}
