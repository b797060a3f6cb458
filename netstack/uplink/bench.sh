#!/bin/sh
# bench.sh: iperf3 through the namespace's uplink, warren's uplink driver
# against RootlessKit's stock gvisor-tap-vsock driver, beside host loopback,
# interleaved round by round so compared figures run back to back.
#
# Run as root from the repository (it builds nsrun and re-runs itself as the
# unprivileged user) or as that user with NSRUN set:
#   netstack/uplink/bench.sh            # RUNS=3 DUR=10 MTU=65520 BENCH_USER=warren
# The iperf3 server listens on the host's 127.0.0.1; the client runs inside
# the namespace and dials the gateway address that the driver maps to the
# host's loopback (uplink: 10.0.2.2, stock: 10.0.2.1). "out" = namespace
# sends, "in" = -R, the host sends. PROFILE=1 writes the uplink parent's CPU
# profile of each run to $OUT/*.pprof.
set -eu

RUNS=${RUNS:-3}
DUR=${DUR:-10}
MTU=${MTU:-65520}
PORT=${PORT:-5299}
BENCH_USER=${BENCH_USER:-warren}

if [ "$(id -u)" = 0 ]; then
	here=$(cd "$(dirname "$0")" && pwd)
	out=$(mktemp -d /tmp/uplink-bench.XXXXXX)
	(cd "$here" && go build -o "$out/nsrun" ./internal/nsrun)
	chmod 755 "$out"
	chown -R "$BENCH_USER" "$out"
	uid=$(id -u "$BENCH_USER")
	exec su - "$BENCH_USER" -c "XDG_RUNTIME_DIR=/run/user/$uid NSRUN=$out/nsrun OUT=$out RUNS=$RUNS DUR=$DUR MTU=$MTU PORT=$PORT PROFILE=${PROFILE:-0} sh $here/bench.sh"
fi

: "${NSRUN:?set NSRUN to the nsrun binary}"
OUT=${OUT:-$(mktemp -d)}

# server starts a one-test iperf3 server on the host's loopback and waits
# until it listens.
server() {
	rm -f "$OUT/server.log"
	iperf3 -s -1 -B 127.0.0.1 -p "$PORT" --forceflush >"$OUT/server.log" 2>&1 &
	server_pid=$!
	i=0
	until grep -q "Server listening" "$OUT/server.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "iperf3 server did not start" >&2; exit 1; }
		sleep 0.05
	done
}

# rate prints the receiver-side Gbit/s of an iperf3 client run (stdin).
rate() { awk '/receiver/ { print $7 }' | tail -n 1; }

# measure NAME CLIENT-ARGS...: one run, appended to $OUT/NAME.
measure() {
	name=$1
	shift
	server
	r=$("$@" 2>"$OUT/$name.err" | rate)
	# A client that never connected leaves the one-test server waiting.
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	echo "${r:-0}" >>"$OUT/$name"
	printf '%-12s %s\n' "$name" "${r:-FAILED}"
}

client() { echo iperf3 -f g -t "$DUR" -p "$PORT" -c "$@"; }

run_in() { # driver gateway [-R] [profile]
	drv=$1 gw=$2
	shift 2
	prof=
	if [ "${PROFILE:-0}" = 1 ] && [ "$drv" = uplink ]; then
		prof="-cpuprofile $OUT/uplink${1:-}-$round.pprof"
	fi
	# shellcheck disable=SC2086,SC2046
	"$NSRUN" -driver "$drv" -mtu "$MTU" $prof -- $(client "$gw" "$@")
}

rm -f "$OUT"/lo* "$OUT"/uplink* "$OUT"/stock*
round=1
while [ $round -le "$RUNS" ]; do
	echo "round $round"
	# shellcheck disable=SC2046
	measure lo-out $(client 127.0.0.1)
	# shellcheck disable=SC2046
	measure lo-in $(client 127.0.0.1 -R)
	measure uplink-out run_in uplink 10.0.2.2
	measure stock-out run_in stock 10.0.2.1
	measure uplink-in run_in uplink 10.0.2.2 -R
	measure stock-in run_in stock 10.0.2.1 -R
	round=$((round + 1))
done

median() { sort -g "$OUT/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "MTU $MTU, $RUNS runs of ${DUR}s, median Gbit/s (all runs), ratios of medians"
for dir in out in; do
	lo=$(median lo-$dir)
	up=$(median uplink-$dir)
	st=$(median stock-$dir)
	printf '%-3s lo %6s (%s)  uplink %6s (%s)  stock %6s (%s)  uplink/stock %s  uplink/lo %s\n' \
		"$dir" "$lo" "$(tr '\n' ' ' <"$OUT/lo-$dir" | sed 's/ $//')" \
		"$up" "$(tr '\n' ' ' <"$OUT/uplink-$dir" | sed 's/ $//')" \
		"$st" "$(tr '\n' ' ' <"$OUT/stock-$dir" | sed 's/ $//')" \
		"$(echo "$up $st" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }')" \
		"$(echo "$up $lo" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }')"
done
echo "raw figures and logs: $OUT"
