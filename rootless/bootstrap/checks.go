package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// Check is one prerequisite of the daemon as `warren info` reports it: what
// was found (Detail) and, when it is missing, the command that fixes it.
type Check struct {
	Name   string
	OK     bool
	Detail string
	Fix    string
}

// Checks looks at every prerequisite of a rootless daemon on this machine.
// It changes nothing and needs no daemon.
func Checks() []Check {
	var cs []Check
	cs = append(cs, checkSubIDs()...)
	for _, b := range []struct{ name, pkg string }{{"newuidmap", "uidmap"}, {"newgidmap", "uidmap"}} {
		cs = append(cs, checkIDMapper(b.name, b.pkg))
	}
	cs = append(cs,
		checkBinary("ip", "iproute2"),
		checkBinary("nsenter", "util-linux"),
		checkTun(),
		checkUserNS(),
	)
	cs = append(cs, checkKernel()...)
	cs = append(cs, checkUnprivilegedPorts())
	return cs
}

func currentUser() (name string, uid int) {
	uid = os.Getuid()
	name = strconv.Itoa(uid)
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return name, uid
}

func checkSubIDs() []Check {
	name, uid := currentUser()
	uids, gids, err := readSubIDs()
	if err != nil {
		return []Check{{Name: "subordinate ids", Detail: err.Error()}}
	}
	fix := "sudo " + subIDFix(name, uids, gids)
	var cs []Check
	for i, k := range []struct {
		kind   string
		ranges []idRange
	}{{"uids", uids}, {"gids", gids}} {
		c := Check{Name: "subordinate " + k.kind}
		if n := countFor(k.ranges, name, uid); n > 0 {
			c.OK, c.Detail = true, fmt.Sprintf("%d for user %q in %s", n, name, subIDFiles[i])
		} else {
			c.Detail, c.Fix = fmt.Sprintf("none for user %q in %s", name, subIDFiles[i]), fix
		}
		if c.OK && countFor(k.ranges, name, uid) < 65536 {
			c.Detail += " (images with ids up to 65535 need 65536)"
		}
		cs = append(cs, c)
	}
	return cs
}

// checkIDMapper checks that newuidmap/newgidmap exist and can write another
// process's id map: setuid root or with CAP_SETUID/CAP_SETGID file caps.
func checkIDMapper(name, pkg string) Check {
	c := checkBinary(name, pkg)
	if !c.OK {
		return c
	}
	path := c.Detail
	st, err := os.Stat(path)
	if err != nil {
		return Check{Name: name, Detail: err.Error(), Fix: installFix(pkg)}
	}
	setuid := st.Mode()&os.ModeSetuid != 0
	_, capErr := unix.Getxattr(path, "security.capability", nil)
	switch {
	case setuid:
		c.Detail = path + " (setuid)"
	case capErr == nil:
		c.Detail = path + " (file capabilities)"
	default:
		c.OK = false
		c.Detail = path + " is neither setuid nor has file capabilities"
		c.Fix = fmt.Sprintf("sudo chmod u+s %s (or reinstall the %s package)", path, pkg)
	}
	return c
}

func installFix(pkg string) string {
	return "install the " + pkg + " package (sudo apt-get install " + pkg + ")"
}

func checkBinary(name, pkg string) Check {
	path, err := exec.LookPath(name)
	if err != nil {
		return Check{Name: name, Detail: "not found in $PATH", Fix: installFix(pkg)}
	}
	return Check{Name: name, OK: true, Detail: path}
}

const tunFix = "sudo modprobe tun && sudo chmod 0666 /dev/net/tun"

func checkTun() Check {
	c := Check{Name: "/dev/net/tun"}
	if err := openTun(); err != nil {
		c.Detail, c.Fix = err.Error(), tunFix
		return c
	}
	c.OK, c.Detail = true, "readable and writable"
	return c
}

func openTun() error {
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("cannot open /dev/net/tun: %w", errors.Unwrap(err))
	}
	return f.Close()
}

// checkUserNS checks the three knobs distributions use to forbid
// unprivileged user namespaces.
func checkUserNS() Check {
	c := Check{Name: "unprivileged user namespaces"}
	if v, ok, err := sysctl("kernel.unprivileged_userns_clone"); err == nil && ok && v != 1 {
		c.Detail = "kernel.unprivileged_userns_clone = " + strconv.Itoa(v)
		c.Fix = "sudo sysctl kernel.unprivileged_userns_clone=1"
		return c
	}
	if v, ok, err := sysctl("user.max_user_namespaces"); err == nil && ok && v <= 0 {
		c.Detail = "user.max_user_namespaces = " + strconv.Itoa(v)
		c.Fix = "sudo sysctl user.max_user_namespaces=28633"
		return c
	}
	if v, _, err := sysctl("kernel.apparmor_restrict_unprivileged_userns"); err == nil && v == 1 {
		exe, _ := os.Executable()
		c.Detail = "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)"
		c.Fix = "allow warren with an AppArmor profile: write\n" + appArmorProfile(exe) +
			"to /etc/apparmor.d/warren, then run: sudo apparmor_parser -r /etc/apparmor.d/warren"
		return c
	}
	c.OK, c.Detail = true, "allowed"
	return c
}

// appArmorProfile is the profile Ubuntu 24.04 needs to let one binary create
// user namespaces, as rootless Docker ships for rootlesskit.
func appArmorProfile(exe string) string {
	return fmt.Sprintf(`abi <abi/4.0>,
include <tunables/global>

profile warren %s flags=(unconfined) {
  userns,

  include if exists <local/warren>
}
`, exe)
}

func checkKernel() []Check {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return []Check{{Name: "kernel", Detail: err.Error()}}
	}
	release := unix.ByteSliceToString(uts.Release[:])
	kernel := Check{Name: "kernel", OK: true, Detail: release}
	overlay := Check{Name: "overlayfs in a user namespace"}
	v, err := parseKernelRelease(release)
	switch {
	case err != nil:
		overlay.Detail = err.Error()
	case v.AtLeast(5, 11):
		overlay.OK, overlay.Detail = true, "kernel "+v.String()+" ≥ 5.11"
	default:
		overlay.Detail = "kernel " + v.String() + " < 5.11 cannot mount overlayfs without root"
		overlay.Fix = "upgrade the kernel to 5.11 or newer"
	}
	return []Check{kernel, overlay}
}

// checkUnprivilegedPorts is informative: ports below the limit simply
// cannot be published by an unprivileged daemon.
func checkUnprivilegedPorts() Check {
	c := Check{Name: "unprivileged ports", OK: true}
	v, ok, err := sysctl("net.ipv4.ip_unprivileged_port_start")
	switch {
	case err != nil:
		c.Detail = err.Error()
	case !ok || v == 0:
		c.Detail = "every port can be published"
	default:
		c.Detail = fmt.Sprintf("ports below %d cannot be published", v)
		c.Fix = "sudo sysctl net.ipv4.ip_unprivileged_port_start=0"
	}
	return c
}
