# Shared by test.sh and demo.sh: who runs warren, and how to run a command
# as that user when the script starts as root.
# shellcheck shell=bash

WARREN_TEST_USER="${WARREN_TEST_USER:-warren}"

is_root() { [ "$(id -u)" -eq 0 ]; }

# check_prerequisites tells, for a non-root run, what setup-root.sh would
# have fixed; warren cannot start without these.
check_prerequisites() {
	local ok=1
	command -v newuidmap >/dev/null || { echo "missing newuidmap: apt-get install uidmap" >&2; ok=0; }
	grep -q "^$(id -un):" /etc/subuid 2>/dev/null || { echo "no subordinate uids for $(id -un) in /etc/subuid" >&2; ok=0; }
	[ -r /dev/net/tun ] && [ -w /dev/net/tun ] || { echo "/dev/net/tun is not usable: chmod 0666 /dev/net/tun" >&2; ok=0; }
	[ "$ok" = 1 ]
}

# as_user runs a command as the test user with a login-like environment
# (HOME, XDG_RUNTIME_DIR) but without PAM sessions, which CI does not have.
# Extra environment is passed as NAME=value words before the command.
as_user() {
	local uid home cmd
	uid="$(id -u "$WARREN_TEST_USER")"
	home="$(getent passwd "$WARREN_TEST_USER" | cut -d: -f6)"
	cmd="$(printf '%q ' env -i \
		"HOME=$home" "USER=$WARREN_TEST_USER" "LOGNAME=$WARREN_TEST_USER" \
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		"XDG_RUNTIME_DIR=/run/user/$uid" "TERM=${TERM:-dumb}" "$@")"
	su -s /bin/sh "$WARREN_TEST_USER" -c "$cmd"
}

# stage copies built artifacts into a fresh folder the test user can read,
# since the checkout may live under root's home. Prints the folder.
stage() {
	local dir
	dir="$(mktemp -d /tmp/warren-stage.XXXXXX)"
	chmod 0755 "$dir"
	cp -r "$@" "$dir/"
	chmod -R a+rX "$dir"
	echo "$dir"
}
