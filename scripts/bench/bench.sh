#!/usr/bin/env bash
# make bench: prepares the peers once (when started as root), builds warren
# and the bench tools and image, runs every figure as the unprivileged test
# user, then writes docs/BENCHMARKS.md from the raw results.
# Knobs (environment): RUNS DUR N CONNS CONC SCALE CLIENTS PORT MEMPORT.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

RUNS="${RUNS:-3}" DUR="${DUR:-10}" N="${N:-10}" CONNS="${CONNS:-2000}" CONC="${CONC:-8}"
SCALE="${SCALE:-100}" CLIENTS="${CLIENTS:-1000}" PORT="${PORT:-25201}" MEMPORT="${MEMPORT:-26000}"

if is_root; then
	scripts/bench/setup-peers.sh
else
	check_prerequisites
fi

out="$(mktemp -d /tmp/warren-bench-build.XXXXXX)"
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
cp scripts/bench/{run.sh,figures.sh,lib.sh,versions.sh} "$out/"
mkdir -p "$out/results"
chmod -R a+rX "$out"

knobs=("RUNS=$RUNS" "DUR=$DUR" "N=$N" "CONNS=$CONNS" "CONC=$CONC" "SCALE=$SCALE" "CLIENTS=$CLIENTS" "PORT=$PORT" "MEMPORT=$MEMPORT")
if is_root; then
	chown -R "$WARREN_TEST_USER" "$out/results"
	as_user "${knobs[@]}" bash "$out/run.sh" "$out" "$out/results"
else
	env "${knobs[@]}" bash "$out/run.sh" "$out" "$out/results"
fi

mkdir -p docs
"$out/gendoc" -results "$out/results" -out docs/BENCHMARKS.md \
	-runs "$RUNS" -dur "$DUR" -n "$N" -conns "$CONNS" -conc "$CONC" -scale "$SCALE" -clients "$CLIENTS"
if [ -n "${KEEP_RESULTS:-}" ]; then
	rm -rf "$KEEP_RESULTS" && cp -r "$out/results" "$KEEP_RESULTS"
fi
echo "bench: wrote docs/BENCHMARKS.md"
