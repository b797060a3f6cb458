#!/usr/bin/env bash
# make demo: a short walk through a container's life on the demo images,
# printing each command and its real output. Started as root, it prepares
# the machine and runs the walkthrough as $WARREN_TEST_USER.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if [ "${1:-}" != "--walkthrough" ]; then
	if is_root; then
		scripts/setup-root.sh
	fi
	make --no-print-directory build images >/dev/null
	if is_root; then
		stage_dir="$(stage bin/warren tests/images/out scripts/demo.sh)"
		trap 'rm -rf "$stage_dir"' EXIT
		as_user "WARREN_BIN=$stage_dir/warren" "WARREN_IMAGES=$stage_dir/out" \
			bash "$stage_dir/demo.sh" --walkthrough
	else
		check_prerequisites
		WARREN_BIN="$PWD/bin/warren" WARREN_IMAGES="$PWD/tests/images/out" scripts/demo.sh --walkthrough
	fi
	exit
fi

# The walkthrough, as the unprivileged user, on a private daemon so that it
# neither sees nor leaves anything in the user's own.
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

# show prints the command as a user would type it, then runs it.
show() {
	printf '\n$ warren %s\n' "$*"
	warren "$@"
}

"$bin" daemon >"$root/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do
	warren version >/dev/null 2>&1 && break
	sleep 0.1
done

show load -i "$images/busybox.tar"
show load -i "$images/db.tar"
show load -i "$images/webapp.tar"
show images
show run -d --name db warren/db
show run --rm busybox echo "hello from a rootless container"
show ps
show logs db
show exec db sh -c 'echo "inside db: hostname $(hostname), user $(id -un)"'
show stop -t 1 db
show ps -a
show start db
show ps
show rm -f db
show ps -a
