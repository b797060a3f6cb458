#!/usr/bin/env bash
# make bench: prepares the peers once (when started as root), builds warren
# and the bench tools and image, runs every figure as the unprivileged test
# user, then writes docs/BENCHMARKS.md from the raw results.
# Knobs (environment): RUNS DUR N CONNS CONC SCALE CLIENTS PORT MEMPORT, with
# their defaults in scripts/bench/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench/lib.sh # scripts/lib.sh, and the knobs with their defaults

prepare_machine scripts/bench/setup-peers.sh

out="$(stage scripts/lib.sh)"
trap 'rm -rf "$out"' EXIT
# warren is still being integrated: a build failure leaves its rows "not
# yet" (run.sh says why) instead of stopping the peers' figures.
if ! make --no-print-directory build >"$out/build.log" 2>&1; then
	echo "bench: bin/warren does not build; warren rows will read \"not yet\"" >&2
	tail -3 "$out/build.log" >&2
fi
[ -x bin/warren ] && cp bin/warren "$out/warren"
CGO_ENABLED=0 go build -trimpath -o "$out/connserver" ./scripts/bench/connserver
CGO_ENABLED=0 go build -trimpath -o "$out/connload" ./scripts/bench/connload
CGO_ENABLED=0 go build -trimpath -o "$out/splicerelay" ./scripts/bench/splicerelay
go run ./scripts/bench/image -connserver "$out/connserver" -out "$out/bench-image.tar" >/dev/null
go build -o "$out/gendoc" ./scripts/bench/gendoc
mkdir -p "$out/bench" "$out/results"
cp scripts/bench/{run.sh,figures.sh,lib.sh,versions.sh} "$out/bench/"
chmod -R a+rX "$out"
is_root && chown -R "$WARREN_TEST_USER" "$out/results"

knobs=()
for k in "${BENCH_KNOBS[@]}"; do knobs+=("$k=${!k}"); done
run_as_test_user "${knobs[@]}" bash "$out/bench/run.sh" "$out" "$out/results"

mkdir -p docs
"$out/gendoc" -results "$out/results" -out docs/BENCHMARKS.md \
	-runs "$RUNS" -dur "$DUR" -n "$N" -conns "$CONNS" -conc "$CONC" -scale "$SCALE" -clients "$CLIENTS"
if [ -n "${KEEP_RESULTS:-}" ]; then
	rm -rf "$KEEP_RESULTS" && cp -r "$out/results" "$KEEP_RESULTS"
fi
echo "bench: wrote docs/BENCHMARKS.md"
