package engine

// undo is the rollback of a sequence of steps: each step that succeeds
// pushes what takes it back, and on failure run takes them all back,
// newest first, so the undo of a step always sees the steps before it
// still in place.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }

// run undoes every pushed step, newest first, and forgets them.
func (u *undo) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
	*u = nil
}
