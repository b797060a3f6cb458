package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// parseMountFlag is docker's --mount parser (cli/opts/mount.go) for the
// keys of bind and tmpfs mounts; other types reach the daemon, which
// refuses them.
func parseMountFlag(value string) (mount.Mount, error) {
	var m mount.Mount
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return m, err
	}
	bind := func() *mount.BindOptions {
		if m.BindOptions == nil {
			m.BindOptions = &mount.BindOptions{}
		}
		return m.BindOptions
	}
	tmpfs := func() *mount.TmpfsOptions {
		if m.TmpfsOptions == nil {
			m.TmpfsOptions = &mount.TmpfsOptions{}
		}
		return m.TmpfsOptions
	}
	for _, field := range fields {
		key, val, ok := strings.Cut(field, "=")
		key = strings.ToLower(key)
		if !ok {
			switch key {
			case "readonly", "ro":
				m.ReadOnly = true
				continue
			}
			return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
		}
		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
			if strings.HasPrefix(val, "."+string(os.PathSeparator)) || val == "." {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = strconv.ParseBool(val); err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
		case "consistency":
			m.Consistency = mount.Consistency(strings.ToLower(val))
		case "bind-propagation":
			bind().Propagation = mount.Propagation(strings.ToLower(val))
		case "tmpfs-size":
			size, err := units.RAMInBytes(val)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfs().SizeBytes = size
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfs().Mode = os.FileMode(mode)
		default:
			return m, fmt.Errorf("unexpected key '%s' in '%s'", key, field)
		}
	}
	switch {
	case m.Type == "":
		return m, errors.New("type is required")
	case m.Target == "":
		return m, errors.New("target is required")
	case m.BindOptions != nil && m.Type != mount.TypeBind:
		return m, fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	case m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs:
		return m, fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	return m, nil
}

func parseMountFlags(vals []string) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, v := range vals {
		m, err := parseMountFlag(v)
		if err != nil {
			return nil, flagError(v, "--mount", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// parseUlimits is --ulimit NAME=SOFT[:HARD], as docker's CLI checks it.
func parseUlimits(vals []string) ([]*container.Ulimit, error) {
	var out []*container.Ulimit
	for _, v := range vals {
		u, err := units.ParseUlimit(v)
		if err != nil {
			return nil, flagError(v, "--ulimit", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// parseShmSize is --shm-size; "" is the daemon's default.
func parseShmSize(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(v)
	if err != nil {
		return 0, flagError(v, "--shm-size", err)
	}
	return n, nil
}

// parseSysctls is docker's --sysctl map, with its ValidateSysctl: KEY=VALUE
// for the ipc namespace's kernel.* keys, fs.mqueue.* and net.*.
func parseSysctls(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || !clientSysctl(k) {
			return nil, flagError(v, "--sysctl", fmt.Errorf("sysctl '%s' is not allowed", v))
		}
		m[k] = val
	}
	return m, nil
}

func clientSysctl(key string) bool {
	switch key {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return true
	}
	return strings.HasPrefix(key, "net.") || strings.HasPrefix(key, "fs.mqueue.")
}

// parseDevices is docker's --device HOST[:CONTAINER][:PERMISSIONS]
// (cli/command/container/opts.go parseDevice and validateDevice).
func parseDevices(vals []string) ([]container.DeviceMapping, error) {
	var out []container.DeviceMapping
	for _, v := range vals {
		d, err := parseDevice(v)
		if err != nil {
			return nil, flagError(v, "--device", err)
		}
		out = append(out, d)
	}
	return out, nil
}

func parseDevice(v string) (container.DeviceMapping, error) {
	src, dst, perms := "", "", "rwm"
	arr := strings.Split(v, ":")
	switch len(arr) {
	case 3:
		if !validDeviceMode(arr[2]) {
			return container.DeviceMapping{}, fmt.Errorf("invalid device mode: %s", arr[2])
		}
		src, dst, perms = arr[0], arr[1], arr[2]
	case 2:
		if validDeviceMode(arr[1]) {
			src, perms = arr[0], arr[1]
		} else {
			src, dst = arr[0], arr[1]
		}
	case 1:
		src = arr[0]
	default:
		return container.DeviceMapping{}, fmt.Errorf("invalid device specification: %s", v)
	}
	if dst == "" {
		dst = src
	}
	if !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
		return container.DeviceMapping{}, fmt.Errorf("bad format for path: %s", v)
	}
	return container.DeviceMapping{PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms}, nil
}

// validDeviceMode is docker's: r, w and m, each at most once.
func validDeviceMode(mode string) bool {
	if mode == "" {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range mode {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}
