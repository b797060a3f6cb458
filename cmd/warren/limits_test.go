package main

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/system"

	"warren/rootless/engine"
)

func TestLimitFlags(t *testing.T) {
	f := parseRun(t, "-m", "64m", "--memory-swap", "-1", "--cpus", "1.5", "-c", "512", "--pids-limit", "100",
		"--cpuset-cpus", "0-1", "--blkio-weight", "300", "--device-read-bps", "/dev/sda:1mb", "--oom-kill-disable",
		"--log-driver", "json-file", "--log-opt", "max-size=1k", "--log-opt", "max-file=3", "busybox")
	opts, err := buildCreate(f, true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	hc := opts.HostConfig
	r := hc.Resources
	if r.Memory != 64<<20 || r.MemorySwap != -1 || r.NanoCPUs != 1.5e9 || r.CPUShares != 512 ||
		r.PidsLimit == nil || *r.PidsLimit != 100 || r.CpusetCpus != "0-1" || r.BlkioWeight != 300 ||
		len(r.BlkioDeviceReadBps) != 1 || r.BlkioDeviceReadBps[0].Rate != 1<<20 || r.OomKillDisable == nil || !*r.OomKillDisable {
		t.Errorf("resources %+v", r)
	}
	if hc.LogConfig.Type != "json-file" || hc.LogConfig.Config["max-size"] != "1k" || hc.LogConfig.Config["max-file"] != "3" {
		t.Errorf("log config %+v", hc.LogConfig)
	}
	if r.MemorySwappiness == nil || *r.MemorySwappiness != -1 {
		t.Errorf("swappiness %v, want -1 (unset) as docker sends", r.MemorySwappiness)
	}
}

func TestLimitFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-m", "lots"}, `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`},
		{[]string{"--cpus", "one"}, `invalid argument "one" for "--cpus" flag: failed to parse one as a rational number`},
		{[]string{"--cpus", "0.0000000001"}, `invalid argument "0.0000000001" for "--cpus" flag: value is too precise`},
		{[]string{"--pids-limit", "x"}, `invalid argument "x" for "--pids-limit" flag: invalid syntax`},
		{[]string{"--device-read-bps", "sda:1"}, `invalid argument "sda:1" for "--device-read-bps" flag: bad format for device path: sda:1`},
		{[]string{"--device-write-iops", "/dev/sda:x"}, `invalid argument "/dev/sda:x" for "--device-write-iops" flag: invalid rate for device: /dev/sda:x. The correct format is <device-path>:<number>. Number must be a positive integer`},
		{[]string{"--log-driver", "none", "--log-opt", "max-size=1k"}, "invalid logging opts for driver none"},
	}
	for _, tt := range tests {
		f := parseRun(t, append(tt.args, "busybox")...)
		_, err := buildCreate(f, true, noEnv)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestResourceLimitsLine(t *testing.T) {
	tests := []struct {
		info system.Info
		want string
	}{
		{system.Info{MemoryLimit: true, PidsLimit: true}, "memory, pids"},
		{system.Info{Labels: []string{engine.CgroupLabel + "=v1"}}, "none (cgroup v1, which gives"},
		{system.Info{Labels: []string{engine.CgroupLabel + "=v2"}}, "none (cgroup v2, but no controllers are delegated"},
		{system.Info{Labels: []string{engine.CgroupLabel + "=v2 delegated=cpu,memory"}}, "none (cgroup v2 with cpu,memory delegated, which warren does not use yet)"},
	}
	for _, tt := range tests {
		if got := resourceLimitsLine(tt.info); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%v: %q, want it to start %q", tt.info.Labels, got, tt.want)
		}
	}
}
