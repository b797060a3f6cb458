#!/usr/bin/env bash
# Prepares the machine, as root, for `make bench`: what warren needs (the
# project's own scripts/setup-root.sh), the peers from Debian's packages,
# and the test user's Podman configuration. Safe to run again: it changes
# only what is missing and prints one line per change.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

if ! is_root; then
	echo "setup-peers.sh: must run as root" >&2
	exit 1
fi
scripts/setup-root.sh

changed() { echo "setup-peers: $*"; }

# runc: crun 1.8 refuses this hybrid-cgroup machine (peers-measured.md);
# fuse-overlayfs only as Podman's fallback, native overlay is what runs.
packages=(podman netavark aardvark-dns catatonit slirp4netns passt rootlesskit uidmap iperf3 runc fuse-overlayfs busybox-static)
missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	changed "installed ${missing[*]}"
fi

# Podman's per-user configuration. Without storage.conf this Podman picks
# vfs (a full copy per container); without containers.conf it picks crun,
# which fails on hybrid cgroups. Written only when absent, so a user's own
# configuration wins.
home="$(getent passwd "$WARREN_TEST_USER" | cut -d: -f6)"
group="$(id -gn "$WARREN_TEST_USER")"
conf="$home/.config/containers"
write_conf() {
	local file="$conf/$1"
	[ -e "$file" ] && return
	install -d -o "$WARREN_TEST_USER" -g "$group" -m 0755 "$home/.config" "$conf"
	printf '%s\n' "$2" >"$file"
	chown "$WARREN_TEST_USER:$group" "$file"
	changed "wrote $file"
}
write_conf storage.conf $'[storage]\ndriver = "overlay"'
write_conf containers.conf $'[engine]\nruntime = "runc"\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n\n[network]\nnetwork_backend = "netavark"'
