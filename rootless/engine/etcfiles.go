package engine

// A container's /etc/hostname, /etc/hosts and /etc/resolv.conf are
// composed here and only here, from linker's and netstack's renderers
// (linker.Hosts, netstack.ResolvConf): at create, at every start (the
// container's address and its links), and with the host's own files for
// --network host. Links that change address later are followed by
// linker.UpdateLink, which rewrites only their lines.

import (
	"fmt"
	"net/netip"
	"os"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/linker"
	"warren/netstack"
)

// hostInternalName resolves to the host from every container: its own
// addresses, and its loopback only with the daemon's --host-loopback.
const hostInternalName = "host.warren.internal"

// etcFiles is what a container's three /etc files hold.
type etcFiles struct {
	hostname, hosts, resolvConf []byte
}

// etcFilesOf composes a container's /etc files: its hostname; for the
// bridge, the hosts file of its address, --add-host entries and links, and
// the resolv.conf derived from the engine's with its --dns options; with
// --network host, the host's own hosts and resolv.conf.
func (e *Engine) etcFilesOf(c *Container, ep *Endpoint, links []linker.LinkHost) etcFiles {
	cfg, hc := c.rec.Config, c.rec.HostConfig
	f := etcFiles{hostname: []byte(cfg.Hostname + "\n")}
	if hc.NetworkMode.IsHost() {
		f.hosts, _ = os.ReadFile("/etc/hosts")
		f.resolvConf, _ = os.ReadFile("/etc/resolv.conf")
		return f
	}
	f.hosts = e.hostsOf(c, ep, links).Render()
	f.resolvConf = e.resolvConfOf(hc)
	return f
}

// writeEtcFiles (re)writes hostname, hosts and resolv.conf. Files are
// rewritten in place (same inode) because they are bind-mounted into a
// running container.
func (e *Engine) writeEtcFiles(c *Container, ep *Endpoint, links []linker.LinkHost) error {
	if c.rec.HostConfig.NetworkMode.IsContainer() {
		return nil // the joined container's files are used
	}
	f := e.etcFilesOf(c, ep, links)
	files := map[string][]byte{
		c.hostnamePath():   f.hostname,
		c.hostsPath():      f.hosts,
		c.resolvConfPath(): f.resolvConf,
	}
	for p, data := range files {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path.Base(p), err)
		}
	}
	return nil
}

// hostsOf is what the container's /etc/hosts holds: host.warren.internal,
// --add-host entries, its links, and its own address while it has one.
func (e *Engine) hostsOf(c *Container, ep *Endpoint, links []linker.LinkHost) linker.Hosts {
	cfg, hc := c.rec.Config, c.rec.HostConfig
	h := linker.Hosts{IPv6: true, Hostname: cfg.Hostname, Domainname: cfg.Domainname, Links: links}
	if gw := e.hostGateway(); gw.IsValid() {
		h.Extra = append(h.Extra, linker.HostsEntry{IP: gw.String(), Names: []string{hostInternalName}})
	}
	for _, x := range hc.ExtraHosts {
		name, ip, err := e.extraHost(x)
		if err == nil {
			h.Extra = append(h.Extra, linker.HostsEntry{IP: ip, Names: []string{name}})
		}
	}
	if ep != nil && ep.IP.IsValid() {
		h.SelfIPs = []string{ep.IP.String()}
	}
	return h
}

// extraHost reads one --add-host: "name:ip", "name=ip", or an ip of
// "host-gateway", the host's address (see hostGateway).
func (e *Engine) extraHost(x string) (name, ip string, err error) {
	name, ip, ok := strings.Cut(x, "=")
	if !ok {
		name, ip, ok = strings.Cut(x, ":")
	}
	ip = strings.Trim(ip, "[]")
	if !ok || name == "" {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid extra host: %q", x))
	}
	if ip == "host-gateway" {
		gw := e.hostGateway()
		if !gw.IsValid() {
			return "", "", errdefs.ErrInvalidArgument.WithMessage("unable to derive the IP value for host-gateway")
		}
		return name, gw.String(), nil
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid IP address in add-host: %q", ip))
	}
	return name, ip, nil
}

// resolvConfOf renders the container's resolv.conf from the engine's
// (RootlessKit's child points it at the uplink's DNS) with Docker's rules.
func (e *Engine) resolvConfOf(hc *container.HostConfig) []byte {
	host, _ := os.ReadFile("/etc/resolv.conf") // missing: the uplink's DNS is used
	var dns []string
	for _, a := range hc.DNS {
		dns = append(dns, a.String())
	}
	if e.network != nil {
		return e.network.ResolvConf(host, dns, hc.DNSSearch, hc.DNSOptions)
	}
	return netstack.ResolvConf(host, dns, hc.DNSSearch, hc.DNSOptions)
}
