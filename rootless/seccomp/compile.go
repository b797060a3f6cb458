package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
)

// Program is a compiled filter as the container's processes install it.
type Program struct {
	// Filter is the struct sock_filter array in this machine's byte order.
	Filter []byte
	// Flags are SECCOMP_FILTER_FLAG_* bits for seccomp(2).
	Flags uint
}

// Instructions decodes the filter, for inspection and tests.
func (p *Program) Instructions() ([]bpf.Instruction, error) {
	if len(p.Filter)%8 != 0 {
		return nil, fmt.Errorf("seccomp: filter of %d bytes is not whole instructions", len(p.Filter))
	}
	raw := make([]bpf.RawInstruction, len(p.Filter)/8)
	for i := range raw {
		b := p.Filter[8*i:]
		raw[i] = bpf.RawInstruction{
			Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:]),
		}
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, errors.New("seccomp: filter does not disassemble")
	}
	return ins, nil
}

// The kernel's SECCOMP_RET_* values.
const (
	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000

	errnoEPERM  = 1
	errnoENOSYS = 38

	// x32 system calls are x86-64's with this bit set in the number.
	x32Bit = 0x40000000

	// Offsets in struct seccomp_data.
	offNr   = 0
	offArch = 4
	offArgs = 16

	// maxInstructions is the kernel's BPF_MAXINSNS.
	maxInstructions = 4096
)

// abi is one system call table a filter covers.
type abi struct {
	name  specs.Arch
	info  *arch.Info
	audit uint32 // AUDIT_ARCH_*: the arch field of seccomp_data
	is32  bool   // arguments are compared on their low 32 bits, as libseccomp does
	x32   bool   // numbers carry x32Bit
}

// abis are the tables this package has; profiles may name architectures
// this machine cannot run, and those are left out as they could never
// match.
var abis = map[specs.Arch]abi{
	specs.ArchX86_64:  {name: specs.ArchX86_64, info: arch.X86_64, audit: uint32(arch.X86_64.ID)},
	specs.ArchX32:     {name: specs.ArchX32, info: arch.X32, audit: uint32(arch.X32.ID), is32: true, x32: true},
	specs.ArchX86:     {name: specs.ArchX86, info: arch.I386, audit: uint32(arch.I386.ID), is32: true},
	specs.ArchAARCH64: {name: specs.ArchAARCH64, info: arch.AARCH64, audit: uint32(arch.AARCH64.ID)},
	specs.ArchARM:     {name: specs.ArchARM, info: arch.ARM, audit: uint32(arch.ARM.ID), is32: true},
}

// nativeArch is the SCMP_ARCH of the machine the program runs on.
var nativeArch = map[string]specs.Arch{
	"amd64": specs.ArchX86_64, "386": specs.ArchX86, "arm64": specs.ArchAARCH64, "arm": specs.ArchARM,
}

var knownArches = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL, specs.ArchMIPSEL64,
	specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE, specs.ArchS390,
	specs.ArchS390X, specs.ArchPARISC, specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64,
	specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

// action is the kernel's return value for a profile's action.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	errno := uint32(errnoEPERM)
	if errnoRet != nil {
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("seccomp: errnoRet %d out of range", *errnoRet)
		}
		errno = uint32(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return retKillThread, nil
	case specs.ActKillProcess:
		return retKillProcess, nil
	case specs.ActTrap:
		return retTrap, nil
	case specs.ActErrno:
		return retErrno | errno, nil
	case specs.ActTrace:
		return retTrace | errno, nil
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActLog:
		return retLog, nil
	case specs.ActNotify:
		return 0, errors.New("seccomp: SCMP_ACT_NOTIFY is not supported by warren")
	}
	return 0, fmt.Errorf("seccomp: unknown action %q", a)
}

// permissive actions let the call run; runc then adds no -ENOSYS stub.
func permissive(ret uint32) bool {
	return ret == retAllow || ret == retLog || ret&0xffff0000 == retTrace
}

// filterFlags are the seccomp(2) flags a profile asks for.
func filterFlags(flags []specs.LinuxSeccompFlag) (uint, error) {
	var out uint
	for _, f := range flags {
		switch f {
		case "SECCOMP_FILTER_FLAG_TSYNC":
			// Only the thread that execs matters; runc ignores it too.
		case specs.LinuxSeccompFlagLog:
			out |= 1 << 1
		case specs.LinuxSeccompFlagSpecAllow:
			out |= 1 << 2
		default:
			return 0, fmt.Errorf("seccomp flag %s is not known to warren", f)
		}
	}
	return out, nil
}

// rule is one action for one system call, under all of its conditions.
type rule struct {
	conds []specs.LinuxSeccompArg
	ret   uint32
}

// entry is everything a filter does for one system call number.
type entry struct {
	nr    uint32
	rules []rule
}

// Compile turns a runtime profile (what moby's profile code makes of a
// Docker profile) into a filter for this machine, with the semantics runc
// gives it through libseccomp: unknown system call names are skipped, rules
// with the default action dropped, conditions on one argument each make a
// rule of their own, other conditions all have to hold; calls past the
// highest number the profile names get ENOSYS (runc's stub, so that newer
// calls look unimplemented and libc falls back); calls of an architecture
// the profile does not list kill the thread (libseccomp's default).
func Compile(p *specs.LinuxSeccomp) (*Program, error) {
	native, ok := nativeArch[goarch]
	if !ok {
		return nil, fmt.Errorf("seccomp: no system call table for %s", goarch)
	}
	return compileFor(p, native)
}

func compileFor(p *specs.LinuxSeccomp, native specs.Arch) (*Program, error) {
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	flags, err := filterFlags(p.Flags)
	if err != nil {
		return nil, err
	}
	archNames := p.Architectures
	if len(archNames) == 0 {
		archNames = []specs.Arch{native}
	}
	var list []abi
	for _, n := range archNames {
		if !slices.Contains(knownArches, n) {
			return nil, fmt.Errorf("seccomp: unknown architecture %q", n)
		}
		if a, ok := abis[n]; ok && !slices.ContainsFunc(list, func(x abi) bool { return x.name == n }) {
			list = append(list, a)
		}
	}
	type ruleOf struct {
		names []string
		rule  rule
	}
	var rules []ruleOf
	for _, s := range p.Syscalls {
		ret, err := action(s.Action, s.ErrnoRet)
		if err != nil {
			return nil, err
		}
		for _, c := range s.Args {
			if c.Index > 5 {
				return nil, fmt.Errorf("seccomp: argument index %d out of range", c.Index)
			}
			if err := opValid(c.Op); err != nil {
				return nil, err
			}
		}
		// Conditions on one argument twice make one rule each (runc).
		if repeatsIndex(s.Args) {
			for _, c := range s.Args {
				rules = append(rules, ruleOf{s.Names, rule{conds: []specs.LinuxSeccompArg{c}, ret: ret}})
			}
			continue
		}
		rules = append(rules, ruleOf{s.Names, rule{conds: s.Args, ret: ret}})
	}
	stub := !permissive(def) && !(p.DefaultErrnoRet != nil && *p.DefaultErrnoRet == errnoENOSYS)

	var a assembler
	badArch := a.newLabel()
	enosys := a.newLabel()
	rets := map[uint32]label{}
	retLabel := func(v uint32) label {
		if l, ok := rets[v]; ok {
			return l
		}
		l := a.newLabel()
		rets[v] = l
		return l
	}
	var blocks []func()

	a.emit(bpf.LoadAbsolute{Off: offArch, Size: 4})
	var audits []uint32
	for _, x := range list {
		if !slices.Contains(audits, x.audit) {
			audits = append(audits, x.audit)
		}
	}
	sections := map[uint32]label{}
	for _, au := range audits {
		next := a.newLabel()
		sections[au] = a.newLabel()
		a.jumpIf(bpf.JumpEqual, au, sections[au], next)
		a.mark(next)
	}
	a.goTo(badArch)

	for _, au := range audits {
		a.mark(sections[au])
		a.emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
		var plain, x32 *abi
		for i := range list {
			if list[i].audit != au {
				continue
			}
			if list[i].x32 {
				x32 = &list[i]
			} else {
				plain = &list[i]
			}
		}
		// x86-64 and x32 share AUDIT_ARCH_X86_64; the number tells them apart.
		plainL, x32L := badArch, badArch
		if plain != nil {
			plainL = a.newLabel()
		}
		if x32 != nil {
			x32L = a.newLabel()
		}
		if au == uint32(arch.X86_64.ID) {
			a.jumpIf(bpf.JumpBitsSet, x32Bit, x32L, plainL)
		}
		for _, x := range []*abi{plain, x32} {
			if x == nil {
				continue
			}
			if x == plain {
				a.mark(plainL)
			} else {
				a.mark(x32L)
			}
			byNr := map[uint32]*entry{}
			var highest uint32
			for _, r := range rules {
				for _, name := range r.names {
					n, ok := x.info.SyscallNames[name]
					if !ok {
						continue
					}
					nr := uint32(n) | uint32(x.info.SeccompMask)
					highest = max(highest, nr)
					if r.rule.ret == def {
						continue
					}
					e := byNr[nr]
					if e == nil {
						e = &entry{nr: nr}
						byNr[nr] = e
					}
					e.rules = append(e.rules, r.rule)
				}
			}
			if stub && highest > 0 {
				body := a.newLabel()
				a.jumpIf(bpf.JumpGreaterThan, highest, enosys, body)
				a.mark(body)
			}
			entries := make([]*entry, 0, len(byNr))
			for _, e := range byNr {
				entries = append(entries, e)
			}
			sort.Slice(entries, func(i, j int) bool { return entries[i].nr < entries[j].nr })
			is32 := x.is32
			a.tree(entries, retLabel(def), func(e *entry) label {
				// A call with one unconditional rule jumps straight to its return.
				if r := ordered(e.rules); len(r) == 1 && len(r[0].conds) == 0 {
					return retLabel(r[0].ret)
				}
				l := a.newLabel()
				blocks = append(blocks, func() {
					a.mark(l)
					for _, r := range ordered(e.rules) {
						next := a.newLabel()
						a.conds(r.conds, is32, next)
						a.goTo(retLabel(r.ret))
						a.mark(next)
					}
					a.goTo(retLabel(def))
				})
				return l
			})
		}
	}
	for _, b := range blocks {
		b()
	}
	a.mark(badArch)
	a.ret(retKillThread)
	if stub {
		a.mark(enosys)
		a.ret(retErrno | errnoENOSYS)
	}
	vals := make([]uint32, 0, len(rets))
	for v := range rets {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	for _, v := range vals {
		a.mark(rets[v])
		a.ret(v)
	}
	ins, err := a.assemble()
	if err != nil {
		return nil, err
	}
	if len(ins) > maxInstructions {
		return nil, fmt.Errorf("seccomp: filter of %d instructions is over the kernel's %d", len(ins), maxInstructions)
	}
	raw, err := bpf.Assemble(ins)
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	buf := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		buf = binary.NativeEndian.AppendUint16(buf, r.Op)
		buf = append(buf, r.Jt, r.Jf)
		buf = binary.NativeEndian.AppendUint32(buf, r.K)
	}
	return &Program{Filter: buf, Flags: flags}, nil
}

// ordered puts conditional rules first, in profile order, and then the
// first unconditional one: the more specific rule wins, and nothing
// after an unconditional rule could ever run.
func ordered(rules []rule) []rule {
	var out []rule
	var fallback *rule
	for i, r := range rules {
		if len(r.conds) > 0 {
			out = append(out, r)
		} else if fallback == nil {
			fallback = &rules[i]
		}
	}
	if fallback != nil {
		out = append(out, *fallback)
	}
	return out
}

func repeatsIndex(args []specs.LinuxSeccompArg) bool {
	seen := map[uint]bool{}
	for _, c := range args {
		if seen[c.Index] {
			return true
		}
		seen[c.Index] = true
	}
	return false
}

func opValid(op specs.LinuxSeccompOperator) error {
	switch op {
	case specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
		specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual:
		return nil
	}
	return fmt.Errorf("seccomp: unknown operator %q", op)
}

// span is a run of call numbers from start up to the next span's start
// that all go to one place.
type span struct {
	start uint32
	to    label
}

// tree emits a binary search over the sorted entries (the number is in A):
// a number goes to target(e) of its entry, any other to def. Runs of
// numbers with one target (most calls are simply allowed) become one span,
// which keeps the program small and the search short.
func (a *assembler) tree(entries []*entry, def label, target func(*entry) label) {
	spans := []span{{0, def}}
	for _, e := range entries {
		to := target(e)
		last := &spans[len(spans)-1]
		if last.start > e.nr {
			continue
		}
		if last.start == e.nr {
			last.to = to // the default span it opened, replaced
		} else if last.to != to {
			spans = append(spans, span{e.nr, to})
		}
		if e.nr+1 != 0 {
			spans = append(spans, span{e.nr + 1, def})
		}
	}
	// Merge neighbours that the steps above left with one target.
	merged := spans[:1]
	for _, s := range spans[1:] {
		if s.to != merged[len(merged)-1].to {
			merged = append(merged, s)
		}
	}
	a.search(merged)
}

func (a *assembler) search(spans []span) {
	switch len(spans) {
	case 1:
		a.goTo(spans[0].to)
		return
	case 2:
		a.jumpIf(bpf.JumpGreaterOrEqual, spans[1].start, spans[1].to, spans[0].to)
		return
	}
	mid := len(spans) / 2
	left, right := a.newLabel(), a.newLabel()
	a.jumpIf(bpf.JumpGreaterOrEqual, spans[mid].start, right, left)
	a.mark(left)
	a.search(spans[:mid])
	a.mark(right)
	a.search(spans[mid:])
}

// argOffsets are where argument i's low and high halves are.
func argOffsets(i uint) (low, high uint32) {
	base := uint32(offArgs + 8*i)
	if bigEndian {
		return base + 4, base
	}
	return base, base + 4
}

var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// conds emits the test that all of cs hold, falling through when they do
// and jumping to fail when one does not. 32-bit ABIs compare the low half
// only, as libseccomp does.
func (a *assembler) conds(cs []specs.LinuxSeccompArg, is32 bool, fail label) {
	for _, c := range cs {
		ok := a.newLabel()
		lowOff, highOff := argOffsets(c.Index)
		v, v2 := c.Value, c.ValueTwo
		lo, hi := uint32(v), uint32(v>>32)
		lo2, hi2 := uint32(v2), uint32(v2>>32)
		load := func(off uint32) { a.emit(bpf.LoadAbsolute{Off: off, Size: 4}) }
		// high compares the high halves: decided true, decided false, or
		// equal (fall through to the low halves).
		high := func(onGreater, onLess label) {
			if is32 {
				return
			}
			load(highOff)
			eq, notEq := a.newLabel(), a.newLabel()
			a.jumpIf(bpf.JumpEqual, hi, eq, notEq)
			a.mark(notEq)
			a.jumpIf(bpf.JumpGreaterThan, hi, onGreater, onLess)
			a.mark(eq)
		}
		next := a.newLabel()
		switch c.Op {
		case specs.OpEqualTo:
			high(fail, fail)
			load(lowOff)
			a.jumpIf(bpf.JumpEqual, lo, ok, fail)
		case specs.OpNotEqual:
			high(ok, ok)
			load(lowOff)
			a.jumpIf(bpf.JumpEqual, lo, fail, ok)
		case specs.OpGreaterThan:
			high(ok, fail)
			load(lowOff)
			a.jumpIf(bpf.JumpGreaterThan, lo, ok, fail)
		case specs.OpGreaterEqual:
			high(ok, fail)
			load(lowOff)
			a.jumpIf(bpf.JumpGreaterOrEqual, lo, ok, fail)
		case specs.OpLessThan:
			high(fail, ok)
			load(lowOff)
			a.jumpIf(bpf.JumpGreaterOrEqual, lo, fail, ok)
		case specs.OpLessEqual:
			high(fail, ok)
			load(lowOff)
			a.jumpIf(bpf.JumpGreaterThan, lo, fail, ok)
		case specs.OpMaskedEqual:
			// (arg & value) == valueTwo, half by half.
			if !is32 {
				load(highOff)
				a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: hi})
				a.jumpIf(bpf.JumpEqual, hi2, next, fail)
				a.mark(next)
			}
			load(lowOff)
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: lo})
			a.jumpIf(bpf.JumpEqual, lo2, ok, fail)
		}
		a.mark(ok)
	}
}
