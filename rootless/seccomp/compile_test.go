package seccomp

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

const (
	allow  = retAllow
	eperm  = retErrno | errnoEPERM
	enosys = retErrno | errnoENOSYS
)

// vm runs a compiled program on seccomp_data the way the kernel does.
type vm struct {
	t  *testing.T
	vm *bpf.VM
}

func newVM(t *testing.T, p *Program) vm {
	t.Helper()
	ins, err := p.Instructions()
	if err != nil {
		t.Fatal(err)
	}
	m, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("the filter does not load: %v", err)
	}
	return vm{t, m}
}

// call returns the filter's verdict on system call nr of audit arch au.
// The kernel loads seccomp_data's words in native order, x/net/bpf's VM in
// network order: each word is written big-endian where the kernel would
// find it.
func (m vm) call(au, nr uint32, args ...uint64) uint32 {
	m.t.Helper()
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[offNr:], nr)
	binary.BigEndian.PutUint32(data[offArch:], au)
	for i, a := range args {
		lo, hi := argOffsets(uint(i))
		binary.BigEndian.PutUint32(data[lo:], uint32(a))
		binary.BigEndian.PutUint32(data[hi:], uint32(a>>32))
	}
	v, err := m.vm.Run(data)
	if err != nil {
		m.t.Fatal(err)
	}
	return uint32(v)
}

// sys is call by name in one of the x86 ABIs.
func (m vm) sys(a *arch.Info, name string, args ...uint64) uint32 {
	m.t.Helper()
	n, ok := a.SyscallNames[name]
	if !ok {
		m.t.Fatalf("%s has no system call %s", a.Name, name)
	}
	return m.call(uint32(a.ID), uint32(n|a.SeccompMask), args...)
}

func defaultProgram(t *testing.T, caps []string) (*specs.LinuxSeccomp, vm) {
	t.Helper()
	rt, err := Runtime("", false, caps)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileFor(rt, specs.ArchX86_64)
	if err != nil {
		t.Fatal(err)
	}
	return rt, newVM(t, p)
}

var x86ABIs = []*arch.Info{arch.X86_64, arch.X32, arch.I386}

// Every call the default profile allows without conditions is allowed, in
// each of the three x86 ABIs that has it.
func TestDefaultProfileAllowsItsTable(t *testing.T) {
	rt, m := defaultProgram(t, dockerCaps)
	if got := rt.Architectures; len(got) != 3 {
		t.Fatalf("architectures %v, want x86-64 with its x86 and x32 sub-architectures", got)
	}
	checked := 0
	for _, s := range rt.Syscalls {
		if s.Action != specs.ActAllow || len(s.Args) > 0 {
			continue
		}
		for _, name := range s.Names {
			for _, a := range x86ABIs {
				if _, ok := a.SyscallNames[name]; !ok {
					continue
				}
				checked++
				if got := m.sys(a, name); got != allow {
					t.Errorf("%s %s: %#x, want allow", a.Name, name, got)
				}
			}
		}
	}
	if checked < 900 {
		t.Errorf("only %d (ABI, call) pairs checked", checked)
	}
}

func TestDefaultProfileVerdicts(t *testing.T) {
	const (
		cloneNewUser = unix.CLONE_NEWUSER
		cloneThread  = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD
	)
	withAdmin := append(append([]string{}, dockerCaps...), "CAP_SYS_ADMIN")
	withSearch := append(append([]string{}, dockerCaps...), "CAP_DAC_READ_SEARCH")
	tests := []struct {
		caps []string
		abi  *arch.Info
		name string
		args []uint64
		want uint32
	}{
		{dockerCaps, arch.X86_64, "kexec_load", nil, eperm},
		{dockerCaps, arch.X86_64, "open_by_handle_at", nil, eperm},
		{withSearch, arch.X86_64, "open_by_handle_at", nil, allow},
		{dockerCaps, arch.X86_64, "mount", nil, eperm},
		{dockerCaps, arch.X86_64, "unshare", nil, eperm},
		{dockerCaps, arch.X86_64, "setns", nil, eperm},
		{withAdmin, arch.X86_64, "mount", nil, allow},
		{withAdmin, arch.X86_64, "unshare", nil, allow},
		{dockerCaps, arch.X86_64, "reboot", nil, eperm},
		{dockerCaps, arch.X86_64, "swapon", nil, eperm},
		{dockerCaps, arch.I386, "swapoff", nil, eperm},
		{dockerCaps, arch.X86_64, "chroot", nil, allow}, // CAP_SYS_CHROOT is a default
		{dockerCaps, arch.X86_64, "clone3", nil, enosys},
		{withAdmin, arch.X86_64, "clone3", nil, allow},
		{dockerCaps, arch.X86_64, "clone", []uint64{cloneThread}, allow},
		{dockerCaps, arch.X86_64, "clone", []uint64{uint64(unix.SIGCHLD)}, allow},
		{dockerCaps, arch.X86_64, "clone", []uint64{cloneNewUser | uint64(unix.SIGCHLD)}, eperm},
		{dockerCaps, arch.X86_64, "clone", []uint64{unix.CLONE_NEWNS}, eperm},
		{dockerCaps, arch.I386, "clone", []uint64{unix.CLONE_NEWNET}, eperm},
		{dockerCaps, arch.X32, "clone", []uint64{cloneThread}, allow},
		{withAdmin, arch.X86_64, "clone", []uint64{cloneNewUser}, allow},
		{dockerCaps, arch.X86_64, "personality", []uint64{0}, allow},
		{dockerCaps, arch.X86_64, "personality", []uint64{0xffffffff}, allow},
		{dockerCaps, arch.X86_64, "personality", []uint64{0x0040000 /* ADDR_NO_RANDOMIZE */}, eperm},
		{dockerCaps, arch.X86_64, "personality", []uint64{1 << 32}, eperm},
		{dockerCaps, arch.I386, "personality", []uint64{1 << 32}, allow}, // 32-bit: the low half only
		{dockerCaps, arch.X86_64, "socket", []uint64{unix.AF_INET}, allow},
		{dockerCaps, arch.X86_64, "socket", []uint64{unix.AF_UNIX}, allow},
		{dockerCaps, arch.X86_64, "socket", []uint64{unix.AF_NETLINK}, allow},
		{dockerCaps, arch.X86_64, "socket", []uint64{unix.AF_VSOCK}, eperm},
		{dockerCaps, arch.X86_64, "socket", []uint64{unix.AF_INET6}, allow},
		{dockerCaps, arch.X86_64, "arch_prctl", nil, allow},
		{dockerCaps, arch.I386, "modify_ldt", nil, allow},
		{dockerCaps, arch.X86_64, "bpf", nil, eperm},
		{dockerCaps, arch.X86_64, "perf_event_open", nil, eperm},
		{dockerCaps, arch.X86_64, "keyctl", nil, eperm},
	}
	for _, tt := range tests {
		_, m := defaultProgram(t, tt.caps)
		if got := m.sys(tt.abi, tt.name, tt.args...); got != tt.want {
			t.Errorf("%s %s%v with %d caps: %#x, want %#x", tt.abi.Name, tt.name, tt.args, len(tt.caps), got, tt.want)
		}
	}
}

// ptrace and process_vm_* are allowed without CAP_SYS_PTRACE from kernel
// 4.8 on (the profile's minKernel), which every kernel warren runs on is.
func TestDefaultProfileMinKernel(t *testing.T) {
	_, m := defaultProgram(t, dockerCaps)
	for _, name := range []string{"ptrace", "process_vm_readv"} {
		if got := m.sys(arch.X86_64, name); got != allow {
			t.Errorf("%s: %#x, want allow on this kernel", name, got)
		}
	}
	if got := m.sys(arch.X86_64, "kcmp"); got != eperm {
		t.Errorf("kcmp without CAP_SYS_PTRACE: %#x, want EPERM", got)
	}
}

// runc's stub: numbers past the highest the profile names are ENOSYS, so
// that libc falls back from calls newer than the profile; holes below it
// get the default action. Foreign architectures kill the thread.
func TestDefaultProfileEdges(t *testing.T) {
	_, m := defaultProgram(t, dockerCaps)
	x8664, i386 := uint32(arch.X86_64.ID), uint32(arch.I386.ID)
	if got := m.call(x8664, 1000); got != enosys {
		t.Errorf("x86-64 call 1000: %#x, want ENOSYS", got)
	}
	if got := m.call(x8664, x32Bit|1000); got != enosys {
		t.Errorf("x32 call 1000: %#x, want ENOSYS", got)
	}
	if got := m.call(i386, 1000); got != enosys {
		t.Errorf("i386 call 1000: %#x, want ENOSYS", got)
	}
	if got := m.sys(arch.X86_64, "kexec_load"); got != eperm {
		t.Errorf("kexec_load (a hole below the highest): %#x, want EPERM", got)
	}
	if got := m.call(uint32(arch.AARCH64.ID), 63); got != retKillThread {
		t.Errorf("aarch64 call on an x86-64 filter: %#x, want kill", got)
	}
}

func TestCustomProfile(t *testing.T) {
	const body = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"},
		{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},{"names":["no_such_call"],"action":"SCMP_ACT_KILL"}]}`
	rt, err := Runtime(body, false, dockerCaps)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileFor(rt, specs.ArchX86_64)
	if err != nil {
		t.Fatal(err)
	}
	m := newVM(t, p)
	for _, tt := range []struct {
		name string
		want uint32
	}{
		{"mkdir", eperm}, {"mkdirat", eperm}, {"getpid", retErrno | 13}, {"rmdir", allow}, {"read", allow},
	} {
		if got := m.sys(arch.X86_64, tt.name); got != tt.want {
			t.Errorf("%s: %#x, want %#x", tt.name, got, tt.want)
		}
	}
	// No stub when the default allows: unknown numbers are allowed too.
	if got := m.call(uint32(arch.X86_64.ID), 1000); got != allow {
		t.Errorf("call 1000 under an allowing default: %#x, want allow", got)
	}
	// No architectures listed: only the native one.
	if got := m.call(uint32(arch.I386.ID), 39); got != retKillThread {
		t.Errorf("i386 call under a native-only profile: %#x, want kill", got)
	}
}

func TestRuntimeChoice(t *testing.T) {
	for _, tt := range []struct {
		profile    string
		privileged bool
		none       bool
		err        string
	}{
		{"", false, false, ""},
		{Builtin, false, false, ""},
		{Unconfined, false, true, ""},
		{"", true, true, ""},
		{Unconfined, true, true, ""},
		{`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`, true, false, ""},
		{Builtin, true, false, "Decoding seccomp profile failed: invalid character 'b' looking for beginning of value"},
		{"/tmp/profile.json", false, false, "Decoding seccomp profile failed: invalid character '/' looking for beginning of value"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}`, false, false,
			"both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'"},
	} {
		rt, err := Runtime(tt.profile, tt.privileged, dockerCaps)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Runtime(%.20q, %v): error %v, want %q", tt.profile, tt.privileged, err, tt.err)
			}
			continue
		}
		if err != nil || (rt == nil) != tt.none {
			t.Errorf("Runtime(%.20q, %v) = %v, %v; want none=%v", tt.profile, tt.privileged, rt != nil, err, tt.none)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, tt := range []struct{ body, err string }{
		{`{"defaultAction":"SCMP_ACT_FOO"}`, `seccomp: unknown action "SCMP_ACT_FOO"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}`, "seccomp: SCMP_ACT_NOTIFY is not supported by warren"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "seccomp: argument index 6 out of range"},
		{`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_XX"}]}]}`, `seccomp: unknown operator "SCMP_CMP_XX"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"]}`, `seccomp: unknown architecture "SCMP_ARCH_VAX"`},
		{`{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}`, "seccomp flag SECCOMP_FILTER_FLAG_NEW_LISTENER is not known to warren"},
	} {
		rt, err := Runtime(tt.body, false, dockerCaps)
		if err == nil {
			_, err = compileFor(rt, specs.ArchX86_64)
		}
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.err)
		}
	}
}

// Every comparison, on both argument widths, against Go's own arithmetic,
// at the boundaries and at random: each rule is its own call number, so
// the program is large enough to need far jumps too.
func TestOperators(t *testing.T) {
	ops := []specs.LinuxSeccompOperator{
		specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual,
	}
	holds := func(op specs.LinuxSeccompOperator, arg, v, v2 uint64) bool {
		switch op {
		case specs.OpEqualTo:
			return arg == v
		case specs.OpNotEqual:
			return arg != v
		case specs.OpLessThan:
			return arg < v
		case specs.OpLessEqual:
			return arg <= v
		case specs.OpGreaterThan:
			return arg > v
		case specs.OpGreaterEqual:
			return arg >= v
		}
		return arg&v == v2
	}
	r := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 0xffffffff, 1 << 32, 1<<32 | 1, 0xfffffffe_ffffffff, ^uint64(0), 0x7e020000}
	for range 8 {
		values = append(values, r.Uint64(), uint64(r.Uint32()))
	}
	type rc struct {
		op     specs.LinuxSeccompOperator
		v, v2  uint64
		index  uint
		number uint32
	}
	var cases []rc
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86}}
	nr := uint32(0)
	for _, op := range ops {
		for _, v := range values {
			c := rc{op: op, v: v, v2: v & 0xff00ff00_ff00ff00, index: uint(nr % 6), number: nr}
			cases = append(cases, c)
			p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{
				Names:  []string{arch.X86_64.SyscallNumbers[int(nr)]},
				Action: specs.ActAllow,
				Args:   []specs.LinuxSeccompArg{{Index: c.index, Value: c.v, ValueTwo: c.v2, Op: op}},
			})
			nr++
			for arch.X86_64.SyscallNumbers[int(nr)] == "" || arch.I386.SyscallNames[arch.X86_64.SyscallNumbers[int(nr)]] == 0 {
				nr++
			}
		}
	}
	prog, err := compileFor(p, specs.ArchX86_64)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := prog.Instructions()
	far := 0
	for _, in := range ins {
		if j, ok := in.(bpf.Jump); ok && j.Skip > 255 {
			far++
		}
	}
	if far == 0 {
		t.Errorf("no far jump in a %d-instruction program: the test does not cover them", len(ins))
	}
	m := newVM(t, prog)
	for _, c := range cases {
		name := arch.X86_64.SyscallNumbers[int(c.number)]
		for _, arg := range append(values, c.v, c.v+1, c.v-1, c.v2) {
			args := make([]uint64, 6)
			args[c.index] = arg
			want := uint32(eperm)
			if holds(c.op, arg, c.v, c.v2) {
				want = allow
			}
			if got := m.sys(arch.X86_64, name, args...); got != want {
				t.Errorf("x86-64 %s arg%d=%#x %s %#x/%#x: %#x, want %#x", name, c.index, arg, c.op, c.v, c.v2, got, want)
			}
			// 32-bit ABIs compare the low halves only.
			want = eperm
			if holds(c.op, uint64(uint32(arg)), uint64(uint32(c.v)), uint64(uint32(c.v2))) {
				want = allow
			}
			if got := m.sys(arch.I386, name, args...); got != want {
				t.Errorf("i386 %s arg%d=%#x %s %#x: %#x, want %#x", name, c.index, arg, c.op, c.v, got, want)
			}
		}
	}
}

// Conditions on the same argument twice are alternatives (runc splits
// them into rules of their own); on different arguments they all must hold.
func TestConditionGrouping(t *testing.T) {
	body := `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["write"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]}]}`
	rt, err := Runtime(body, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileFor(rt, specs.ArchX86_64)
	if err != nil {
		t.Fatal(err)
	}
	m := newVM(t, p)
	for _, tt := range []struct {
		name string
		args []uint64
		want uint32
	}{
		{"read", []uint64{1}, allow}, {"read", []uint64{2}, allow}, {"read", []uint64{3}, eperm},
		{"write", []uint64{1, 2}, allow}, {"write", []uint64{1, 3}, eperm}, {"write", []uint64{2, 2}, eperm},
	} {
		if got := m.sys(arch.X86_64, tt.name, tt.args...); got != tt.want {
			t.Errorf("%s%v: %#x, want %#x", tt.name, tt.args, got, tt.want)
		}
	}
}

func TestForContainerCaches(t *testing.T) {
	a, err := ForContainer("", false, dockerCaps)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ForContainer(Builtin, false, append([]string{}, dockerCaps[1:]...)[:0:0])
	c, _ := ForContainer("", false, dockerCaps)
	if a != c {
		t.Error("the default program for one capability set was compiled twice")
	}
	if b == a {
		t.Error("two capability sets share one program")
	}
	if none, err := ForContainer(Unconfined, false, dockerCaps); none != nil || err != nil {
		t.Errorf("unconfined: %v, %v", none, err)
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	rt, err := Runtime("", false, dockerCaps)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Compile(rt); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleProgram_Instructions() {
	p, _ := compileFor(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}, specs.ArchX86_64)
	ins, _ := p.Instructions()
	var lines []string
	for _, in := range ins {
		lines = append(lines, fmt.Sprint(in))
	}
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// ld [4]
	// jeq #3221225534,1
	// ja 5
	// ld [0]
	// jset #1073741824,3
	// jge #83,1
	// ja 3
	// jge #84,2,1
	// ret #0
	// ret #327681
	// ret #2147418112
}
