package engine

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"warren/rootless/sandbox"
)

// maxHostnameLen is HOST_NAME_MAX; sethostname(2) refuses more.
const maxHostnameLen = 64

// validateRequest applies, at create, the checks Docker makes in
// verifyContainerSettings and registerMountPoints, so that a request that
// could never start is refused before anything is written. Errors carry
// Docker's texts and are invalid input (400).
func validateRequest(cfg *container.Config, hc *container.HostConfig) error {
	if cfg.Image != "" {
		// Docker's image service parses before it looks up: "../../x" is
		// invalid input, not a missing image the CLI should try to pull.
		if _, err := reference.ParseAnyReference(cfg.Image); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
	}
	if err := validateEnv(cfg.Env); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if err := container.ValidateRestartPolicy(hc.RestartPolicy); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if _, err := sandbox.Capabilities(hc.CapAdd, nil, false); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if _, err := sandbox.Capabilities(nil, hc.CapDrop, false); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if len(cfg.Hostname) > maxHostnameLen {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"hostname %q is too long (maximum %d bytes)", cfg.Hostname, maxHostnameLen))
	}
	for _, m := range hc.Mounts {
		if err := checkMountSource(m); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
	}
	if _, err := bindMounts(hc); err != nil {
		return err
	}
	return nil
}

// validateEnv is Docker's ValidateEnv (no empty names) plus the NUL check
// the OCI runtime would only make at start.
func validateEnv(env []string) error {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return errors.New("invalid environment variable: " + kv)
		}
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf(`invalid environment variable %q: contains nul byte (\x00)`, k)
		}
	}
	return nil
}

// bindMounts turns -v host:container[:mode] and --mount type=bind into
// runtime mounts, with Docker's checks (volume/mounts/linux_parser.go).
// Named and anonymous volumes and mount types other than bind are refused:
// warren has no volumes.
func bindMounts(hc *container.HostConfig) ([]sandbox.Mount, error) {
	var out []sandbox.Mount
	seen := map[string]bool{}
	add := func(m sandbox.Mount) error {
		if seen[m.Destination] {
			return errdefs.ErrInvalidArgument.WithMessage("Duplicate mount point: " + m.Destination)
		}
		seen[m.Destination] = true
		out = append(out, m)
		return nil
	}
	for _, b := range hc.Binds {
		m, err := parseBind(b)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, spec := range hc.Mounts {
		m, err := parseMount(spec)
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseBind is Docker's ParseMountRaw for one -v value.
func parseBind(raw string) (sandbox.Mount, error) {
	invalid := fmt.Errorf("invalid volume specification: '%s'", raw)
	arr := strings.SplitN(raw, ":", 4)
	if arr[0] == "" {
		return sandbox.Mount{}, invalid
	}
	var src, dst, mode string
	switch len(arr) {
	case 1:
		dst = arr[0]
	case 2:
		if validMountMode(arr[1]) {
			return sandbox.Mount{}, invalid // "/foo:rw": a volume cannot have a mode alone
		}
		src, dst = arr[0], arr[1]
	case 3:
		src, dst, mode = arr[0], arr[1], arr[2]
	default:
		return sandbox.Mount{}, invalid
	}
	if !validMountMode(mode) {
		return sandbox.Mount{}, fmt.Errorf("invalid mode: %s", mode)
	}
	typ := mount.TypeVolume
	if path.IsAbs(src) {
		typ = mount.TypeBind
	}
	if err := checkTarget(dst); err != nil {
		return sandbox.Mount{}, fmt.Errorf("%v: %w", invalid, mountConfigError(typ, err))
	}
	if typ != mount.TypeBind {
		return sandbox.Mount{}, fmt.Errorf("%v: volumes are not supported by warren; use an absolute host path", invalid)
	}
	m := sandbox.Mount{Source: src, Destination: path.Clean(dst)}
	for _, o := range strings.Split(mode, ",") {
		if o == "ro" {
			m.ReadOnly = true
		}
	}
	return m, nil
}

// parseMount is Docker's ValidateMountConfig for one --mount, for the one
// type warren has. The source's existence is checkMountSource's.
func parseMount(spec mount.Mount) (sandbox.Mount, error) {
	if err := exclusiveOptions(spec); err != nil {
		return sandbox.Mount{}, mountConfigError(spec.Type, err)
	}
	if err := checkTarget(spec.Target); err != nil {
		return sandbox.Mount{}, mountConfigError(spec.Type, err)
	}
	switch spec.Type {
	case mount.TypeBind:
	case mount.TypeVolume, mount.TypeTmpfs, mount.TypeImage:
		return sandbox.Mount{}, mountConfigError(spec.Type, errors.New("warren supports only bind mounts"))
	default: // npipe, cluster and anything else: Docker on Linux knows none
		return sandbox.Mount{}, mountConfigError(spec.Type, errors.New("mount type unknown"))
	}
	if spec.Source == "" {
		return sandbox.Mount{}, mountConfigError(spec.Type, errors.New("field Source must not be empty"))
	}
	if o := spec.BindOptions; o != nil && o.Propagation != "" && !propagationModes[string(o.Propagation)] {
		return sandbox.Mount{}, mountConfigError(spec.Type, fmt.Errorf("invalid propagation mode: %s", o.Propagation))
	}
	if err := checkAbsolute(spec.Source); err != nil {
		return sandbox.Mount{}, mountConfigError(spec.Type, err)
	}
	return sandbox.Mount{Source: spec.Source, Destination: path.Clean(spec.Target), ReadOnly: spec.ReadOnly}, nil
}

// checkMountSource is Docker's check, at create, that a --mount bind's
// source exists (unless CreateMountpoint asks for it to be made).
func checkMountSource(spec mount.Mount) error {
	if spec.Type != mount.TypeBind || !path.IsAbs(spec.Source) {
		return nil // parseMount reports these
	}
	if spec.BindOptions != nil && spec.BindOptions.CreateMountpoint {
		return nil
	}
	_, err := os.Stat(spec.Source)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return mountConfigError(spec.Type, fmt.Errorf("bind source path does not exist: %s", spec.Source))
	case err != nil:
		return mountConfigError(spec.Type, err)
	}
	return nil
}

func mountConfigError(typ mount.Type, err error) error {
	return fmt.Errorf("invalid mount config for type %q: %w", typ, err)
}

// checkTarget is Docker's: present, absolute and not the root.
func checkTarget(p string) error {
	if p == "" {
		return errors.New("field Target must not be empty")
	}
	if path.Clean(p) == "/" {
		return errors.New("invalid specification: destination can't be '/'")
	}
	return checkAbsolute(p)
}

func checkAbsolute(p string) error {
	if !path.IsAbs(p) {
		return fmt.Errorf("invalid mount path: '%s' mount path must be absolute", p)
	}
	return nil
}

// exclusiveOptions refuses another type's options, as Docker does.
func exclusiveOptions(m mount.Mount) error {
	extra := func(name string) error { return fmt.Errorf("field %s must not be specified", name) }
	switch {
	case m.Type != mount.TypeBind && m.BindOptions != nil:
		return extra("BindOptions")
	case m.Type != mount.TypeVolume && m.VolumeOptions != nil:
		return extra("VolumeOptions")
	case m.Type != mount.TypeImage && m.ImageOptions != nil:
		return extra("ImageOptions")
	case m.Type != mount.TypeTmpfs && m.TmpfsOptions != nil:
		return extra("TmpfsOptions")
	case m.Type != mount.TypeCluster && m.ClusterOptions != nil:
		return extra("ClusterOptions")
	}
	return nil
}

var propagationModes = map[string]bool{
	"private": true, "rprivate": true, "slave": true, "rslave": true, "shared": true, "rshared": true,
}

// validMountMode is Docker's linuxValidMountMode: known options, at most
// one of each kind.
func validMountMode(mode string) bool {
	if mode == "" {
		return true
	}
	kinds := map[string]string{
		"rw": "rw", "ro": "rw", "z": "label", "Z": "label", "nocopy": "copy",
		"consistent": "consistency", "cached": "consistency", "delegated": "consistency",
	}
	for p := range propagationModes {
		kinds[p] = "propagation"
	}
	count := map[string]int{}
	for _, o := range strings.Split(mode, ",") {
		kind, ok := kinds[o]
		if !ok {
			return false
		}
		if count[kind]++; count[kind] > 1 {
			return false
		}
	}
	return true
}
