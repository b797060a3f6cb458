package seccomp

import "runtime"

// goarch is the machine the filters are compiled for; tests compile for
// others through compileFor.
var goarch = runtime.GOARCH
