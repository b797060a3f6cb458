package engine

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
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
	if _, err := userMounts(hc); err != nil {
		return err
	}
	if err := checkProcessOptions(hc); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if hc.ShmSize < 0 {
		return errdefs.ErrInvalidArgument.WithMessage("SHM size can not be less than 0")
	}
	for _, u := range hc.Ulimits {
		if u == nil {
			continue
		}
		if err := sandbox.CheckRlimit(rlimitOf(u)); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
	}
	return nil
}

// rlimitOf is a --ulimit for the runtime; Docker's API takes int64s and
// passes negative values (-1, unlimited) on as the unsigned infinity.
func rlimitOf(u *container.Ulimit) sandbox.Rlimit {
	return sandbox.Rlimit{Name: u.Name, Soft: uint64(u.Soft), Hard: uint64(u.Hard)}
}

func rlimits(hc *container.HostConfig) []sandbox.Rlimit {
	var out []sandbox.Rlimit
	for _, u := range hc.Ulimits {
		if u != nil {
			out = append(out, rlimitOf(u))
		}
	}
	return out
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

// userMounts turns -v host:container[:mode], --mount type=bind|tmpfs and
// --tmpfs into runtime mounts, with Docker's checks
// (volume/mounts/linux_parser.go). Named and anonymous volumes are
// refused: warren has no volumes.
func userMounts(hc *container.HostConfig) ([]sandbox.Mount, error) {
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
	for _, dst := range slices.Sorted(maps.Keys(hc.Tmpfs)) {
		m, err := parseTmpfs(dst, hc.Tmpfs[dst])
		if err != nil {
			return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseTmpfs is one --tmpfs DEST[:OPTIONS], checked as Docker's
// ValidateTmpfsMountDestination and MergeTmpfsOptions do.
func parseTmpfs(dst, opts string) (sandbox.Mount, error) {
	if err := checkTarget(dst); err != nil {
		return sandbox.Mount{}, err
	}
	if _, _, err := sandbox.TmpfsOptions(opts); err != nil {
		return sandbox.Mount{}, err
	}
	return sandbox.Mount{Type: "tmpfs", Destination: path.Clean(dst), Options: opts}, nil
}

// tmpfsData is moby's ConvertTmpfsOptions: size with the largest exact
// suffix, mode in octal.
func tmpfsData(o *mount.TmpfsOptions) string {
	if o == nil {
		return ""
	}
	var opts []string
	if size := o.SizeBytes; size != 0 {
		suffix := ""
		for _, r := range []struct {
			suffix string
			div    int64
		}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
			if size%r.div == 0 {
				size, suffix = size/r.div, r.suffix
				break
			}
		}
		opts = append(opts, fmt.Sprintf("size=%d%s", size, suffix))
	}
	if o.Mode != 0 {
		opts = append(opts, fmt.Sprintf("mode=%o", o.Mode))
	}
	return strings.Join(opts, ",")
}

// createBindSources makes the missing host folders of -v binds (and of
// --mount binds that ask for it), at start, as Docker does; other --mount
// binds were checked at create.
func createBindSources(hc *container.HostConfig) error {
	var sources []string
	for _, b := range hc.Binds {
		if m, err := parseBind(b); err == nil {
			sources = append(sources, m.Source)
		}
	}
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeBind && m.BindOptions != nil && m.BindOptions.CreateMountpoint {
			sources = append(sources, m.Source)
		}
	}
	for _, src := range sources {
		if _, err := os.Lstat(src); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return fmt.Errorf("error while creating mount source path '%s': %w", src, err)
		}
	}
	return nil
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
	m := sandbox.Mount{Type: "bind", Source: src, Destination: path.Clean(dst)}
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
	case mount.TypeTmpfs:
		if spec.Source != "" {
			return sandbox.Mount{}, mountConfigError(spec.Type, errors.New("field Source must not be specified"))
		}
		if o := spec.TmpfsOptions; o != nil && o.SizeBytes < 0 {
			return sandbox.Mount{}, mountConfigError(spec.Type, fmt.Errorf("invalid tmpfs size %d", o.SizeBytes))
		}
		return sandbox.Mount{Type: "tmpfs", Destination: path.Clean(spec.Target), ReadOnly: spec.ReadOnly, Options: tmpfsData(spec.TmpfsOptions)}, nil
	case mount.TypeVolume, mount.TypeImage:
		return sandbox.Mount{}, mountConfigError(spec.Type, errors.New("warren supports only bind and tmpfs mounts"))
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
	return sandbox.Mount{Type: "bind", Source: spec.Source, Destination: path.Clean(spec.Target), ReadOnly: spec.ReadOnly}, nil
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

// checkProcessOptions refuses, at create, the options a start could only
// fail on or silently drop: sysctls outside the container's namespaces
// (runc's texts), an out-of-range oom_score_adj, and namespace modes warren
// does not have.
func checkProcessOptions(hc *container.HostConfig) error {
	for _, key := range slices.Sorted(maps.Keys(hc.Sysctls)) {
		if err := sandbox.CheckSysctl(key, hc.NetworkMode.IsHost()); err != nil {
			return err
		}
	}
	if err := sandbox.CheckOomScoreAdj(hc.OomScoreAdj); err != nil {
		return err
	}
	if _, err := devices(hc); err != nil {
		return err
	}
	for _, ns := range []struct {
		flag string
		host bool
		mode string
	}{
		{"pid", hc.PidMode.IsHost(), string(hc.PidMode)},
		{"ipc", hc.IpcMode.IsHost(), string(hc.IpcMode)},
		{"uts", hc.UTSMode.IsHost(), string(hc.UTSMode)},
	} {
		switch {
		case ns.host:
			return fmt.Errorf("--%s=host is not supported by warren: the engine runs in its own %s namespace, which is not the host's", ns.flag, ns.flag)
		case ns.mode == "", ns.flag != "uts" && strings.HasPrefix(ns.mode, "container:") && len(ns.mode) > len("container:"),
			ns.flag == "ipc" && (ns.mode == "private" || ns.mode == "shareable"):
		default:
			return fmt.Errorf("invalid %s mode: %s", strings.ToUpper(ns.flag), ns.mode)
		}
	}
	return nil
}

// devices are hc's --device nodes, checked as Docker's daemon does when it
// gathers them (a missing node, or a file that is not one, is refused).
func devices(hc *container.HostConfig) ([]sandbox.Device, error) {
	var out []sandbox.Device
	for _, d := range hc.Devices {
		fi, err := os.Stat(d.PathOnHost)
		if err != nil {
			var perr *os.PathError
			if errors.As(err, &perr) {
				err = perr.Err
			}
			return nil, fmt.Errorf("error gathering device information while adding custom device %q: %w", d.PathOnHost, err)
		}
		if fi.Mode()&os.ModeDevice == 0 {
			return nil, fmt.Errorf("error gathering device information while adding custom device %q: not a device node", d.PathOnHost)
		}
		dst := d.PathInContainer
		if dst == "" {
			dst = d.PathOnHost
		}
		if err := checkTarget(dst); err != nil {
			return nil, err
		}
		out = append(out, sandbox.Device{Source: d.PathOnHost, Destination: path.Clean(dst), ReadOnly: d.CgroupPermissions != "" && !strings.Contains(d.CgroupPermissions, "w")})
	}
	return out, nil
}
