#!/usr/bin/env bash
# make test: unit tests, lint, then the end-to-end suite as an unprivileged
# user. Started as root (as CI is), it prepares the machine first and runs
# the end-to-end binary as $WARREN_TEST_USER.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

step() { printf '\n== %s\n' "$*"; }

if is_root; then
	step "setup (root)"
	prepare_machine
fi

step "unit tests (race detector)"
go test -race ./...

step "lint"
make --no-print-directory lint

step "build"
make --no-print-directory build images
go test -c -o bin/e2e.test ./tests

step "end-to-end tests"
e2e_args=(-test.v -test.timeout "${WARREN_E2E_TIMEOUT:-10m}")
if [ -n "${WARREN_E2E_RUN:-}" ]; then
	e2e_args+=(-test.run "$WARREN_E2E_RUN")
fi
stage_dir="$(stage bin/warren bin/e2e.test tests/images/out)"
trap 'rm -rf "$stage_dir"' EXIT
# The suite checks the prerequisites itself (warren info) once its daemon
# answers.
run_as_test_user WARREN_E2E=1 "CI=${CI:-}" "WARREN_BIN=$stage_dir/warren" "WARREN_IMAGES=$stage_dir/out" \
	sh -c 'cd "$1" && shift && exec ./e2e.test "$@"' e2e "$stage_dir" "${e2e_args[@]}"
