package sandbox

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimit is one --ulimit: Name is Docker's ("nofile", "nproc", ...).
type Rlimit struct {
	Name       string
	Soft, Hard uint64
}

// rlimitTypes are the names Docker (and runc, as RLIMIT_<NAME>) accept.
var rlimitTypes = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU,
	"data": unix.RLIMIT_DATA, "fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS,
	"memlock": unix.RLIMIT_MEMLOCK, "msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE,
	"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS,
	"rtprio": unix.RLIMIT_RTPRIO, "rttime": unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// CheckRlimit is Docker's check of one ulimit (go-units ParseUlimit): a
// known name, and soft not above hard.
func CheckRlimit(r Rlimit) error {
	if _, ok := rlimitTypes[r.Name]; !ok {
		return fmt.Errorf("invalid ulimit type: %s", r.Name)
	}
	if r.Soft > r.Hard {
		return fmt.Errorf("ulimit soft limit must be less than or equal to hard limit: %d > %d", r.Soft, r.Hard)
	}
	return nil
}

// tmpfsFlags are the mount flags a tmpfs option string may carry; the
// rest (size, mode, uid, gid, nr_inodes, ...) is tmpfs's own data.
var tmpfsFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"noatime": {false, unix.MS_NOATIME}, "atime": {true, unix.MS_NOATIME},
	"nodiratime": {false, unix.MS_NODIRATIME}, "diratime": {true, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"dirsync": {false, unix.MS_DIRSYNC},
}

// propagation options Docker allows in --tmpfs; a private mount namespace
// makes them moot.
var tmpfsPropagation = map[string]bool{
	"private": true, "rprivate": true, "slave": true, "rslave": true, "shared": true, "rshared": true,
}

// tmpfsData are the tmpfs options moby passes on as data.
var tmpfsData = map[string]bool{
	"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "nr_blocks": true, "mpol": true,
}

// TmpfsOptions splits a tmpfs option string into mount flags and data,
// starting from Docker's defaults (noexec, nosuid, nodev); a later option
// wins over an earlier one, as in moby's MergeTmpfsOptions.
func TmpfsOptions(opts string) (flags uintptr, data string, err error) {
	flags = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	var kept []string
	seen := map[string]int{}
	for _, o := range strings.Split(opts, ",") {
		if o == "" || o == "defaults" || tmpfsPropagation[o] {
			continue
		}
		if f, ok := tmpfsFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		key, value, ok := strings.Cut(o, "=")
		if !ok || !tmpfsData[key] {
			// moby's text, which quotes the option split at "=".
			parts := []string{key}
			if ok {
				parts = append(parts, value)
			}
			return 0, "", fmt.Errorf("Invalid tmpfs option %q", parts)
		}
		if i, dup := seen[key]; dup {
			kept[i] = o
			continue
		}
		seen[key] = len(kept)
		kept = append(kept, o)
	}
	return flags, strings.Join(kept, ","), nil
}

// ipcSysctls are the kernel.* keys of the ipc namespace (runc's list).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// CheckSysctl is runc's check that a --sysctl key belongs to one of the
// container's own namespaces (libcontainer/configs/validate), with its
// texts; hostNet is --network host.
func CheckSysctl(key string, hostNet bool) error {
	if strings.Contains(key, "/") || slices.Contains(strings.Split(key, "."), "") {
		return fmt.Errorf("sysctl %q is not in a separate kernel namespace", key)
	}
	switch {
	case ipcSysctls[key], strings.HasPrefix(key, "fs.mqueue."):
		return nil
	case strings.HasPrefix(key, "net."):
		if hostNet {
			return fmt.Errorf("sysctl %q is not allowed in the hosts network namespace", key)
		}
		return nil
	case key == "kernel.domainname":
		return nil
	case key == "kernel.hostname":
		return fmt.Errorf("sysctl %q is not allowed as it conflicts with the OCI %q field", key, "hostname")
	}
	return fmt.Errorf("sysctl %q is not in a separate kernel namespace", key)
}

// CheckOomScoreAdj is Docker's range check.
func CheckOomScoreAdj(v int) error {
	if v < -1000 || v > 1000 {
		return fmt.Errorf("Invalid value %d, range for oom score adj is [-1000, 1000]", v)
	}
	return nil
}
