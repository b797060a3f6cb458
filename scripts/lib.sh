# The shell library of make test, make demo and make bench, as RootlessKit's
# hack/common.inc.sh is for its scripts: who runs warren, preparing the
# machine when started as root, staging what was built where that user can
# read it, running as that user, and the one prerequisite check.
# shellcheck shell=bash

WARREN_TEST_USER="${WARREN_TEST_USER:-warren}"

is_root() { [ "$(id -u)" -eq 0 ]; }

# prepare_machine [SETUP]: started as root, makes the machine ready for the
# test user with scripts/setup-root.sh (or SETUP, which runs it too). As a
# user it changes nothing: check_prerequisites names what is missing.
prepare_machine() {
	is_root || return 0
	"${1:-scripts/setup-root.sh}"
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

# run_as_test_user NAME=value... CMD...: CMD with that environment added,
# as the test user when started as root (as_user), else as the caller.
run_as_test_user() {
	if is_root; then
		as_user "$@"
	else
		env "$@"
	fi
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

# check_prerequisites WARREN: the one check of what warren needs is
# `warren info`, whose exit status says whether everything is there and
# whose output names the fix for what is not. Run it with the folders of a
# daemon that already answers (info starts one otherwise).
check_prerequisites() {
	local out
	if ! out="$("$1" info 2>&1)"; then
		printf '%s\n' "$out" >&2
		echo "warren info failed: this machine lacks what warren needs (as root, scripts/setup-root.sh prepares it)" >&2
		return 1
	fi
}
