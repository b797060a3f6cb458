package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install loads p into the calling thread, which must have no_new_privs set
// (or CAP_SYS_ADMIN) and should exec right after: the filter holds for
// this thread and what it execs. A nil p installs nothing.
func Install(p *Program) error {
	if p == nil {
		return nil
	}
	n := len(p.Filter) / 8
	if n == 0 || n > maxInstructions || len(p.Filter)%8 != 0 {
		return fmt.Errorf("install seccomp filter: bad program of %d bytes", len(p.Filter))
	}
	// struct sock_filter is 8 bytes, laid out as the filter is encoded.
	prog := unix.SockFprog{Len: uint16(n), Filter: (*unix.SockFilter)(unsafe.Pointer(&p.Filter[0]))}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(p.Flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(p)
	if errno != 0 {
		return fmt.Errorf("install seccomp filter: %w", errno)
	}
	return nil
}
