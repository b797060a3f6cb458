package seccomp

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// label names a place in a program being assembled.
type label int

// op is one instruction of a program being assembled: a plain BPF
// instruction, a conditional jump to labels, an unconditional jump to a
// label, or the place a label marks.
type op struct {
	ins         bpf.Instruction // a plain instruction, or nil
	cond        bpf.JumpTest    // with jump: a conditional jump on val
	val         uint32
	jump        bool
	onTrue      label // jump (conditional or not) target
	onFalse     label // conditional jump's other target
	conditional bool
	mark        bool // this op only marks lbl
	lbl         label
}

// assembler builds a program with forward jumps to labels. Classic BPF's
// conditional jumps reach at most 255 instructions; assemble turns farther
// ones into a short jump over an unconditional one, which reaches anywhere.
type assembler struct {
	ops    []op
	labels int
}

func (a *assembler) newLabel() label {
	a.labels++
	return label(a.labels)
}

func (a *assembler) emit(ins bpf.Instruction) { a.ops = append(a.ops, op{ins: ins}) }

func (a *assembler) mark(l label) { a.ops = append(a.ops, op{mark: true, lbl: l}) }

// jumpIf goes to onTrue when A <cond> val holds, to onFalse otherwise.
func (a *assembler) jumpIf(cond bpf.JumpTest, val uint32, onTrue, onFalse label) {
	a.ops = append(a.ops, op{jump: true, conditional: true, cond: cond, val: val, onTrue: onTrue, onFalse: onFalse})
}

// goTo jumps to l.
func (a *assembler) goTo(l label) { a.ops = append(a.ops, op{jump: true, onTrue: l}) }

// ret ends the filter with value v.
func (a *assembler) ret(v uint32) { a.emit(bpf.RetConstant{Val: v}) }

// far says which targets of a conditional jump need an unconditional
// jump of their own.
type far struct{ onTrue, onFalse bool }

func (f far) size() int {
	n := 1
	if f.onTrue {
		n++
	}
	if f.onFalse {
		n++
	}
	return n
}

// assemble resolves the labels. Which jumps are far is found by iteration:
// widening one jump can only push others farther, so it settles.
func (a *assembler) assemble() ([]bpf.Instruction, error) {
	fars := make([]far, len(a.ops))
	for {
		pos, at := a.layout(fars)
		changed := false
		for i, o := range a.ops {
			if !o.jump || !o.conditional {
				continue
			}
			next := pos[i] + 1 // where jump offsets count from
			f := fars[i]
			if !f.onTrue && at[o.onTrue]-next > 255 {
				f.onTrue, changed = true, true
			}
			// The false target counts from after the true target's ja.
			extra := 0
			if f.onTrue {
				extra = 1
			}
			if !f.onFalse && at[o.onFalse]-next-extra > 255 {
				f.onFalse, changed = true, true
			}
			fars[i] = f
		}
		if !changed {
			return a.lower(fars, pos, at)
		}
	}
}

// layout places every op given which jumps are far: pos is each op's
// index in the output, at each label's.
func (a *assembler) layout(fars []far) (pos []int, at map[label]int) {
	pos, at = make([]int, len(a.ops)), map[label]int{}
	n := 0
	for i, o := range a.ops {
		pos[i] = n
		switch {
		case o.mark:
			at[o.lbl] = n
		case o.jump && o.conditional:
			n += fars[i].size()
		default:
			n++
		}
	}
	return pos, at
}

func (a *assembler) lower(fars []far, pos []int, at map[label]int) ([]bpf.Instruction, error) {
	var out []bpf.Instruction
	target := func(l label) (int, error) {
		t, ok := at[l]
		if !ok {
			return 0, fmt.Errorf("seccomp: jump to unplaced label %d", l)
		}
		return t, nil
	}
	for i, o := range a.ops {
		switch {
		case o.mark:
		case !o.jump:
			out = append(out, o.ins)
		case !o.conditional:
			t, err := target(o.onTrue)
			if err != nil {
				return nil, err
			}
			out = append(out, bpf.Jump{Skip: uint32(t - pos[i] - 1)})
		default:
			tt, err := target(o.onTrue)
			if err != nil {
				return nil, err
			}
			ft, err := target(o.onFalse)
			if err != nil {
				return nil, err
			}
			next := pos[i] + 1
			f := fars[i]
			var tail []bpf.Instruction
			skipTrue, skipFalse := tt-next, ft-next
			if f.onTrue {
				skipTrue = len(tail)
				tail = append(tail, bpf.Jump{Skip: uint32(tt - (next + len(tail)) - 1)})
			}
			if f.onFalse {
				skipFalse = len(tail)
				tail = append(tail, bpf.Jump{Skip: uint32(ft - (next + len(tail)) - 1)})
			}
			if skipTrue < 0 || skipFalse < 0 || skipTrue > 255 || skipFalse > 255 {
				return nil, fmt.Errorf("seccomp: jump out of range at %d", pos[i])
			}
			out = append(out, bpf.JumpIf{Cond: o.cond, Val: o.val, SkipTrue: uint8(skipTrue), SkipFalse: uint8(skipFalse)})
			out = append(out, tail...)
		}
	}
	return out, nil
}
