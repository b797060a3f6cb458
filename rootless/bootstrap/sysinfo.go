package bootstrap

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kernelVersion is the major.minor of a kernel release.
type kernelVersion struct{ Major, Minor int }

// parseKernelRelease reads "6.1.0-18-amd64" or "5.15.0-91-generic" as 6.1
// or 5.15; everything after the second number is the distribution's.
func parseKernelRelease(release string) (kernelVersion, error) {
	major, rest, ok := strings.Cut(release, ".")
	if !ok {
		return kernelVersion{}, fmt.Errorf("kernel release %q: want MAJOR.MINOR", release)
	}
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return kernelVersion{}, fmt.Errorf("kernel release %q: want MAJOR.MINOR", release)
	}
	return kernelVersion{ma, mi}, nil
}

// AtLeast tells whether v is major.minor or newer.
func (v kernelVersion) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

func (v kernelVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// parseSysctlInt reads the integer a /proc/sys file holds.
func parseSysctlInt(content string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(content))
	if err != nil {
		return 0, fmt.Errorf("sysctl value %q: not an integer", strings.TrimSpace(content))
	}
	return n, nil
}

// sysctl reads /proc/sys/<dotted name>. present is false when the kernel
// has no such knob (it is then at its permissive default).
func sysctl(name string) (value int, present bool, err error) {
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := parseSysctlInt(string(b))
	if err != nil {
		return 0, true, fmt.Errorf("%s: %w", name, err)
	}
	return v, true, nil
}
