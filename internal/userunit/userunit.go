// Package userunit owns warren's systemd user units: their text, the
// folder a user's units live in, whether a user manager runs, and the
// systemctl calls that enable them.
package userunit

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The units: the socket starts the service on the first connection, the
// service also starts at login.
const (
	Service = "warren.service"
	Socket  = "warren.socket"
)

// Names are both units, socket first (systemctl's order of enabling).
var Names = []string{Socket, Service}

// Files are the units' contents: the daemon runs exe with env (the
// folders of the CLI that ran setup) and listens on socket.
func Files(exe, socket string, env []string) map[string]string {
	var quoted []string
	for _, kv := range env {
		quoted = append(quoted, Quote(kv))
	}
	return map[string]string{
		Socket: `[Unit]
Description=warren API socket (rootless Docker-compatible engine)

[Socket]
ListenStream=` + Escape(socket) + `
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
`,
		Service: `[Unit]
Description=warren daemon (rootless Docker-compatible engine)
Requires=` + Socket + `
After=` + Socket + `

[Service]
Type=simple
ExecStart=` + Quote(exe) + ` daemon
Environment=` + strings.Join(quoted, " ") + `
Restart=on-failure
# SIGTERM to the daemon alone: it stops its engine and containers itself.
KillMode=mixed
TimeoutStopSec=60

[Install]
WantedBy=default.target
`,
	}
}

// Escape doubles the characters systemd expands in unit values.
func Escape(s string) string {
	return strings.NewReplacer("%", "%%", "$", "$$", `\`, `\\`).Replace(s)
}

// Quote is one word of ExecStart= or Environment=, quoted when it holds
// blanks or quotes.
func Quote(s string) string {
	e := Escape(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'") {
		return e
	}
	return `"` + strings.ReplaceAll(e, `"`, `\"`) + `"`
}

// ManagerRunning tells whether this user has a systemd manager: it
// listens on $XDG_RUNTIME_DIR/systemd/private.
func ManagerRunning() bool {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(rt, "systemd", "private"))
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// Dir is where a user's own units live.
func Dir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "systemd", "user"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the systemd user unit folder: %w", err)
	}
	return filepath.Join(home, ".config", "systemd", "user"), nil
}

// Installed tells whether a running user manager has warren's socket unit
// in the user's folder.
func Installed() bool {
	if !ManagerRunning() {
		return false
	}
	dir, err := Dir()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, Socket))
	return err == nil
}

// Systemctl runs `systemctl --user args...`, showing the command and its
// output on out.
func Systemctl(out io.Writer, args ...string) error {
	args = append([]string{"--user"}, args...)
	fmt.Fprintf(out, "+ systemctl %s\n", strings.Join(args, " "))
	cmd := exec.Command("systemctl", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// RunsAs tells whether systemd runs pid as warren.service.
func RunsAs(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), "/"+Service)
}

// Lingering tells whether the user's manager outlives their sessions
// (`loginctl enable-linger`).
func Lingering(user string) bool {
	_, err := os.Stat(filepath.Join("/var/lib/systemd/linger", user))
	return err == nil
}
