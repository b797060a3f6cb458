package engine

import (
	"strings"
)

// This file renders /etc/hosts the Docker way (docker-behavior 2.1). It is
// kept apart because the linker package will own this rendering once links
// land; the engine then only supplies the inputs.

// hostsInput is what a container's hosts file is made from.
type hostsInput struct {
	hostname, domainname string
	ip                   string   // the container's IPv4 on the bridge; "" = none yet
	extraHosts           []string // --add-host "name:ip" (or "name=ip")
	ipv6                 bool     // the container's lo has ::1
}

// hostsFile renders Docker's layout: IPv4 localhost, the IPv6 block, each
// --add-host in order, then the container's own address and name.
func hostsFile(in hostsInput) []byte {
	var b strings.Builder
	rec := func(ip, names string) { b.WriteString(ip + "\t" + names + "\n") }
	rec("127.0.0.1", "localhost")
	if in.ipv6 {
		rec("::1", "localhost ip6-localhost ip6-loopback")
		rec("fe00::", "ip6-localnet")
		rec("ff00::", "ip6-mcastprefix")
		rec("ff02::1", "ip6-allnodes")
		rec("ff02::2", "ip6-allrouters")
	}
	for _, h := range in.extraHosts {
		name, ip, ok := cutExtraHost(h)
		if ok {
			rec(ip, name)
		}
	}
	if in.ip != "" {
		rec(in.ip, ownNames(in.hostname, in.domainname))
	}
	return []byte(b.String())
}

// cutExtraHost splits "name:ip" (IPv6 addresses contain ':' too, so the
// first ':' separates) or the newer "name=ip".
func cutExtraHost(h string) (name, ip string, ok bool) {
	if n, i, ok := strings.Cut(h, "="); ok {
		return n, strings.Trim(i, "[]"), true
	}
	n, i, ok := strings.Cut(h, ":")
	return n, strings.Trim(i, "[]"), ok
}

// ownNames is "hostname[.domainname]" and, when that has a dot, its short
// part too (Docker's makeHostsRecs).
func ownNames(hostname, domainname string) string {
	fqdn := hostname
	if domainname != "" {
		fqdn += "." + domainname
	}
	if short, _, ok := strings.Cut(fqdn, "."); ok {
		return fqdn + " " + short
	}
	return fqdn
}
