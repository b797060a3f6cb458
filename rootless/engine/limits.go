package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"
)

// cgroupCaps says which resource limits containers can get. warren runs
// without cgroups (Docker's rootless "none" cgroup driver): every field is
// false, so limits are discarded with Docker's warnings. A delegated
// cgroup v2 subtree is detected and reported (Cgroup2Delegation) but not
// used yet.
type cgroupCaps struct {
	MemoryLimit, SwapLimit, MemoryReservation, MemorySwappiness, OomKillDisable bool
	PidsLimit, CPUShares, CPUCfs, CPURealtime, Cpuset                           bool
	BlkioWeight, BlkioWeightDevice                                              bool
	BlkioReadBps, BlkioWriteBps, BlkioReadIOps, BlkioWriteIOps                  bool
}

// discardLimits applies Docker's create-time defaults and checks to the
// container's resources on this machine: it returns the warnings for the
// limits dropped, or Docker's error (400) for a limit Docker refuses.
func discardLimits(hc *container.HostConfig) ([]string, error) {
	if hc.Memory > 0 && hc.MemorySwap == 0 {
		hc.MemorySwap = hc.Memory * 2 // Docker's default (adaptContainerSettings)
	}
	warnings, err := checkResources(&hc.Resources, cgroupCaps{})
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return warnings, nil
}

// linuxMinMemory is Docker's smallest memory limit (6 MB).
const linuxMinMemory = 6 * 1024 * 1024

// checkResources is Docker's verifyPlatformContainerResources: it refuses
// what Docker refuses and discards, with Docker's warning, every limit caps
// says the machine cannot enforce. Texts are moby's (daemon/daemon_unix.go).
func checkResources(r *container.Resources, caps cgroupCaps) (warnings []string, _ error) {
	if r.MemorySwappiness != nil && *r.MemorySwappiness == -1 {
		r.MemorySwappiness = nil // the CLI's "unset"
	}
	if r.Memory != 0 && r.Memory < linuxMinMemory {
		return warnings, errors.New("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && !caps.MemoryLimit {
		warnings = append(warnings, "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
		r.Memory = 0
		r.MemorySwap = -1
	}
	if r.Memory > 0 && r.MemorySwap != -1 && !caps.SwapLimit {
		warnings = append(warnings, "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
		r.MemorySwap = -1
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return warnings, errors.New("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 {
		return warnings, errors.New("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.MemorySwappiness != nil && !caps.MemorySwappiness {
		warnings = append(warnings, "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.")
		r.MemorySwappiness = nil
	}
	if r.MemorySwappiness != nil {
		if s := *r.MemorySwappiness; s < 0 || s > 100 {
			return warnings, fmt.Errorf("Invalid value: %v, valid memory swappiness range is 0-100", s)
		}
	}
	if r.MemoryReservation > 0 && !caps.MemoryReservation {
		warnings = append(warnings, "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.")
		r.MemoryReservation = 0
	}
	if r.MemoryReservation > 0 && r.MemoryReservation < linuxMinMemory {
		return warnings, errors.New("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return warnings, errors.New("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.OomKillDisable != nil && !caps.OomKillDisable {
		if *r.OomKillDisable {
			warnings = append(warnings, "Your kernel does not support OomKillDisable. OomKillDisable discarded.")
		}
		r.OomKillDisable = nil
	}
	if r.OomKillDisable != nil && *r.OomKillDisable && r.Memory == 0 {
		warnings = append(warnings, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
	}
	if r.PidsLimit != nil && !caps.PidsLimit {
		if *r.PidsLimit > 0 {
			warnings = append(warnings, "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.")
		}
		r.PidsLimit = nil
	}

	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return warnings, errors.New("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return warnings, errors.New("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if r.NanoCPUs > 0 && !caps.CPUCfs {
		return warnings, errors.New("NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted")
	}
	if r.NanoCPUs != 0 {
		nc := runtime.NumCPU()
		if r.NanoCPUs < 0 || r.NanoCPUs > int64(nc)*1e9 {
			return warnings, fmt.Errorf("range of CPUs is from 0.01 to %[1]d.00, as there are only %[1]d CPUs available", nc)
		}
	}
	if r.CPUShares > 0 && !caps.CPUShares {
		warnings = append(warnings, "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
		r.CPUShares = 0
	}
	if (r.CPUPeriod != 0 || r.CPUQuota != 0) && !caps.CPUCfs {
		warnings = append(warnings, "Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
		r.CPUPeriod = 0
		r.CPUQuota = 0
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return warnings, errors.New("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return warnings, errors.New("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.CPUPercent > 0 {
		warnings = append(warnings, runtime.GOOS+" does not support CPU percent. Percent discarded.")
		r.CPUPercent = 0
	}
	if (r.CpusetCpus != "" || r.CpusetMems != "") && !caps.Cpuset {
		warnings = append(warnings, "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
		r.CpusetCpus = ""
		r.CpusetMems = ""
	}
	if r.BlkioWeight > 0 && !caps.BlkioWeight {
		warnings = append(warnings, "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
		r.BlkioWeight = 0
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return warnings, errors.New("Range of blkio weight is from 10 to 1000")
	}
	if r.IOMaximumBandwidth != 0 || r.IOMaximumIOps != 0 {
		return warnings, fmt.Errorf("Invalid QoS settings: %s does not support Maximum IO Bandwidth or Maximum IO IOps", runtime.GOOS)
	}
	if len(r.BlkioWeightDevice) > 0 && !caps.BlkioWeightDevice {
		warnings = append(warnings, "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.")
		r.BlkioWeightDevice = []*blkiodev.WeightDevice{}
	}
	if len(r.BlkioDeviceReadBps) > 0 && !caps.BlkioReadBps {
		warnings = append(warnings, "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.")
		r.BlkioDeviceReadBps = []*blkiodev.ThrottleDevice{}
	}
	if len(r.BlkioDeviceWriteBps) > 0 && !caps.BlkioWriteBps {
		warnings = append(warnings, "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.")
		r.BlkioDeviceWriteBps = []*blkiodev.ThrottleDevice{}
	}
	if len(r.BlkioDeviceReadIOps) > 0 && !caps.BlkioReadIOps {
		warnings = append(warnings, "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.")
		r.BlkioDeviceReadIOps = []*blkiodev.ThrottleDevice{}
	}
	if len(r.BlkioDeviceWriteIOps) > 0 && !caps.BlkioWriteIOps {
		warnings = append(warnings, "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.")
		r.BlkioDeviceWriteIOps = []*blkiodev.ThrottleDevice{}
	}
	// moby checks these only when the runtime applies them; without cgroups
	// nothing would, so warren warns in the same words rather than drop them.
	if (r.CPURealtimePeriod != 0 || r.CPURealtimeRuntime != 0) && !caps.CPURealtime {
		warnings = append(warnings, "Your kernel does not support CPU real-time scheduler or the cgroup is not mounted. CPU real-time period/runtime discarded.")
		r.CPURealtimePeriod = 0
		r.CPURealtimeRuntime = 0
	}
	return warnings, nil
}

// CgroupLabel is the daemon label in GET /info that says what warren found
// of the user's cgroups (`warren info` explains it).
const CgroupLabel = "warren.cgroup"

// cgroupSetup is what the machine offers for limits: the cgroup version,
// and on v2 the controllers delegated to a subtree the user can write.
type cgroupSetup struct {
	version   string   // "1" or "2"
	path      string   // the user's cgroup on v2
	delegated []string // its controllers when writable
}

// detectCgroups looks at /sys/fs/cgroup and the process's own cgroup. A
// writable v2 group with controllers is what rootless limits need; warren
// reports it but does not use it yet.
func detectCgroups() cgroupSetup {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return cgroupSetup{version: "1"}
	}
	s := cgroupSetup{version: "2"}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return s
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			s.path = p
		}
	}
	dir := filepath.Join("/sys/fs/cgroup", s.path)
	if s.path == "" || unix.Access(dir, unix.W_OK) != nil {
		return s
	}
	if ctl, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers")); err == nil {
		s.delegated = strings.Fields(string(ctl))
	}
	return s
}

// label is the CgroupLabel value: "v1", "v2" or "v2 delegated=cpu,memory".
func (s cgroupSetup) label() string {
	v := "v" + s.version
	if len(s.delegated) > 0 {
		v += " delegated=" + strings.Join(s.delegated, ",")
	}
	return v
}

// infoWarnings are Docker's /info warnings for a rootless daemon without
// cgroups (daemon/info_unix.go).
func (s cgroupSetup) infoWarnings() []string {
	if s.version == "2" {
		return []string{"WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode."}
	}
	return []string{
		"WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.",
		"WARNING: Support for cgroup v1 is deprecated and planned to be removed by no later than May 2029 (https://github.com/moby/moby/issues/51111)",
	}
}
