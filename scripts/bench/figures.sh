# The figures. Each fig_* function prints one number (or "NOTYET reason")
# as its last line; measure() records it. Sourced by run.sh, which defines
# w, warren_or_notyet, warren_pids, podman_pids and TMPD.
# shellcheck shell=bash

CLI="iperf3 -f g -t $DUR"
TMO=$((DUR + 30))
GW=$(ip -4 route show default 2>/dev/null | awk '{print $3; exit}') # pasta maps it to the host's loopback

# try STEP CMD...: run CMD; on failure keep "STEP: its first error line"
# as the reason measure() records.
try() {
	local step=$1
	shift
	"$@" 2>"$TMPD/try.err" && return 0
	echo "$step: $(first_line "$TMPD/try.err")" >"$TMPD/why"
	return 1
}

# measure FIGURE SOURCE FN ARGS...: one run of a figure, recorded.
measure() {
	local fig=$1 src=$2 v why
	shift 2
	rm -f "$TMPD/why"
	v=$("$@" 2>"$TMPD/err" | tail -1)
	if ! [[ $v =~ ^[0-9.]+$ ]]; then
		why=$(cat "$TMPD/why" 2>/dev/null)
		[ -n "$why" ] || why=$(first_line "$TMPD/err")
		case $v in
		NOTYET*) ;;
		*) if [ "$src" = warren ]; then v="NOTYET ${why:-no result}"; else v="FAIL ${why:-no result}"; fi ;;
		esac
	fi
	record "$fig" "$src" "$v"
}

# host_srv: iperf3 server on the host (all addresses), one test, then exit.
host_srv() {
	iperf3 -s -1 --forceflush -p "$PORT" >"$TMPD/srv" 2>&1 &
	HS=$!
	wait_file "$TMPD/srv" "Server listening"
}

# ---- a. kernel loopback on the host (every figure's physical limit)
fig_loopback() {
	host_srv
	timeout $TMO $CLI $1 -c 127.0.0.1 -p "$PORT" | gbps
	stop_pid "$HS"
}

# ---- b. -p inbound: iperf3 server in the container, client on the host
fig_in_warren() {
	warren_or_notyet || return
	try "warren run -d -p" w run -d --name wb-srv -p "$PORT:5201" "$IMG" iperf3 -s -1 --forceflush >/dev/null &&
		try "server start" wait_logs "$WARREN" wb-srv "Server listening" &&
		try "iperf3 through -p" timeout $TMO $CLI $1 -c 127.0.0.1 -p "$PORT" | gbps
	w rm -f wb-srv >/dev/null 2>&1
}
fig_in_podman() { # $1 network option ("" = default), $2 client flag
	podman run -d --name wb-srv $1 -p "$PORT:5201" "$IMG" iperf3 -s -1 --forceflush >/dev/null &&
		wait_logs podman wb-srv "Server listening" &&
		timeout $TMO $CLI $2 -c 127.0.0.1 -p "$PORT" | gbps
	podman rm -f -t 0 wb-srv >/dev/null 2>&1
}
fig_in_pasta() {
	pasta --config-net -q -t "$PORT:5201" -u none -T none -U none -- iperf3 -s -1 --forceflush >"$TMPD/srv" 2>&1 &
	local p=$!
	wait_file "$TMPD/srv" "Server listening" && timeout $TMO $CLI $1 -c 127.0.0.1 -p "$PORT" | gbps
	stop_pid $p
}
rk_start() { # $1 port driver; rest: command in RootlessKit's namespaces
	local driver=$1
	shift
	rm -rf "$RKSD"
	rootlesskit --state-dir="$RKSD" --net=slirp4netns --port-driver="$driver" -- "$@" >"$TMPD/srv" 2>&1 &
	RK=$!
	for _ in $(seq 100); do [ -S "$RKSD/api.sock" ] && break; sleep 0.1; done
}
fig_in_rk() {
	rk_start builtin iperf3 -s -1 --forceflush
	rootlessctl --socket "$RKSD/api.sock" add-ports "127.0.0.1:$PORT:5201/tcp" >/dev/null &&
		wait_file "$TMPD/srv" "Server listening" && timeout $TMO $CLI $1 -c 127.0.0.1 -p "$PORT" | gbps
	stop_pid "$RK"
}

# ---- c. egress: iperf3 server on the host's loopback, client in the container
fig_out_warren() {
	warren_or_notyet || return
	host_srv
	try "iperf3 to host.warren.internal" timeout $TMO "$WARREN" run --rm "$IMG" $CLI $1 -c host.warren.internal -p "$PORT" | gbps
	stop_pid "$HS"
}
fig_out_podman() {
	host_srv
	timeout $TMO podman run --rm --network slirp4netns:allow_host_loopback=true "$IMG" $CLI $1 -c 10.0.2.2 -p "$PORT" | gbps
	stop_pid "$HS"
}
fig_out_pasta() {
	host_srv
	timeout $TMO pasta --config-net -q -t none -u none -T none -U none -- $CLI $1 -c "$GW" -p "$PORT" | gbps
	stop_pid "$HS"
}
fig_out_rk() {
	host_srv
	rm -rf "$RKSD"
	timeout $TMO rootlesskit --state-dir="$RKSD" --net=slirp4netns --mtu=65520 -- $CLI $1 -c 10.0.2.2 -p "$PORT" | gbps
	stop_pid "$HS"
}

# ---- d. container -> container on one bridge
fig_c2c_warren() {
	warren_or_notyet || return
	local ip
	try "warren run -d" w run -d --name wb-srv "$IMG" iperf3 -s -1 --forceflush >/dev/null &&
		try "server start" wait_logs "$WARREN" wb-srv "Server listening" &&
		ip=$(try "warren inspect" w inspect -f '{{.NetworkSettings.IPAddress}}' wb-srv) &&
		{ [ -n "$ip" ] || { echo "warren inspect: the container has no IPAddress" >"$TMPD/why"; false; }; } &&
		try "iperf3 to $ip" timeout $TMO "$WARREN" run --rm "$IMG" $CLI -c "$ip" | gbps
	w rm -f wb-srv >/dev/null 2>&1
}
fig_c2c_podman() {
	podman network exists wb-net || podman network create wb-net >/dev/null
	local ip
	podman run -d --name wb-srv --network wb-net "$IMG" iperf3 -s -1 --forceflush >/dev/null &&
		wait_logs podman wb-srv "Server listening" &&
		ip=$(podman inspect -f '{{(index .NetworkSettings.Networks "wb-net").IPAddress}}' wb-srv) &&
		timeout $TMO podman run --rm --network wb-net "$IMG" $CLI -c "$ip" | gbps
	podman rm -f -t 0 wb-srv >/dev/null 2>&1
}

# ---- b'. the floor of any userland forwarder: a bare splice relay joins
# the client to a second connection on the host's loopback, to an iperf3
# server on the host (no namespace, no bridge)
fig_in_relay() {
	local relay_port=$((PORT + 1)) rp
	iperf3 -s -1 --forceflush -p "$relay_port" >"$TMPD/srv" 2>&1 &
	HS=$!
	"$RELAY" -listen "127.0.0.1:$PORT" -target "127.0.0.1:$relay_port" >"$TMPD/relay" 2>&1 &
	rp=$!
	wait_file "$TMPD/srv" "Server listening" && wait_file "$TMPD/relay" listening &&
		timeout $TMO $CLI $1 -c 127.0.0.1 -p "$PORT" | gbps
	stop_pid "$rp"
	stop_pid "$HS"
}

# figure|source|function and arguments|the exact command, for the docs
THROUGHPUT="
tp_in|loopback|fig_loopback ''|iperf3 -s -1 -p $PORT; $CLI -c 127.0.0.1 -p $PORT
tp_in|warren|fig_in_warren ''|warren run -d -p $PORT:5201 IMG iperf3 -s -1; $CLI -c 127.0.0.1 -p $PORT
tp_in|podman_rootlessport|fig_in_podman '' ''|podman run -d -p $PORT:5201 IMG iperf3 -s -1; $CLI -c 127.0.0.1 -p $PORT
tp_in|podman_slirp4netns|fig_in_podman '--network slirp4netns:port_handler=slirp4netns' ''|podman run -d --network slirp4netns:port_handler=slirp4netns -p $PORT:5201 IMG iperf3 -s -1; $CLI -c 127.0.0.1 -p $PORT
tp_in|pasta|fig_in_pasta ''|pasta --config-net -q -t $PORT:5201 -u none -T none -U none -- iperf3 -s -1; $CLI -c 127.0.0.1 -p $PORT
tp_in|rk_builtin|fig_in_rk ''|rootlesskit --net=slirp4netns --port-driver=builtin -- iperf3 -s -1; rootlessctl add-ports 127.0.0.1:$PORT:5201/tcp; $CLI -c 127.0.0.1 -p $PORT
tp_in|relay|fig_in_relay ''|iperf3 -s -1 -p $((PORT + 1)); splicerelay -listen 127.0.0.1:$PORT -target 127.0.0.1:$((PORT + 1)); $CLI -c 127.0.0.1 -p $PORT
tp_in_R|loopback|fig_loopback -R|iperf3 -s -1 -p $PORT; $CLI -R -c 127.0.0.1 -p $PORT
tp_in_R|warren|fig_in_warren -R|as tp_in, client -R
tp_in_R|podman_rootlessport|fig_in_podman '' -R|as tp_in, client -R
tp_in_R|podman_slirp4netns|fig_in_podman '--network slirp4netns:port_handler=slirp4netns' -R|as tp_in, client -R
tp_in_R|pasta|fig_in_pasta -R|as tp_in, client -R
tp_in_R|rk_builtin|fig_in_rk -R|as tp_in, client -R
tp_in_R|relay|fig_in_relay -R|as tp_in, client -R
tp_out|warren|fig_out_warren ''|iperf3 -s -1 -p $PORT (host); warren run --rm IMG $CLI -c host.warren.internal -p $PORT
tp_out|podman_slirp4netns|fig_out_podman ''|iperf3 -s -1 -p $PORT (host); podman run --rm --network slirp4netns:allow_host_loopback=true IMG $CLI -c 10.0.2.2 -p $PORT (MTU 65520, podman's default)
tp_out|pasta|fig_out_pasta ''|iperf3 -s -1 -p $PORT (host); pasta --config-net -q -t none -u none -T none -U none -- $CLI -c GATEWAY -p $PORT (default MTU 65520; GATEWAY = host's default gateway, mapped to its loopback)
tp_out|rk_slirp4netns|fig_out_rk ''|iperf3 -s -1 -p $PORT (host); rootlesskit --net=slirp4netns --mtu=65520 -- $CLI -c 10.0.2.2 -p $PORT
tp_out_R|warren|fig_out_warren -R|as tp_out, client -R
tp_out_R|podman_slirp4netns|fig_out_podman -R|as tp_out, client -R
tp_out_R|pasta|fig_out_pasta -R|as tp_out, client -R
tp_out_R|rk_slirp4netns|fig_out_rk -R|as tp_out, client -R
tp_c2c|warren|fig_c2c_warren|warren run -d --name wb-srv IMG iperf3 -s -1; warren run --rm IMG $CLI -c <wb-srv's IP>
tp_c2c|podman_bridge|fig_c2c_podman|podman network create wb-net; podman run -d --name wb-srv --network wb-net IMG iperf3 -s -1; podman run --rm --network wb-net IMG $CLI -c <wb-srv's IP>
"

# run_table TABLE ROUNDS: every row once per round, in order, so compared
# figures always run back to back (the machine is noisy).
run_table() {
	local table=$1 rounds=$2 r fig src fn text
	while IFS='|' read -r fig src fn text; do
		[ -n "$fig" ] && command_of "$fig" "$src" "$text"
	done <<<"$table"
	for r in $(seq "$rounds"); do
		log "round $r/$rounds"
		while IFS='|' read -r fig src fn text; do
			[ -n "$fig" ] || continue
			eval "measure $fig $src $fn"
		done <<<"$table"
	done
}

run_throughput() {
	log "== throughput ($RUNS rounds of $DUR s)"
	run_table "$THROUGHPUT" "$RUNS"
	podman network rm -f wb-net >/dev/null 2>&1
}

# ---- e. short connections through a published port (connserver, connload)
load() { "$CONNLOAD" -addr "127.0.0.1:$PORT" -n "$1" -c "$2" | cps; }
fig_conn_loopback() {
	"$CONNSERVER" -listen "127.0.0.1:$PORT" -idle 3s >"$TMPD/srv" 2>&1 &
	local p=$!
	wait_file "$TMPD/srv" listening && load "$@"
	stop_pid $p
}
fig_conn_warren() {
	warren_or_notyet || return
	try "warren run -d -p" w run -d --name wb-cs -p "$PORT:5300" "$IMG" connserver >/dev/null &&
		try "server start" wait_logs "$WARREN" wb-cs listening &&
		try "connload through -p" load "$@"
	w rm -f wb-cs >/dev/null 2>&1
}
fig_conn_podman() { # $1 network option, then n c
	local net=$1
	shift
	podman run -d --name wb-cs $net -p "$PORT:5300" "$IMG" connserver >/dev/null &&
		wait_logs podman wb-cs listening && load "$@"
	podman rm -f -t 0 wb-cs >/dev/null 2>&1
}
fig_conn_pasta() {
	# pasta's command must end by itself (killing pasta leaves it holding
	# the port), hence -idle.
	pasta --config-net -q -t "$PORT:5300" -u none -T none -U none -- "$CONNSERVER" -idle 3s >"$TMPD/srv" 2>&1 &
	local p=$!
	wait_file "$TMPD/srv" listening && load "$@"
	wait $p
}
fig_conn_rk() {
	rk_start builtin "$CONNSERVER" -idle 3s
	rootlessctl --socket "$RKSD/api.sock" add-ports "127.0.0.1:$PORT:5300/tcp" >/dev/null &&
		wait_file "$TMPD/srv" listening && load "$@"
	wait "$RK"
}

conn_rows() { # $1 figure, $2 concurrency
	local L="connload -addr 127.0.0.1:$PORT -n $CONNS -c $2"
	cat <<-ROWS
	$1|loopback|fig_conn_loopback $CONNS $2|connserver -listen 127.0.0.1:$PORT (host); $L
	$1|warren|fig_conn_warren $CONNS $2|warren run -d -p $PORT:5300 IMG connserver; $L
	$1|podman_rootlessport|fig_conn_podman '' $CONNS $2|podman run -d -p $PORT:5300 IMG connserver; $L
	$1|podman_slirp4netns|fig_conn_podman '--network slirp4netns:port_handler=slirp4netns' $CONNS $2|podman run -d --network slirp4netns:port_handler=slirp4netns -p $PORT:5300 IMG connserver; $L
	$1|pasta|fig_conn_pasta $CONNS $2|pasta --config-net -q -t $PORT:5300 -u none -T none -U none -- connserver -idle 3s; $L
	$1|rk_builtin|fig_conn_rk $CONNS $2|rootlesskit --net=slirp4netns --port-driver=builtin -- connserver -idle 3s; rootlessctl add-ports 127.0.0.1:$PORT:5300/tcp; $L
	ROWS
}

run_conns() {
	log "== short connections ($RUNS rounds of $CONNS)"
	run_table "$(conn_rows conn_seq 1; conn_rows conn_conc "$CONC")" "$RUNS"
}

# ---- f. start latency, warm daemon; samples interleaved
start_run_d_rm() { # $1 tool; rest: its rm -f options
	local tool=$1 t0 t1 id
	shift
	t0=$(date +%s%N)
	id=$("$tool" run -d "$IMG" sleep 1000) || return 1
	"$tool" rm -f "$@" "$id" >/dev/null || return 1
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1e6 }'
}
fig_start_warren_rm() { warren_or_notyet || return; try "warren run --rm" ms w run --rm "$IMG" true; }
fig_start_warren_d() { warren_or_notyet || return; try "warren run -d + rm -f" start_run_d_rm "$WARREN"; }

START="
start_run_rm|warren|fig_start_warren_rm|warren run --rm IMG true
start_run_rm|podman_default|ms podman run --rm $IMG true|podman run --rm IMG true (default network: slirp4netns)
start_run_rm|podman_none|ms podman run --rm --network none $IMG true|podman run --rm --network none IMG true
start_run_d_rm|warren|fig_start_warren_d|warren run -d IMG sleep 1000 + warren rm -f ID
start_run_d_rm|podman_default|start_run_d_rm podman -t 0|podman run -d IMG sleep 1000 + podman rm -f -t 0 ID (default network)
"

run_start() {
	log "== start latency ($N samples after a warm-up)"
	run_table "$START" 1 >/dev/null 2>&1 # warm-up, results dropped below
	rm -f "$RESULTS"/start_*.txt
	run_table "$START" "$N"
}

# ---- g. memory with 0, 10 and SCALE idle containers publishing a port, and
# the time to start SCALE of them
mem_sample() { # $1 tool, $2 containers, $3 source
	local pids
	sleep 2 # let the helpers settle after the last start
	if [ "$1" = warren ]; then pids=$(warren_pids); else pids=$(podman_pids); fi
	record "mem_$2" "$3" "$(awk -v k="$(rss_kib $pids)" 'BEGIN { printf "%.1f\n", k / 1024 }')"
	record "procs_$2" "$3" "$(echo $pids | wc -w)"
}

scale_round() { # $1 tool (warren|podman), $2 source
	local tool=$1 src=$2 i t0 t=0 run=("$WARREN") rm=("$WARREN" rm -f) ids
	[ "$tool" = podman ] && run=(podman) rm=(podman rm -f -t 0)
	mem_sample "$tool" 0 "$src"
	for i in $(seq "$SCALE"); do
		t0=$(date +%s%N)
		if ! "${run[@]}" run -d --name "wb-m$i" -p "$((MEMPORT + i)):5201" "$IMG" sleep 100000 >/dev/null 2>"$TMPD/err"; then
			local why="$tool run -d -p (container $i): $(first_line "$TMPD/err")"
			for f in mem_10 procs_10 mem_$SCALE procs_$SCALE start_$SCALE; do
				[ "$i" -le 10 ] || [ "${f%_10}" = "$f" ] || continue
				if [ "$tool" = warren ]; then record "$f" "$src" "NOTYET $why"; else record "$f" "$src" "FAIL $why"; fi
			done
			break
		fi
		t=$((t + $(date +%s%N) - t0))
		[ "$i" = 10 ] && mem_sample "$tool" 10 "$src"
		if [ "$i" = "$SCALE" ]; then
			record "start_$SCALE" "$src" "$(awk -v d=$t 'BEGIN { printf "%.2f\n", d / 1e9 }')"
			mem_sample "$tool" "$SCALE" "$src"
		fi
	done
	ids=$("${run[@]}" ps -aq 2>/dev/null)
	[ -n "$ids" ] && "${rm[@]}" $ids >/dev/null 2>&1
}

run_memory_scale() {
	log "== memory and start of $SCALE containers ($RUNS rounds)"
	local c="run -d --name wb-mI -p $MEMPORT+I:5201 IMG sleep 100000, I = 1..$SCALE, one after another"
	for f in mem_0 mem_10 "mem_$SCALE" procs_0 procs_10 "procs_$SCALE" "start_$SCALE"; do
		command_of "$f" warren "warren $c; RSS summed over the daemon's processes (VmRSS)"
		command_of "$f" podman_rootlessport "podman $c; RSS summed over conmon, rootlessport(-child), slirp4netns, catatonit"
	done
	for r in $(seq "$RUNS"); do
		log "round $r/$RUNS"
		if [ -n "$W_WHY" ]; then
			for f in mem_0 mem_10 "mem_$SCALE" procs_0 procs_10 "procs_$SCALE" "start_$SCALE"; do record "$f" warren "NOTYET $W_WHY"; done
		else
			scale_round warren warren
		fi
		scale_round podman podman_rootlessport
	done
}

# ---- h. CLIENTS concurrent clients through one published port, with the
# forwarder's descriptors before and after
clients_fds() { # $1 source; prints the forwarder's descriptor count
	local pids
	case $1 in
	warren) pids=$(warren_pids) ;;
	podman_rootlessport) pids=$(pgrep -u "$(id -u)" -f '^rootlessport') ;;
	rk_builtin) pids=$(tree "$RK") ;;
	esac
	fds $pids
}
clients_load() { # $1 source
	local before after v
	before=$(clients_fds "$1")
	v=$(load $((CLIENTS * 10)) "$CLIENTS")
	sleep 1
	after=$(clients_fds "$1")
	[ -n "$before" ] && record clients_fds_before "$1" "$before"
	# Without a single connection through, "after" would only repeat "before".
	[ -n "$after" ] && [ -n "$v" ] && record clients_fds_after "$1" "$after"
	echo "$v"
}
fig_clients_loopback() { fig_conn_loopback $((CLIENTS * 10)) "$CLIENTS"; }
fig_clients_warren() {
	warren_or_notyet || return
	try "warren run -d -p" w run -d --name wb-cs -p "$PORT:5300" "$IMG" connserver >/dev/null &&
		try "server start" wait_logs "$WARREN" wb-cs listening &&
		try "connload through -p" clients_load warren
	w rm -f wb-cs >/dev/null 2>&1
}
fig_clients_podman() {
	podman run -d --name wb-cs -p "$PORT:5300" "$IMG" connserver >/dev/null &&
		wait_logs podman wb-cs listening && clients_load podman_rootlessport
	podman rm -f -t 0 wb-cs >/dev/null 2>&1
}
fig_clients_rk() {
	rk_start builtin "$CONNSERVER" -idle 3s
	rootlessctl --socket "$RKSD/api.sock" add-ports "127.0.0.1:$PORT:5300/tcp" >/dev/null &&
		wait_file "$TMPD/srv" listening && clients_load rk_builtin
	wait "$RK"
}

run_clients() {
	log "== $CLIENTS concurrent clients ($RUNS rounds)"
	local L="connload -addr 127.0.0.1:$PORT -n $((CLIENTS * 10)) -c $CLIENTS"
	run_table "
clients|loopback|fig_clients_loopback|connserver -listen 127.0.0.1:$PORT (host); $L
clients|warren|fig_clients_warren|warren run -d -p $PORT:5300 IMG connserver; $L; descriptors of the daemon's processes
clients|podman_rootlessport|fig_clients_podman|podman run -d -p $PORT:5300 IMG connserver; $L; descriptors of rootlessport and rootlessport-child
clients|rk_builtin|fig_clients_rk|rootlesskit --net=slirp4netns --port-driver=builtin -- connserver; rootlessctl add-ports 127.0.0.1:$PORT:5300/tcp; $L; descriptors of rootlesskit's processes
" "$RUNS"
	if [ -n "$W_WHY" ]; then
		for r in $(seq "$RUNS"); do
			record clients_fds_before warren "NOTYET $W_WHY"
			record clients_fds_after warren "NOTYET $W_WHY"
		done
	fi
}
