#!/usr/bin/env bash
# Runs every benchmark figure as the unprivileged user and leaves raw
# results in $RESULTS (see lib.sh). warren runs on a private daemon started
# here, with its own runtime and data folders, so the user's own daemon is
# neither measured nor touched. A warren feature that does not work yet
# records "NOTYET reason" for its rows; a failing peer records "FAIL".
# Usage: run.sh BENCH_DIR RESULTS   (BENCH_DIR holds warren, connserver,
# connload, splicerelay and bench-image.tar)
set -uo pipefail
BENCH_DIR="$(cd "$1" && pwd)"
RESULTS="$2"
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"

if is_root; then
	echo "run.sh: run as the unprivileged user, not root" >&2
	exit 1
fi
mkdir -p "$RESULTS"
TMPD="$(mktemp -d /tmp/warren-bench.XXXXXX)"
CONNSERVER="$BENCH_DIR/connserver"
CONNLOAD="$BENCH_DIR/connload"
RELAY="$BENCH_DIR/splicerelay"
RKSD="$XDG_RUNTIME_DIR/wb-rk"
export PATH="$BENCH_DIR:$PATH"

# ---- warren: a private daemon, warm for every figure
export WARREN_RUNTIME_DIR="$TMPD/run" WARREN_DATA_DIR="$TMPD/data"
mkdir -p "$WARREN_RUNTIME_DIR" "$WARREN_DATA_DIR"
WARREN="$BENCH_DIR/warren"
W_PID=""
W_WHY=""
w() { "$WARREN" "$@"; }

start_warren() {
	if [ ! -x "$WARREN" ]; then
		W_WHY="bin/warren does not build"
		return
	fi
	"$WARREN" daemon >"$TMPD/daemon.log" 2>&1 &
	W_PID=$!
	# Wait for the socket itself: a warren command run too early would
	# start a second daemon of its own, which stop_warren would not stop.
	for _ in $(seq 300); do
		[ -S "$WARREN_RUNTIME_DIR/warren.sock" ] && break
		kill -0 "$W_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! w version >/dev/null 2>"$TMPD/w.err"; then
		W_WHY="daemon does not start: $(first_line "$TMPD/daemon.log")"
		[ -n "$W_WHY" ] || W_WHY="daemon does not start: $(first_line "$TMPD/w.err")"
		return
	fi
	if ! check_prerequisites "$WARREN" 2>"$TMPD/w.err"; then
		W_WHY="prerequisites missing: $(grep -m1 MISSING "$TMPD/w.err" | tr -s ' ')"
		return
	fi
	if ! w load -i "$BENCH_DIR/bench-image.tar" >/dev/null 2>"$TMPD/w.err"; then
		W_WHY="warren load: $(first_line "$TMPD/w.err")"
	fi
}

stop_warren() {
	local ids
	if [ -z "$W_WHY" ]; then
		ids=$(w ps -aq 2>/dev/null)
		[ -n "$ids" ] && w rm -f $ids >/dev/null 2>&1
	fi
	stop_pid "$W_PID"
	# Container layers belong to sub-ids: remove them from inside a namespace.
	rm -rf "$TMPD" 2>/dev/null || unshare --user --map-auto --map-root-user rm -rf "$TMPD" 2>/dev/null || true
}

# warren_pids: the daemon's own processes (parent, engine, any helper
# running the warren binary); container payloads are left out.
warren_pids() {
	local p exe comm
	for p in $(tree "$W_PID"); do
		exe=$(readlink /proc/"$p"/exe 2>/dev/null)
		comm=$(cat /proc/"$p"/comm 2>/dev/null)
		if [ "$exe" = "$(readlink -f "$WARREN")" ] || [ "$comm" = warren ] || [ "$comm" = exe ]; then
			echo "$p"
		fi
	done
}

# podman_pids: this user's per-container Podman helpers and the shared ones
# (pause process, rootless netns), the payloads left out.
podman_pids() {
	local p args
	for p in $(pgrep -u "$(id -u)"); do
		args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
		case "$args" in
		*slirp4netns* | rootlessport* | */conmon* | catatonit* | *aardvark-dns*) echo "$p" ;;
		esac
	done
}

# notyet FIGURE CMD-TEXT: the warren row cannot run; say why.
warren_or_notyet() {
	[ -z "$W_WHY" ] && return 0
	echo "NOTYET $W_WHY"
	return 1
}

cleanup_all() {
	podman rm -f -t 0 $(podman ps -aq --filter name=wb- 2>/dev/null) >/dev/null 2>&1
	podman network rm -f wb-net >/dev/null 2>&1
	stop_warren
	rm -rf "$RKSD"
}
trap cleanup_all EXIT

. "$HERE/figures.sh"

log "results in $RESULTS"
"$HERE/versions.sh" "$WARREN" >"$RESULTS/versions.txt" 2>/dev/null
podman load -i "$BENCH_DIR/bench-image.tar" >/dev/null 2>&1 || log "podman load failed"
start_warren
[ -n "$W_WHY" ] && log "warren rows: not yet ($W_WHY)"
echo "$W_WHY" >"$RESULTS/warren-status.txt"

run_throughput
run_conns
run_start
run_memory_scale
run_clients
log "done"
