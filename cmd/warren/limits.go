package main

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/urfave/cli/v2"

	"warren/rootless/engine"
)

// limitFlags are run/create's logging and resource options as given; the
// daemon decides what it can apply and warns about the rest.
type limitFlags struct {
	logDriver      string
	logOpts        []string
	values         map[string]string   // resource flag → value, the set ones only
	devices        map[string][]string // --device-{read,write}-{bps,iops}
	oomKillDisable *bool
}

// The resource flags taking one value, with docker's flag names.
var limitValueFlags = []struct{ name, alias, usage string }{
	{"memory", "m", "Memory limit"},
	{"memory-swap", "", `Swap limit equal to memory plus swap: '-1' to enable unlimited swap`},
	{"memory-reservation", "", "Memory soft limit"},
	{"memory-swappiness", "", "Tune container memory swappiness (0 to 100)"},
	{"cpus", "", "Number of CPUs"},
	{"cpu-shares", "c", "CPU shares (relative weight)"},
	{"cpu-period", "", "Limit CPU CFS (Completely Fair Scheduler) period"},
	{"cpu-quota", "", "Limit CPU CFS (Completely Fair Scheduler) quota"},
	{"cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)"},
	{"cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)"},
	{"pids-limit", "", "Tune container pids limit (set -1 for unlimited)"},
	{"blkio-weight", "", "Block IO (relative weight), between 10 and 1000, or 0 to disable"},
}

var limitDeviceFlags = []struct{ name, usage string }{
	{"device-read-bps", "Limit read rate (bytes per second) from a device"},
	{"device-write-bps", "Limit write rate (bytes per second) to a device"},
	{"device-read-iops", "Limit read rate (IO per second) from a device"},
	{"device-write-iops", "Limit write rate (IO per second) to a device"},
}

// limitFlagDefs are the flags run and create take for logging and limits.
func limitFlagDefs() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "log-driver", Usage: "Logging driver for the container (json-file, local, none)"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "Log driver options (max-size, max-file)"},
		&cli.BoolFlag{Name: "oom-kill-disable", Usage: "Disable OOM Killer"},
	}
	for _, f := range limitValueFlags {
		var aliases []string
		if f.alias != "" {
			aliases = []string{f.alias}
		}
		note := " (discarded with a warning without cgroups; see warren info)"
		if f.name == "cpus" {
			note = " (refused without cgroups, as Docker does; see warren info)"
		}
		flags = append(flags, &cli.StringFlag{Name: f.name, Aliases: aliases, Usage: f.usage + note})
	}
	for _, f := range limitDeviceFlags {
		flags = append(flags, &cli.StringSliceFlag{Name: f.name, Usage: f.usage + " (discarded with a warning without cgroups)"})
	}
	return flags
}

func readLimitFlags(c *cli.Context) limitFlags {
	f := limitFlags{logDriver: c.String("log-driver"), logOpts: c.StringSlice("log-opt"),
		values: map[string]string{}, devices: map[string][]string{}}
	for _, v := range limitValueFlags {
		if c.IsSet(v.name) {
			f.values[v.name] = c.String(v.name)
		}
	}
	for _, d := range limitDeviceFlags {
		if vs := c.StringSlice(d.name); len(vs) > 0 {
			f.devices[d.name] = vs
		}
	}
	if c.IsSet("oom-kill-disable") {
		v := c.Bool("oom-kill-disable")
		f.oomKillDisable = &v
	}
	return f
}

// flagName is docker's way of naming a flag in errors: "-m, --memory".
func flagName(name string) string {
	for _, v := range limitValueFlags {
		if v.name == name && v.alias != "" {
			return "-" + v.alias + ", --" + name
		}
	}
	return "--" + name
}

// applyLimits fills the host config from the flags, parsing each value as
// docker's CLI does (c:opts/opts.go) with its error texts.
func applyLimits(f limitFlags, hc *container.HostConfig) error {
	opts, err := parseLogOpts(f.logDriver, f.logOpts)
	if err != nil {
		return err
	}
	hc.LogConfig = container.LogConfig{Type: f.logDriver, Config: opts}
	r := &hc.Resources
	for name, v := range f.values {
		if err := setLimit(r, name, v); err != nil {
			return flagError(v, flagName(name), err)
		}
	}
	for name, vs := range f.devices {
		for _, v := range vs {
			if err := addDeviceLimit(r, name, v); err != nil {
				return flagError(v, "--"+name, err)
			}
		}
	}
	r.OomKillDisable = f.oomKillDisable
	return nil
}

// parseLogOpts is docker's parseLoggingOpts: KEY=VALUE pairs, none for
// the none driver.
func parseLogOpts(driver string, opts []string) (map[string]string, error) {
	m := map[string]string{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		m[k] = v
	}
	if driver == "none" && len(opts) > 0 {
		return map[string]string{}, fmt.Errorf("invalid logging opts for driver %s", driver)
	}
	return m, nil
}

func setLimit(r *container.Resources, name, v string) error {
	var err error
	switch name {
	case "memory":
		r.Memory, err = units.RAMInBytes(v)
	case "memory-swap":
		if v == "-1" {
			r.MemorySwap = -1
		} else {
			r.MemorySwap, err = units.RAMInBytes(v)
		}
	case "memory-reservation":
		r.MemoryReservation, err = units.RAMInBytes(v)
	case "memory-swappiness":
		var n int64
		if n, err = parseInt(v); err == nil {
			r.MemorySwappiness = &n
		}
	case "cpus":
		r.NanoCPUs, err = parseNanoCPUs(v)
	case "cpu-shares":
		r.CPUShares, err = parseInt(v)
	case "cpu-period":
		r.CPUPeriod, err = parseInt(v)
	case "cpu-quota":
		r.CPUQuota, err = parseInt(v)
	case "cpuset-cpus":
		r.CpusetCpus = v
	case "cpuset-mems":
		r.CpusetMems = v
	case "pids-limit":
		var n int64
		if n, err = parseInt(v); err == nil {
			r.PidsLimit = &n
		}
	case "blkio-weight":
		var n uint64
		if n, err = strconv.ParseUint(v, 0, 16); err != nil {
			err = numError(err)
		}
		r.BlkioWeight = uint16(n)
	}
	return err
}

func parseInt(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 0, 64)
	return n, numError(err)
}

// numError is pflag's wording of a bad number: the strconv cause only.
func numError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// parseNanoCPUs is docker's NanoCPUs.Set.
func parseNanoCPUs(v string) (int64, error) {
	cpu, ok := new(big.Rat).SetString(v)
	if !ok {
		return 0, fmt.Errorf("failed to parse %v as a rational number", v)
	}
	nano := cpu.Mul(cpu, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, errors.New("value is too precise")
	}
	return nano.Num().Int64(), nil
}

// addDeviceLimit is docker's ValidateThrottleBpsDevice and
// ValidateThrottleIOpsDevice: "/dev/x:rate".
func addDeviceLimit(r *container.Resources, name, v string) error {
	path, rate, ok := strings.Cut(v, ":")
	if !ok || strings.Contains(rate, ":") {
		return fmt.Errorf("bad format: %s", v)
	}
	if !strings.HasPrefix(path, "/dev/") {
		return fmt.Errorf("bad format for device path: %s", v)
	}
	var n uint64
	if strings.HasSuffix(name, "-bps") {
		b, err := units.RAMInBytes(rate)
		if err != nil || b < 0 {
			return fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb", v)
		}
		n = uint64(b)
	} else {
		var err error
		if n, err = strconv.ParseUint(rate, 10, 64); err != nil {
			return fmt.Errorf("invalid rate for device: %s. The correct format is <device-path>:<number>. Number must be a positive integer", v)
		}
	}
	d := &blkiodev.ThrottleDevice{Path: path, Rate: n}
	switch name {
	case "device-read-bps":
		r.BlkioDeviceReadBps = append(r.BlkioDeviceReadBps, d)
	case "device-write-bps":
		r.BlkioDeviceWriteBps = append(r.BlkioDeviceWriteBps, d)
	case "device-read-iops":
		r.BlkioDeviceReadIOps = append(r.BlkioDeviceReadIOps, d)
	case "device-write-iops":
		r.BlkioDeviceWriteIOps = append(r.BlkioDeviceWriteIOps, d)
	}
	return nil
}

// resourceLimitsLine says which limits containers get and, when none, why,
// from /info's fields and warren's cgroup label.
func resourceLimitsLine(info system.Info) string {
	var have []string
	for _, l := range []struct {
		ok   bool
		name string
	}{
		{info.MemoryLimit, "memory"}, {info.SwapLimit, "swap"}, {info.CPUShares, "cpu-shares"},
		{info.CPUCfsQuota, "cpus/cpu-quota"}, {info.CPUSet, "cpuset"}, {info.PidsLimit, "pids"},
		{info.OomKillDisable, "oom-kill-disable"},
	} {
		if l.ok {
			have = append(have, l.name)
		}
	}
	if len(have) > 0 {
		return strings.Join(have, ", ")
	}
	why := "no cgroups"
	for _, l := range info.Labels {
		v, ok := strings.CutPrefix(l, engine.CgroupLabel+"=")
		if !ok {
			continue
		}
		switch {
		case v == "v1":
			why = "cgroup v1, which gives an unprivileged user no cgroup of its own; limits need cgroup v2 with controllers delegated to the user"
		case v == "v2":
			why = "cgroup v2, but no controllers are delegated to the user's cgroup (systemd: Delegate=yes in user@.service)"
		default:
			why = "cgroup v2 with " + strings.TrimPrefix(v, "v2 delegated=") + " delegated, which warren does not use yet"
		}
	}
	return "none (" + why + "); --memory, --cpu-shares, --pids-limit and the other limits are discarded with a warning, --cpus is refused"
}
