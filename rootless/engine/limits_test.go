package engine

import (
	"slices"
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
)

func TestDiscardLimits(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	yes := true
	tests := []struct {
		name string
		r    container.Resources
		want []string
		err  string
	}{
		{"none", container.Resources{MemorySwappiness: i64(-1)}, nil, ""},
		{"memory", container.Resources{Memory: 64 << 20},
			[]string{"Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."}, ""},
		{"memory and swap", container.Resources{Memory: 64 << 20, MemorySwap: 128 << 20},
			[]string{"Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."}, ""},
		{"reservation", container.Resources{MemoryReservation: 32 << 20},
			[]string{"Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded."}, ""},
		{"swappiness", container.Resources{MemorySwappiness: i64(10)},
			[]string{"Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded."}, ""},
		{"shares", container.Resources{CPUShares: 512},
			[]string{"Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded."}, ""},
		{"cfs", container.Resources{CPUPeriod: 100000, CPUQuota: 50000},
			[]string{"Your kernel does not support CPU CFS scheduler. CPU period/quota discarded."}, ""},
		{"cpuset", container.Resources{CpusetCpus: "0", CpusetMems: "0"},
			[]string{"Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded."}, ""},
		{"pids", container.Resources{PidsLimit: i64(100)},
			[]string{"Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded."}, ""},
		{"pids unlimited", container.Resources{PidsLimit: i64(-1)}, nil, ""},
		{"oom", container.Resources{OomKillDisable: &yes},
			[]string{"Your kernel does not support OomKillDisable. OomKillDisable discarded."}, ""},
		{"blkio", container.Resources{BlkioWeight: 300, BlkioDeviceReadBps: []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}},
			BlkioDeviceWriteIOps: []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}},
			[]string{
				"Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
				"Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.",
				"Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.",
			}, ""},
		{"realtime", container.Resources{CPURealtimePeriod: 1000000, CPURealtimeRuntime: 950000},
			[]string{"Your kernel does not support CPU real-time scheduler or the cgroup is not mounted. CPU real-time period/runtime discarded."}, ""},
		{"tiny memory", container.Resources{Memory: 1 << 20}, nil, "Minimum memory limit allowed is 6MB"},
		{"swap without memory", container.Resources{MemorySwap: 1 << 30}, nil, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{"cpus", container.Resources{NanoCPUs: 1e9}, nil, "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted"},
		{"cpus and period", container.Resources{NanoCPUs: 1e9, CPUPeriod: 1000}, nil, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
	}
	for _, tt := range tests {
		hc := container.HostConfig{Resources: tt.r}
		got, err := discardLimits(&hc)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
		r := hc.Resources
		if r.Memory != 0 || r.MemoryReservation != 0 || r.CPUShares != 0 || r.CPUPeriod != 0 || r.CPUQuota != 0 ||
			r.CpusetCpus != "" || r.PidsLimit != nil || r.OomKillDisable != nil || r.BlkioWeight != 0 ||
			len(r.BlkioDeviceReadBps) != 0 || r.MemorySwappiness != nil || r.CPURealtimePeriod != 0 {
			t.Errorf("%s: a limit was kept: %+v", tt.name, r)
		}
		if tt.r.Memory > 0 && r.MemorySwap != -1 {
			t.Errorf("%s: MemorySwap %d, want -1 as Docker leaves it", tt.name, r.MemorySwap)
		}
	}
}

func TestCgroupLabel(t *testing.T) {
	for _, tt := range []struct {
		s    cgroupSetup
		want string
	}{
		{cgroupSetup{version: "1"}, "v1"},
		{cgroupSetup{version: "2"}, "v2"},
		{cgroupSetup{version: "2", delegated: []string{"cpu", "memory", "pids"}}, "v2 delegated=cpu,memory,pids"},
	} {
		if got := tt.s.label(); got != tt.want {
			t.Errorf("label %+v = %q, want %q", tt.s, got, tt.want)
		}
	}
	if w := (cgroupSetup{version: "1"}).infoWarnings(); len(w) != 2 || w[0] != "WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode." {
		t.Errorf("v1 warnings %q", w)
	}
}
