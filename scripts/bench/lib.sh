# Helpers shared by the bench scripts, run as the unprivileged user.
# Raw results: $RESULTS/<figure>.<source>.txt holds one value per run, or
# "NOTYET reason" / "FAIL reason" lines; <figure>.<source>.cmd holds the
# exact command that produced them. gendoc turns these into the table.
# The knobs are defined here only; bench.sh reads them from here too and
# hands them to run.sh.
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RUNS="${RUNS:-3}"       # rounds of every throughput and connection figure
DUR="${DUR:-10}"        # iperf3 seconds per run
N="${N:-10}"            # start-latency samples per command
CONNS="${CONNS:-2000}"  # connections per short-connection run
CONC="${CONC:-8}"       # in flight at once for the concurrent figure
SCALE="${SCALE:-100}"   # containers for the memory and start-100 figures
CLIENTS="${CLIENTS:-1000}" # concurrent clients through one published port
PORT="${PORT:-25201}"   # host port of every single-server figure
MEMPORT="${MEMPORT:-26000}" # first host port of the SCALE idle containers
BENCH_KNOBS=(RUNS DUR N CONNS CONC SCALE CLIENTS PORT MEMPORT)
IMG=localhost/warrenbench:latest

log() { echo "[$(date +%T)] $*" >&2; }

# record FIGURE SOURCE VALUE: one more run of a figure.
record() { echo "$3" >>"$RESULTS/$1.$2.txt"; log "$1 $2 = $3"; }

# command FIGURE SOURCE TEXT: the exact command, written once.
command_of() { [ -f "$RESULTS/$1.$2.cmd" ] || printf '%s\n' "$3" >"$RESULTS/$1.$2.cmd"; }

# gbps: receiver-side Gbit/s from iperf3 -f g text on stdin, or nothing.
gbps() { awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") v = $(i-1) } END { if (v != "") print v }'; }

# cps: connections per second from connload's line on stdin, or nothing
# when not one connection succeeded (a rate of 0 would read as a result).
cps() { sed -n 's/^conns_per_s=\([0-9.]*\) ok=[1-9].*/\1/p'; }

# first_line FILE: the first non-empty line of an error file, one line.
first_line() { grep -v -e '^$' -e 'is not a shared mount' "$1" 2>/dev/null | head -1 | tr -d '\r' | cut -c1-160; }

# wait_file FILE TEXT: up to 15 s for TEXT to appear in FILE.
wait_file() { for _ in $(seq 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# wait_logs TOOL NAME TEXT: up to 15 s for TEXT in a container's log.
wait_logs() { for _ in $(seq 150); do "$1" logs "$2" 2>&1 | grep -q "$3" && return 0; sleep 0.1; done; return 1; }

# stop_pid PID: end a process this script started, by its pid.
stop_pid() { [ -n "${1:-}" ] && kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }

# ms CMD...: wall milliseconds of a command; fails with it.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$TMPD/ms.err" || return 1
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1e6 }'
}

# tree PID: the pid and all its descendants.
tree() {
	local p c
	for p in "$@"; do
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
	done
}

# rss_kib PID...: summed VmRSS (status is readable for every process).
rss_kib() { local s=0 p r; for p in "$@"; do r=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null); s=$((s + ${r:-0})); done; echo "$s"; }

# fds PID...: summed open descriptors; "" when one cannot be read.
fds() {
	local s=0 p n
	for p in "$@"; do
		n=$(ls /proc/"$p"/fd 2>/dev/null | wc -l) || return 0
		[ "$n" -gt 0 ] || { echo ""; return 0; }
		s=$((s + n))
	done
	echo "$s"
}
