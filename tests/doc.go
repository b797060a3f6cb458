// Package tests holds warren's end-to-end tests: they run the real binary
// (and the real docker CLI where it applies) as an unprivileged user against
// one daemon shared by the package, and compare what users see with what
// Docker prints. `make test` runs them; `go test ./...` alone skips them
// unless WARREN_E2E=1, because they need a prepared machine (see README).
package tests
