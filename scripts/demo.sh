#!/usr/bin/env bash
# make demo: Docker's container-linking guide (port mapping, naming, links)
# on the demo images, printing each command and its real output. Started as
# root, it prepares the machine and runs the walkthrough as
# $WARREN_TEST_USER. Any step that fails or prints the wrong thing stops it
# with a non-zero status.
set -euo pipefail

# The outer part prepares and hands over; the walkthrough below runs from a
# staged copy of this script and the library, without the checkout.
if [ "${1:-}" != "--walkthrough" ]; then
	cd "$(dirname "$0")/.."
	. scripts/lib.sh
	prepare_machine
	make --no-print-directory build images >/dev/null
	stage_dir="$(stage bin/warren tests/images/out scripts/demo.sh scripts/lib.sh)"
	trap 'rm -rf "$stage_dir"' EXIT
	run_as_test_user "WARREN_BIN=$stage_dir/warren" "WARREN_IMAGES=$stage_dir/out" \
		bash "$stage_dir/demo.sh" --walkthrough
	exit
fi

# The walkthrough, as the unprivileged user, on a private daemon so that it
# neither sees nor leaves anything in the user's own.
. "$(dirname "$0")/lib.sh"
bin="$WARREN_BIN"
images="$WARREN_IMAGES"
root="$(mktemp -d /tmp/warren-demo.XXXXXX)"
export WARREN_RUNTIME_DIR="$root/run" WARREN_DATA_DIR="$root/data"
mkdir -p "$WARREN_RUNTIME_DIR" "$WARREN_DATA_DIR"
daemon_pid=""

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$root" 2>/dev/null || unshare --user --map-auto --map-root-user rm -rf "$root" || true
}
trap cleanup EXIT

warren() { "$bin" "$@"; }

fail() {
	printf '\ndemo: %s\n' "$*" >&2
	if [ -s "$root/daemon.log" ]; then
		printf 'last lines of the daemon log:\n' >&2
		tail -n 20 "$root/daemon.log" >&2
	fi
	exit 1
}

section() { printf '\n\n### %s\n' "$*"; }

# show prints the command as a user would type it, runs it, prints its
# output and keeps it in $out for the checks that follow.
show() {
	printf '\n$ warren %s\n' "$(quote "$@")"
	out="$(warren "$@" 2>&1)" || { printf '%s\n' "$out"; fail "warren $* failed"; }
	[ -z "$out" ] || printf '%s\n' "$out"
}

# quote renders arguments the way they would be typed: plain words bare,
# anything with spaces or shell characters in double quotes.
quote() {
	local a words=()
	for a in "$@"; do
		case "$a" in
		*[!A-Za-z0-9_./:=,@%+-]* | "") words+=("\"$a\"") ;;
		*) words+=("$a") ;;
		esac
	done
	printf '%s' "${words[*]}"
}

# expect checks that the last output holds text.
expect() {
	case "$out" in
	*"$1"*) ;;
	*) fail "expected the output above to contain: $1" ;;
	esac
}

# fetch gets a URL from the host, as a browser would, with whichever client
# the host has; it retries for a few seconds while the app starts.
fetch() {
	local url="$1" tool
	if command -v curl >/dev/null; then
		tool=(curl -fsS --max-time 5)
	elif command -v wget >/dev/null; then
		tool=(wget -qO- --timeout=5)
	elif command -v python3 >/dev/null; then
		tool=(python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())')
	else
		fail "no curl, wget or python3 on this host to fetch $url"
	fi
	printf '\n$ %s %s\n' "${tool[0]}" "$url"
	for _ in $(seq 1 50); do
		if out="$("${tool[@]}" "$url" 2>&1)"; then
			printf '%s\n' "$out"
			return
		fi
		sleep 0.1
	done
	printf '%s\n' "$out"
	fail "could not fetch $url"
}

# host_port is the host port `warren port NAME PORT` reports first.
host_port() {
	local mapping
	mapping="$(warren port "$1" "$2" | head -n 1)"
	[ -n "$mapping" ] || fail "no host port for $1 $2"
	printf '%s' "${mapping##*:}"
}

# ip_of is a container's bridge address.
ip_of() { warren inspect -f '{{.NetworkSettings.IPAddress}}' "$1"; }

all_names=(web web2 web-local web-any web-udp db)

"$bin" daemon >"$root/daemon.log" 2>&1 &
daemon_pid=$!
# Wait for the socket itself: a warren command would start a second daemon
# of its own (without this one's pid to stop) if it ran too early.
for _ in $(seq 1 300); do
	[ -S "$WARREN_RUNTIME_DIR/warren.sock" ] && break
	kill -0 "$daemon_pid" 2>/dev/null || fail "warren daemon exited"
	sleep 0.1
done
[ -S "$WARREN_RUNTIME_DIR/warren.sock" ] || fail "warren daemon did not start"
check_prerequisites "$bin" || fail "prerequisites missing"
# Leftovers of an earlier run would make the names below conflict.
warren rm -f "${all_names[@]}" >/dev/null 2>&1 || true

section "Load the demo images"
show load -i "$images/busybox.tar"
show load -i "$images/webapp.tar"
show load -i "$images/db.tar"
show images
expect "warren/webapp"

section "Connect using network port mapping"
show run -d -P --name web warren/webapp
show ps
expect "->5000/tcp"
show port web 5000
fetch "http://127.0.0.1:$(host_port web 5000)/"
expect "Hello world!"
show run -d -p 127.0.0.1:5001:5000 --name web-local warren/webapp
show port web-local 5000
expect "127.0.0.1:5001"
fetch "http://127.0.0.1:5001/"
expect "Hello world!"
show run -d -p 127.0.0.1::5000 --name web-any warren/webapp
show port web-any
expect "5000/tcp -> 127.0.0.1:"
show run -d -p 127.0.0.1:5002:5000/udp --name web-udp warren/webapp
show port web-udp
expect "5000/udp -> 127.0.0.1:5002"
show ps --format "table {{.Names}}\t{{.Ports}}"
show rm -f web web-local web-any web-udp

section "The importance of naming"
show run -d -P --name web warren/webapp
show ps -l
expect "web"
show inspect -f "{{ .Name }}" web
expect "/web"
show rm -f web

section "Communication across links"
show run -d --name db warren/db
show run -d -P --name web --link db:db warren/webapp
show inspect -f "{{ .HostConfig.Links }}" web
expect "[/db:/web/db]"
show ps --no-trunc --format "table {{.Names}}\t{{.Image}}"
expect "db,web/db"
show run --rm --name web2 --link db:db warren/webapp env
expect "DB_PORT_5432_TCP_ADDR=$(ip_of db)"
expect "DB_NAME=/web2/db"
show exec web cat /etc/hosts
expect "$(ip_of db)	db "
show exec web ping -c 1 db
expect "1 packets received"
web_port="$(host_port web 5000)"
fetch "http://127.0.0.1:$web_port/"
expect "Database: connected to $(ip_of db):5432"

section "Updating the /etc/hosts file"
old_ip="$(ip_of db)"
show restart db
new_ip="$(ip_of db)"
printf '# db moved from %s to %s; the linked container'"'"'s /etc/hosts follows it:\n' "$old_ip" "$new_ip"
show exec web cat /etc/hosts
expect "$new_ip	db "
show exec web ping -c 1 db
expect "($new_ip)"
printf '\n# Link variables are fixed when a container starts, as in Docker: the app\n'
printf '# still dials the old address from DB_PORT_5432_TCP_ADDR...\n'
fetch "http://127.0.0.1:$web_port/"
expect "Database: unreachable at $old_ip:5432"
printf '\n# ...until web restarts and gets fresh variables:\n'
show restart web
web_port="$(host_port web 5000)"
fetch "http://127.0.0.1:$web_port/"
expect "Database: connected to $new_ip:5432"

section "Clean up"
show rm -f web db
show ps -a
printf '\ndemo: done\n'
