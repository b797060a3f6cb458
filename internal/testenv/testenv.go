// Package testenv decides what a test does when the machine lacks
// something it needs. On a developer's machine it skips, saying what is
// missing; under CI (CI=true, as CI services set it), where the machine is
// prepared first, it fails: there a skip would be a test gone green without
// running.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// CI reports whether the tests run under CI, where every prerequisite is
// provided and missing one is an error of the setup.
func CI() bool { return os.Getenv("CI") == "true" }

// Require skips t, or fails it under CI, unless ok. why says what is
// missing and how to provide it.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if CI() {
		t.Fatalf("missing prerequisite (CI=true turns this skip into a failure): %s", why)
	}
	t.Skip(why)
}

// Requiref is Require with a formatted reason.
func Requiref(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		Require(t, false, fmt.Sprintf(format, args...))
	}
}
