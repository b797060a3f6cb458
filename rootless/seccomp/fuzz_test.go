package seccomp

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
)

// Any profile that decodes either compiles to a program the kernel would
// take (loads in the VM, fits BPF_MAXINSNS, every run returns) or is
// refused with an error; it never panics.
func FuzzCompile(f *testing.F) {
	f.Add(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`, uint32(83), uint64(0))
	f.Add(`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X32"],
		"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":3,"valueTwo":1,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
		uint32(0), uint64(1))
	f.Fuzz(func(t *testing.T, body string, nr uint32, arg uint64) {
		rt, err := Runtime(body, false, dockerCaps)
		if err != nil || rt == nil {
			return
		}
		p, err := compileFor(rt, specs.ArchX86_64)
		if err != nil {
			return
		}
		ins, err := p.Instructions()
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) > maxInstructions {
			t.Fatalf("%d instructions", len(ins))
		}
		m, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("the program does not load: %v", err)
		}
		v := vm{t, m}
		v.call(uint32(0xc000003e), nr, arg, arg)
		v.call(uint32(0x40000003), nr, arg)
	})
}
