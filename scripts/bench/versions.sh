#!/usr/bin/env bash
# Prints "name: value" lines: the machine and every tool's version, for the
# header of docs/BENCHMARKS.md. $1 is the warren binary.
v() { printf '%s: %s\n' "$1" "$(eval "$2" 2>/dev/null | grep -v -e syslog -e 'shared mount' | head -1 | sed 's/^ *//')"; }
v machine "echo \"\$(nproc) cores, \$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), \$(awk '/MemTotal/ {printf \"%.0f GiB\", \$2/1048576}' /proc/meminfo)\""
v os "grep PRETTY_NAME /etc/os-release | cut -d= -f2 | tr -d '\"'"
v kernel "uname -r"
v warren "'$1' --version"
v podman "podman --version"
v runc "runc --version"
v conmon "conmon --version"
v slirp4netns "slirp4netns --version | tr '\n' ' '"
v passt/pasta "dpkg-query -W -f='\${Version}' passt"
v rootlesskit "rootlesskit --version"
v iperf3 "iperf3 --version"
v busybox "busybox --help | head -1"
v podman-settings "podman info --format 'storage {{.Store.GraphDriverName}}, runtime {{.Host.OCIRuntime.Name}}, cgroups {{.Host.CgroupsVersion}} {{.Host.CgroupManager}}, network {{.Host.NetworkBackend}}'"
