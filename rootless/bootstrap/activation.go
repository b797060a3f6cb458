package bootstrap

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rootless-containers/rootlesskit/v3/pkg/systemd/activation"

	"warren/internal/config"
	"warren/internal/sdactivation"
)

// IsActivationHelper tells whether this process is RootlessKit's
// activation helper: when systemd passed the daemon its socket, RootlessKit
// hands it to the child at fd 3, and the child re-executes warren with this
// variable so that LISTEN_PID names the engine, which the helper becomes.
func IsActivationHelper() bool { return os.Getenv(envActivationHelper) == "true" }

// ActivationHelperMain execs the engine with LISTEN_PID set to its pid; it
// never returns.
func ActivationHelperMain() {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(envChildConfig)), &cfg); err != nil || len(cfg.Engine) == 0 {
		fmt.Fprintf(os.Stderr, "%sno engine command from the parent (%s)\n", logPrefix, envChildConfig)
		os.Exit(1)
	}
	err := activation.ActivationHelper(activation.Opt{RunActivationHelperEnvKey: envActivationHelper, TargetCmd: cfg.Engine})
	fmt.Fprintf(os.Stderr, "%sstart the engine with the socket systemd passed: %v\n", logPrefix, err)
	os.Exit(1)
}

// systemdSocket tells whether systemd passed the daemon its socket, which
// RootlessKit then hands to the engine, and refuses one that is not on
// warren's socket path: the CLI would not find the daemon there.
func systemdSocket(p config.Paths) (bool, error) {
	if !sdactivation.Passed() {
		return false, nil
	}
	path, err := sdactivation.Inspect()
	if err != nil {
		return false, err
	}
	if path != p.Socket() {
		return false, fmt.Errorf("systemd passed a socket on %s, but warren's socket is %s: set %s (or ListenStream=) so that they match", path, p.Socket(), config.EnvRuntimeDir)
	}
	return true, nil
}
