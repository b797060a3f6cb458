package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTmpfsOptions(t *testing.T) {
	const def = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	for _, tt := range []struct {
		in        string
		flags     uintptr
		data, err string
	}{
		{"", def, "", ""},
		{"size=1m,mode=1770", def, "size=1m,mode=1770", ""},
		{"exec,ro", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY, "", ""},
		{"ro,rw,suid,dev", unix.MS_NOEXEC, "", ""},
		{"size=1m,size=2m,uid=1000", def, "size=2m,uid=1000", ""},
		{"defaults,rprivate,noatime,nr_inodes=5", def | unix.MS_NOATIME, "nr_inodes=5", ""},
		{"bogus", 0, "", `Invalid tmpfs option ["bogus"]`},
		{"colour=red", 0, "", `Invalid tmpfs option ["colour" "red"]`},
	} {
		flags, data, err := TmpfsOptions(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("TmpfsOptions(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || flags != tt.flags || data != tt.data {
			t.Errorf("TmpfsOptions(%q) = %#x, %q, %v; want %#x, %q", tt.in, flags, data, err, tt.flags, tt.data)
		}
	}
}

// FuzzTmpfsOptions: whatever the option string, TmpfsOptions does not
// panic, and the data it passes on is only known key=value options.
func FuzzTmpfsOptions(f *testing.F) {
	for _, s := range []string{"", "size=1m,mode=1770", "ro,exec", "size=1m,,size=2m", "=", "a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, data, err := TmpfsOptions(in)
		if err != nil || data == "" {
			return
		}
		for _, o := range strings.Split(data, ",") {
			k, _, ok := strings.Cut(o, "=")
			if !ok || !tmpfsData[k] {
				t.Errorf("TmpfsOptions(%q) passed on %q", in, o)
			}
		}
	})
}

func TestCheckRlimit(t *testing.T) {
	for _, tt := range []struct {
		r    Rlimit
		want string
	}{
		{Rlimit{Name: "nofile", Soft: 1, Hard: 2}, ""},
		{Rlimit{Name: "core", Soft: ^uint64(0), Hard: ^uint64(0)}, ""},
		{Rlimit{Name: "nofiles", Soft: 1, Hard: 1}, "invalid ulimit type: nofiles"},
		{Rlimit{Name: "nproc", Soft: 3, Hard: 2}, "ulimit soft limit must be less than or equal to hard limit: 3 > 2"},
	} {
		err := CheckRlimit(tt.r)
		if (err == nil) != (tt.want == "") || err != nil && err.Error() != tt.want {
			t.Errorf("CheckRlimit(%+v) = %v, want %q", tt.r, err, tt.want)
		}
	}
}

func TestCheckSysctl(t *testing.T) {
	for _, tt := range []struct {
		key     string
		hostNet bool
		want    string
	}{
		{"net.ipv4.ip_unprivileged_port_start", false, ""},
		{"net.core.somaxconn", true, `sysctl "net.core.somaxconn" is not allowed in the hosts network namespace`},
		{"kernel.shmmax", false, ""},
		{"fs.mqueue.msg_max", true, ""},
		{"kernel.domainname", false, ""},
		{"kernel.hostname", false, `sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field`},
		{"vm.swappiness", false, `sysctl "vm.swappiness" is not in a separate kernel namespace`},
		{"net./../kernel", false, `sysctl "net./../kernel" is not in a separate kernel namespace`},
		{"net..core", false, `sysctl "net..core" is not in a separate kernel namespace`},
	} {
		err := CheckSysctl(tt.key, tt.hostNet)
		if (err == nil) != (tt.want == "") || err != nil && err.Error() != tt.want {
			t.Errorf("CheckSysctl(%q, %v) = %v, want %q", tt.key, tt.hostNet, err, tt.want)
		}
	}
}

func TestAdditionalGroups(t *testing.T) {
	const group = "root:x:0:\nwheel:x:10:root\n100:x:200:\n"
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{[]string{"wheel", "42"}, "[10 42]"},
		{[]string{"100"}, "[200]"}, // a name first, as runc looks it up
		{[]string{"nope"}, "Unable to find group nope: no matching entries in group file"},
		{[]string{"-1"}, "gid -1 out of range"},
	} {
		got, err := additionalGroups(tt.names, strings.NewReader(group))
		s := fmt.Sprint(got)
		if err != nil {
			s = err.Error()
		}
		if s != tt.want {
			t.Errorf("additionalGroups(%v) = %s, want %s", tt.names, s, tt.want)
		}
	}
}
