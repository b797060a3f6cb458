package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// InitMain is `warren __init`: it never returns. It builds the container's
// root inside the namespaces Create gave it, tells the engine it is ready,
// waits for Start and then becomes the user's command, as PID 1.
func InitMain() {
	childMain(runInit)
}

func runInit() error {
	var spec Spec
	if err := readRequest(&spec); err != nil {
		return err
	}
	if spec.Init {
		// Only execve reads it; the init and the command must not hold it.
		unix.CloseOnExec(initFd)
	}
	caps, err := Capabilities(spec.CapAdd, spec.CapDrop, spec.Privileged)
	if err != nil {
		return err
	}
	if spec.NetNS != "" && spec.NetNS != "host" {
		// Only this (locked) thread moves, and it is the one that execs.
		if err := setnsPath(spec.NetNS); err != nil {
			return fmt.Errorf("join network namespace: %w", err)
		}
	}
	if spec.IpcNS != "" {
		if err := setnsPath(spec.IpcNS); err != nil {
			return fmt.Errorf("join ipc namespace: %w", err)
		}
	}
	master, err := buildRoot(&spec)
	if err != nil {
		return err
	}
	consoleFd := -1
	if master != nil {
		consoleFd = int(master.Fd())
	}
	if err := childSend(syncMsg{Type: msgReady}, consoleFd); err != nil {
		return fmt.Errorf("report ready: %w", err)
	}
	if master != nil {
		master.Close()
	}
	m, err := childRecv()
	if err != nil {
		return err
	}
	if m.Type != msgGo {
		return fmt.Errorf("unexpected message %q from engine", m.Type)
	}
	if err := setRlimits(spec.Rlimits); err != nil {
		return err
	}
	if err := setOomScoreAdj(spec.OomScoreAdj); err != nil {
		return err
	}
	return execProcess(process{Args: spec.Args, Env: spec.Env, User: spec.User, Caps: caps, NoNewPrivs: true,
		Seccomp: spec.Seccomp, Init: spec.Init, GroupAdd: spec.GroupAdd})
}

// buildRoot mounts the container's root and everything in it, pivots into
// it and returns the pty master when the container has a tty. Nothing needs
// undoing on failure: the mounts live in this process's mount namespace,
// which dies with it.
func buildRoot(spec *Spec) (*os.File, error) {
	root := spec.Rootfs
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make / private: %w", err)
	}
	if err := mountOverlay(spec.Lowers, spec.Upper, spec.Work, root); err != nil {
		return nil, err
	}
	if err := mountProc(root); err != nil {
		return nil, err
	}
	if err := writeSysctls(root, spec.Sysctls); err != nil {
		return nil, err
	}
	if err := mountDev(root, spec.ShmSize); err != nil {
		return nil, err
	}
	if err := mountSys(root, spec.Privileged); err != nil {
		return nil, err
	}
	if err := maskPaths(root, pathsOr(spec.MaskedPaths, maskedPaths, spec.Privileged),
		pathsOr(spec.ReadonlyPaths, readonlyPaths, spec.Privileged)); err != nil {
		return nil, err
	}
	if err := bindEtcFiles(root, spec); err != nil {
		return nil, err
	}
	if err := bindUserMounts(root, spec.Mounts); err != nil {
		return nil, err
	}
	if err := bindDevices(root, spec.Devices); err != nil {
		return nil, err
	}
	var master *os.File
	if spec.Tty {
		var err error
		if master, err = setupConsole(root); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*os.File, error) {
		if master != nil {
			master.Close()
		}
		return nil, err
	}
	if err := pivotRoot(root); err != nil {
		return fail(err)
	}
	if err := setupInside(spec); err != nil {
		return fail(err)
	}
	return master, nil
}

// setupInside does what is left once / is the container's root.
func setupInside(spec *Spec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	if spec.NetNS == "" {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	cwd := spec.Cwd
	if cwd == "" {
		cwd = "/"
	}
	// Docker creates a missing WorkingDir.
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return fmt.Errorf("create working directory %s: %w", cwd, err)
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	if spec.ReadonlyRootfs {
		if err := remountReadonly("/"); err != nil {
			return err
		}
	}
	return nil
}

// overlayData is the overlay mount's option string. The kernel takes one
// page of options, so when absolute paths do not fit they are made relative
// to their common parent and the mount runs from there (Docker's overlay2
// does the same with short link names).
func overlayData(lowers []string, upper, work string) (data, dir string) {
	abs := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", strings.Join(lowers, ":"), upper, work)
	if len(abs) < os.Getpagesize()-1 {
		return abs, ""
	}
	dir = commonDir(append([]string{upper, work}, lowers...))
	rel := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, dir), "/") }
	short := make([]string, len(lowers))
	for i, l := range lowers {
		short[i] = rel(l)
	}
	return fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", strings.Join(short, ":"), rel(upper), rel(work)), dir
}

func commonDir(paths []string) string {
	dir := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for dir != "/" && !strings.HasPrefix(p, dir+"/") {
			dir = filepath.Dir(dir)
		}
	}
	return dir
}

func mountOverlay(lowers []string, upper, work, root string) error {
	if len(lowers) == 0 {
		return errors.New("mount root: image has no layers")
	}
	data, dir := overlayData(lowers, upper, work)
	if dir != "" {
		if err := unix.Chdir(dir); err != nil {
			return fmt.Errorf("mount root: chdir %s: %w", dir, err)
		}
	}
	if err := unix.Mount("overlay", root, "overlay", 0, data); err != nil {
		return fmt.Errorf("mount overlay root on %s: %w", root, err)
	}
	return nil
}

func mountProc(root string) error {
	dst := filepath.Join(root, "proc")
	if err := os.MkdirAll(dst, 0o555); err != nil {
		return fmt.Errorf("create /proc: %w", err)
	}
	if err := unix.Mount("proc", dst, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// devNodes are bind-mounted from the host: a user namespace cannot mknod
// devices.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// devLinks are runc's default /dev symlinks.
var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
	{"pts/ptmx", "ptmx"},
	{"/proc/kcore", "core"},
}

// mountDev builds Docker's minimal /dev: a tmpfs with the host's harmless
// nodes, a private devpts, shm, mqueue and the usual symlinks.
func mountDev(root string, shmSize int64) error {
	dev := filepath.Join(root, "dev")
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return fmt.Errorf("create /dev: %w", err)
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, n := range devNodes {
		if err := bindFile("/dev/"+n, filepath.Join(dev, n)); err != nil {
			return err
		}
	}
	if err := mountPts(filepath.Join(dev, "pts")); err != nil {
		return err
	}
	if shmSize <= 0 {
		shmSize = defaultShmSize
	}
	shm := filepath.Join(dev, "shm")
	if err := mountDir("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, fmt.Sprintf("mode=1777,size=%d", shmSize)); err != nil {
		return err
	}
	// mqueue needs the ipc namespace we own; without it the folder goes.
	mq := filepath.Join(dev, "mqueue")
	if err := mountDir("mqueue", mq, "mqueue", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		os.Remove(mq)
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return fmt.Errorf("create /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// defaultShmSize is Docker's /dev/shm size.
const defaultShmSize = 64 << 20

// mountPts mounts a new devpts instance; gid=5 (tty) needs that group
// mapped, so a narrower user namespace falls back to no gid.
func mountPts(dst string) error {
	const flags = unix.MS_NOSUID | unix.MS_NOEXEC
	err := mountDir("devpts", dst, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620,gid=5")
	if err != nil {
		err = mountDir("devpts", dst, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620")
	}
	return err
}

func mountDir(src, dst, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, dst, err)
	}
	return nil
}

// bindFile bind-mounts the file src onto dst, creating dst.
func bindFile(src, dst string) error {
	if err := createMountPoint(dst, false); err != nil {
		return err
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, dst, err)
	}
	return nil
}

func createMountPoint(dst string, dir bool) error {
	if dir {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", dst, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", dst, err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create mount point %s: %w", dst, err)
	}
	return f.Close()
}

// mountSys mounts a read-only sysfs, which needs the network namespace to
// be ours; otherwise (--net host or a joined namespace) the host's /sys is
// bound read-only instead.
// --privileged gets it writable, as in Docker.
func mountSys(root string, writable bool) error {
	dst := filepath.Join(root, "sys")
	if err := os.MkdirAll(dst, 0o555); err != nil {
		return fmt.Errorf("create /sys: %w", err)
	}
	flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if writable {
		flags &^= unix.MS_RDONLY
	}
	if err := unix.Mount("sysfs", dst, "sysfs", flags, ""); err == nil {
		return nil
	}
	if err := unix.Mount("/sys", dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind /sys: %w", err)
	}
	if writable {
		return nil
	}
	return remountReadonly(dst)
}

// Docker's default masked and read-only paths (moby oci/defaults.go), which
// hide kernel state a container has no business reading or changing.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// pathsOr is a container's own list (HostConfig.MaskedPaths or
// ReadonlyPaths; empty from systempaths=unconfined), else Docker's default,
// which --privileged empties.
func pathsOr(own, def []string, privileged bool) []string {
	switch {
	case own != nil:
		return own
	case privileged:
		return nil
	}
	return def
}

// maskPaths covers files with /dev/null and folders with an empty
// read-only tmpfs, and makes the read-only paths so; paths this kernel
// lacks are skipped.
func maskPaths(root string, masked, readonly []string) error {
	for _, p := range masked {
		dst := filepath.Join(root, p)
		fi, err := os.Stat(dst)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", dst, "tmpfs", unix.MS_RDONLY, "size=0")
		} else {
			err = unix.Mount("/dev/null", dst, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	for _, p := range readonly {
		dst := filepath.Join(root, p)
		if _, err := os.Stat(dst); err != nil {
			continue
		}
		if err := unix.Mount(dst, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", p, err)
		}
		if err := remountReadonly(dst); err != nil {
			return err
		}
	}
	return nil
}

// remountReadonly makes the mount at path read-only. Flags a user
// namespace cannot clear (nosuid, nodev, noexec, atime) are kept, or the
// kernel refuses the remount.
func remountReadonly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	const locked = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME
	flags := uintptr(st.Flags)&locked | unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", path, err)
	}
	return nil
}

// bindEtcFiles mounts the engine's hosts, hostname and resolv.conf files,
// which the linker rewrites in place.
func bindEtcFiles(root string, spec *Spec) error {
	for _, f := range []struct{ src, dst string }{
		{spec.ResolvConfPath, "/etc/resolv.conf"},
		{spec.HostnamePath, "/etc/hostname"},
		{spec.HostsPath, "/etc/hosts"},
	} {
		if f.src == "" {
			continue
		}
		dst, err := securePath(root, f.dst)
		if err != nil {
			return err
		}
		if err := bindFile(f.src, dst); err != nil {
			return err
		}
	}
	return nil
}

// bindUserMounts mounts -v binds and tmpfs mounts, shallowest destination first (as moby
// sorts them) so a bind inside another bind lands on top.
func bindUserMounts(root string, mounts []Mount) error {
	sorted := append([]Mount(nil), mounts...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return depth(sorted[i].Destination) < depth(sorted[j].Destination)
	})
	for _, m := range sorted {
		if err := bindMount(root, m); err != nil {
			return fmt.Errorf("error mounting %q to rootfs at %q: %w", m.Source, m.Destination, err)
		}
	}
	return nil
}

func depth(p string) int {
	return strings.Count(filepath.Clean("/"+p), "/")
}

func bindMount(root string, m Mount) error {
	if m.Type == "tmpfs" {
		return mountTmpfs(root, m)
	}
	fi, err := os.Stat(m.Source)
	if err != nil {
		return err
	}
	dst, err := securePath(root, m.Destination)
	if err != nil {
		return err
	}
	if err := createMountPoint(dst, fi.IsDir()); err != nil {
		return err
	}
	if err := unix.Mount(m.Source, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if m.ReadOnly {
		return remountReadonly(dst)
	}
	return nil
}

func mountTmpfs(root string, m Mount) error {
	flags, data, err := TmpfsOptions(m.Options)
	if err != nil {
		return err
	}
	if m.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	dst, err := securePath(root, m.Destination)
	if err != nil {
		return err
	}
	if err := createMountPoint(dst, true); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dst, "tmpfs", flags, data); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	return nil
}

// setRlimits applies --ulimit. Raising a hard limit needs privileges over
// the host, which no user namespace gives; say so plainly.
func setRlimits(limits []Rlimit) error {
	for _, r := range limits {
		res, ok := rlimitTypes[r.Name]
		if !ok {
			return fmt.Errorf("invalid ulimit type: %s", r.Name)
		}
		// syscall's Setrlimit, not unix's: it also stops exec restoring
		// the nofile limit Go had at start.
		err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard})
		if err == nil {
			continue
		}
		var cur syscall.Rlimit
		if errors.Is(err, unix.EPERM) && syscall.Getrlimit(res, &cur) == nil && r.Hard > cur.Max {
			return fmt.Errorf("error setting rlimit %s: hard limit %d is above the engine user's hard limit %d", r.Name, r.Hard, cur.Max)
		}
		return fmt.Errorf("error setting rlimit %s: %w", r.Name, err)
	}
	return nil
}

// bindDevices binds --device nodes: a user namespace cannot mknod, and a
// bind keeps the host's permissions on the node, which the engine's user
// could open anyway.
func bindDevices(root string, devices []Device) error {
	for _, d := range devices {
		dst, err := securePath(root, d.Destination)
		if err != nil {
			return err
		}
		if err := bindFile(d.Source, dst); err != nil {
			return fmt.Errorf("error gathering device information while adding custom device %q: %w", d.Source, err)
		}
		if d.ReadOnly {
			if err := remountReadonly(dst); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeSysctls sets --sysctl values through the container's new /proc,
// which shows this thread's network, ipc and uts namespaces.
func writeSysctls(root string, sysctls map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(sysctls)) {
		if err := CheckSysctl(key, false); err != nil {
			return err
		}
		p := filepath.Join(root, "proc", "sys", strings.ReplaceAll(key, ".", "/"))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
		if err == nil {
			_, err = f.WriteString(sysctls[key])
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("sysctl %q is not in a separate kernel namespace", key)
		case err != nil:
			return fmt.Errorf("write sysctl key %s: %w", key, err)
		}
	}
	return nil
}

// setOomScoreAdj applies --oom-score-adj; the kernel lets anyone raise
// it and only the host's root lower it.
func setOomScoreAdj(v int) error {
	if v == 0 {
		return nil
	}
	cur, _ := os.ReadFile("/proc/self/oom_score_adj")
	err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(v)), 0)
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("oom_score_adj %d is below the engine's %s: only raising it is allowed without root on the host", v, strings.TrimSpace(string(cur)))
	}
	if err != nil {
		return fmt.Errorf("set oom_score_adj: %w", err)
	}
	return nil
}

// setupConsole opens the container's tty in its own devpts and binds it on
// /dev/console, as runc does; the slave becomes stdio right away, the
// master goes to the engine.
func setupConsole(root string) (*os.File, error) {
	dev := filepath.Join(root, "dev")
	master, slave, slavePath, err := openPty(filepath.Join(dev, "pts"))
	if err != nil {
		return nil, err
	}
	if err := bindFile(slavePath, filepath.Join(dev, "console")); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	if err := useConsole(slave); err != nil {
		master.Close()
		return nil, err
	}
	return master, nil
}

// pivotRoot makes root the new / and detaches the old one, with runc's
// pivot_root(".", ".") trick that needs no put_old folder.
func pivotRoot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// loopbackUp brings lo up in the container's new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}
