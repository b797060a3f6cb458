package sandbox

import (
	"fmt"

	"warren/rootless/seccomp"
)

// installSeccomp is the last step before the user's command: after the
// capabilities and no_new_privs, which the kernel requires of an
// unprivileged filter, and after the executable was found, so that the
// filter only sees execve itself (as runc does with no_new_privs).
func installSeccomp(p *seccomp.Program) error {
	if err := seccomp.Install(p); err != nil {
		return fmt.Errorf("error during container init: %w", err)
	}
	return nil
}
