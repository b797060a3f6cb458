package sandbox

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// capNames are the kernel's capabilities by number.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities is Docker's default set (moby oci/caps/defaults.go).
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// allCapabilities are the capabilities both named here and known to the
// running kernel.
func allCapabilities() []string {
	last := len(capNames) - 1
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < last {
			last = n
		}
	}
	return capNames[:last+1]
}

// normalizeCaps upper-cases names and adds the CAP_ prefix, as the daemon
// does; "ALL" is reported separately.
func normalizeCaps(list []string) (caps []string, all bool, err error) {
	for _, c := range list {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "ALL" {
			all = true
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if capNumber(c) < 0 {
			return nil, false, fmt.Errorf("unknown capability: %q", c)
		}
		caps = append(caps, c)
	}
	return caps, all, nil
}

// Capabilities computes a container's capability set from Docker's
// defaults and --cap-add/--cap-drop/--privileged, following moby's
// TweakCapabilities: add ALL keeps everything not dropped, drop ALL keeps
// only what is added. The engine may call it at create time to refuse
// unknown names early.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	if privileged {
		return allCapabilities(), nil
	}
	if len(add) == 0 && len(drop) == 0 {
		return DefaultCapabilities, nil
	}
	capDrop, dropAll, err := normalizeCaps(drop)
	if err != nil {
		return nil, fmt.Errorf("invalid CapDrop: %w", err)
	}
	capAdd, addAll, err := normalizeCaps(add)
	if err != nil {
		return nil, fmt.Errorf("invalid CapAdd: %w", err)
	}
	var caps []string
	switch {
	case addAll:
		for _, c := range allCapabilities() {
			if !contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
	case dropAll:
		caps = capAdd
	default:
		for _, c := range DefaultCapabilities {
			if !contains(capDrop, c) {
				caps = append(caps, c)
			}
		}
		for _, c := range capAdd {
			if !contains(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	return caps, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func capNumber(name string) int {
	for i, n := range capNames {
		if n == name {
			return i
		}
	}
	return -1
}

// capMask is caps as the two 32-bit words capset(2) takes.
func capMask(caps []string) [2]uint32 {
	var m [2]uint32
	for _, c := range caps {
		if n := capNumber(c); n >= 0 {
			m[n/32] |= 1 << (n % 32)
		}
	}
	return m
}

// dropBounding removes from the calling thread's bounding set every
// capability not in caps; it needs CAP_SETPCAP, so it runs before setuid.
func dropBounding(caps []string) error {
	keep := capMask(caps)
	for n := range allCapabilities() {
		if keep[n/32]&(1<<(n%32)) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil {
			return fmt.Errorf("drop bounding capability %s: %w", capNames[n], err)
		}
	}
	return nil
}

// setCaps sets the calling thread's effective and permitted sets to caps
// and clears the inheritable set, as Docker does since CVE-2022-24769 (an
// empty inheritable set stops file capabilities from granting more).
func setCaps(caps []string) error {
	m := capMask(caps)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: m[0], Permitted: m[0]},
		{Effective: m[1], Permitted: m[1]},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	// Ambient capabilities would survive exec for non-root users; Docker
	// grants none.
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	return nil
}
