package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/rootless/sandbox"
	"warren/rootless/seccomp"
)

// securityOptions is what HostConfig.SecurityOpt asks of warren.
// AppArmor and SELinux labels are accepted and recorded, as rootless Docker
// does on a host without them, but nothing applies them; no_new_privs is
// always set.
type securityOptions struct {
	seccomp string // "", "builtin", "unconfined" or a profile's JSON
}

// parseSecurityOpt reads --security-opt values as moby's parseSecurityOpt
// does, with its errors.
func parseSecurityOpt(opts []string) (securityOptions, error) {
	var so securityOptions
	for _, opt := range opts {
		switch opt {
		case "no-new-privileges", "writable-cgroups", "disable":
			continue
		}
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			// The old "key:value" form, which moby still takes.
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return so, invalidOpt(fmt.Sprintf("invalid --security-opt 1: %q", opt))
		}
		switch k {
		case "label", "apparmor":
		case "seccomp":
			so.seccomp = v
		case "no-new-privileges", "writable-cgroups":
			if _, err := strconv.ParseBool(v); err != nil {
				return so, invalidOpt(fmt.Sprintf("invalid --security-opt 2: %q", opt))
			}
		default:
			return so, invalidOpt(fmt.Sprintf("invalid --security-opt 2: %q", opt))
		}
	}
	return so, nil
}

func invalidOpt(msg string) error { return errdefs.ErrInvalidArgument.WithMessage(msg) }

// checkSecurity refuses at create what the container could not start with:
// an unknown option, or a seccomp profile that does not decode or compile.
// (Docker finds a bad profile only at start; failing early leaves nothing.)
func checkSecurity(hc *container.HostConfig) error {
	if _, err := seccompFor(hc); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return nil
}

// seccompFor is the filter of the container's processes, nil when it runs
// unconfined: Docker's default profile narrowed to its capabilities, or the
// profile its --security-opt seccomp= names.
func seccompFor(hc *container.HostConfig) (*seccomp.Program, error) {
	so, err := parseSecurityOpt(hc.SecurityOpt)
	if err != nil {
		return nil, err
	}
	caps, err := sandbox.Capabilities(hc.CapAdd, hc.CapDrop, hc.Privileged)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return seccomp.ForContainer(so.seccomp, hc.Privileged, caps)
}
