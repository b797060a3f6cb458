#!/usr/bin/env bash
# Prepares a machine, as root, for running warren as an unprivileged user:
# the packages it needs, a user with subordinate ids, a usable /dev/net/tun
# and the user's runtime folder. Safe to run again: it only changes what is
# missing and prints one line per change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

user="$WARREN_TEST_USER"
subid_count=65536

if ! is_root; then
	echo "setup-root.sh: must run as root" >&2
	exit 1
fi

changed() { echo "setup-root: $*"; }

# Packages: newuidmap/newgidmap (uidmap), the busybox the test images are
# built from, ip, nsenter/unshare, nc (RootlessKit's port-driver suite), the
# C toolchain the race detector of the unit tests links with, systemd-analyze
# (systemd) that checks the units of `warren setup`, script(1) (bsdutils) that
# gives `system reset` a terminal, and zsh and fish that load the completion
# scripts.
install_packages() {
	local missing=() pkg
	for pkg in uidmap busybox-static iproute2 util-linux netcat-openbsd gcc libc6-dev systemd bsdutils zsh fish; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return
	# Update the lists only when an install is needed: it is the slow part.
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	changed "installed ${missing[*]}"
}

ensure_user() {
	if ! id -u "$user" >/dev/null 2>&1; then
		useradd --create-home --shell /bin/bash "$user"
		changed "created user $user"
	fi
	local home
	home="$(getent passwd "$user" | cut -d: -f6)"
	if [ ! -d "$home" ]; then
		mkdir -p "$home"
		chown "$user:$(id -gn "$user")" "$home"
		changed "created home $home"
	fi
}

# free_subid_start prints the first start at or above 100000 that does not
# overlap any range already in the file.
free_subid_start() {
	awk -F: -v want=100000 '
		NF >= 3 { end = $2 + $3; if (end > max) max = end }
		END { if (max < want) max = want; print max }' "$1"
}

ensure_subids() {
	local file="$1" start
	touch "$file"
	if grep -q "^${user}:" "$file"; then
		return
	fi
	start="$(free_subid_start "$file")"
	echo "${user}:${start}:${subid_count}" >>"$file"
	changed "added ${user}:${start}:${subid_count} to $file"
}

ensure_tun() {
	if [ ! -c /dev/net/tun ]; then
		modprobe tun 2>/dev/null || true
	fi
	if [ ! -c /dev/net/tun ]; then
		mkdir -p /dev/net
		mknod /dev/net/tun c 10 200
		changed "created /dev/net/tun"
	fi
	if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
		chmod 0666 /dev/net/tun
		changed "made /dev/net/tun mode 0666"
	fi
}

# Debian before 11 and some hardened kernels keep unprivileged user
# namespaces off; warren cannot work without them.
ensure_userns() {
	local knob=/proc/sys/kernel/unprivileged_userns_clone
	if [ -w "$knob" ] && [ "$(cat "$knob")" = 0 ]; then
		echo 1 >"$knob"
		changed "enabled kernel.unprivileged_userns_clone"
	fi
	knob=/proc/sys/user/max_user_namespaces
	if [ -w "$knob" ] && [ "$(cat "$knob")" = 0 ]; then
		echo 15000 >"$knob"
		changed "set user.max_user_namespaces=15000"
	fi
}

# There is no logind here to make XDG_RUNTIME_DIR, so make it as logind would.
ensure_runtime_dir() {
	local uid dir group
	uid="$(id -u "$user")"
	group="$(id -gn "$user")"
	dir="/run/user/$uid"
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		changed "created $dir"
	fi
	if [ "$(stat -c %U:%G "$dir")" != "$user:$group" ]; then
		chown "$user:$group" "$dir"
		changed "gave $dir to $user"
	fi
	if [ "$(stat -c %a "$dir")" != 700 ]; then
		chmod 0700 "$dir"
		changed "made $dir mode 0700"
	fi
}

install_packages
ensure_user
ensure_subids /etc/subuid
ensure_subids /etc/subgid
ensure_tun
ensure_userns
ensure_runtime_dir
