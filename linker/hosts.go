package linker

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// HostsEntry is one line of /etc/hosts.
type HostsEntry struct {
	IP    string
	Names []string
}

// LinkHost is the hosts line of one link: the alias first, then the
// source's hostname, then its name when that differs from the alias.
type LinkHost struct {
	IP, Alias, Hostname, Name string
}

// Hosts is what a container's /etc/hosts holds.
type Hosts struct {
	IPv6       bool         // write the IPv6 block (the container's lo has ::1)
	Extra      []HostsEntry // --add-host, in the order given
	Links      []LinkHost
	SelfIPs    []string // the container's own addresses; none with --network none
	Hostname   string
	Domainname string
}

// Render lays out /etc/hosts exactly as Docker does for the default bridge:
// localhost, the IPv6 block, --add-host entries, one line per link, then the
// container's own address with its hostname.
func (h Hosts) Render() []byte {
	var b bytes.Buffer
	write := func(ip string, names ...string) {
		fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(names, " "))
	}
	write("127.0.0.1", "localhost")
	if h.IPv6 {
		write("::1", "localhost", "ip6-localhost", "ip6-loopback")
		write("fe00::", "ip6-localnet")
		write("ff00::", "ip6-mcastprefix")
		write("ff02::1", "ip6-allnodes")
		write("ff02::2", "ip6-allrouters")
	}
	for _, e := range h.Extra {
		write(e.IP, e.Names...)
	}
	for _, l := range h.Links {
		write(l.IP, l.names()...)
	}
	for _, ip := range h.SelfIPs {
		write(ip, selfNames(h.Hostname, h.Domainname)...)
	}
	return b.Bytes()
}

func (l LinkHost) names() []string {
	names := []string{l.Alias, l.Hostname}
	if l.Name != "" && l.Name != l.Alias {
		names = append(names, l.Name)
	}
	return names
}

// selfNames is "hostname[.domainname]", plus the short name when that holds
// a dot (-h web.example.com → "web.example.com web").
func selfNames(hostname, domainname string) []string {
	full := hostname
	if domainname != "" {
		full += "." + domainname
	}
	if short, _, ok := strings.Cut(full, "."); ok {
		return []string{full, short}
	}
	return []string{full}
}

// UpdateLink follows a link's source to its current container in the
// hosts file at path: the line whose first name is the alias is rewritten
// whole (a source removed and created again under the same name has a new
// hostname too), and lines whose first name starts with "alias." get the
// new address, as Docker's update does. Everything else, including what the
// container wrote itself, is kept. The file is rewritten in place (same
// inode), so a bind mount of it sees the change at once.
func UpdateLink(path string, l LinkHost) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("update hosts %s: %w", path, err)
	}
	updated, changed := replaceLink(content, l)
	if !changed {
		return nil
	}
	// WriteFile truncates the same inode instead of replacing the file.
	if err := os.WriteFile(path, updated, 0o644); err != nil {
		return fmt.Errorf("update hosts %s: %w", path, err)
	}
	return nil
}

func replaceLink(content []byte, l LinkHost) ([]byte, bool) {
	updated, changed := replaceLinkIP(content, l.Alias, l.IP)
	lines := bytes.SplitAfter(updated, []byte("\n"))
	for i, line := range lines {
		_, names, ok := bytes.Cut(line, []byte("\t"))
		if fields := bytes.Fields(names); !ok || len(fields) == 0 || string(fields[0]) != l.Alias {
			continue
		}
		newLine := []byte(l.IP + "\t" + strings.Join(l.names(), " "))
		if bytes.HasSuffix(line, []byte("\n")) {
			newLine = append(newLine, '\n')
		}
		if !bytes.Equal(newLine, line) {
			lines[i] = newLine
			changed = true
		}
	}
	return bytes.Join(lines, nil), changed
}

func replaceLinkIP(content []byte, alias, ip string) ([]byte, bool) {
	lines := bytes.SplitAfter(content, []byte("\n"))
	changed := false
	for i, line := range lines {
		_, names, ok := bytes.Cut(line, []byte("\t"))
		if !ok {
			continue
		}
		fields := bytes.Fields(names)
		if len(fields) == 0 {
			continue
		}
		first := string(fields[0])
		if first != alias && !strings.HasPrefix(first, alias+".") {
			continue
		}
		newLine := append([]byte(ip+"\t"), names...)
		if !bytes.Equal(newLine, line) {
			lines[i] = newLine
			changed = true
		}
	}
	return bytes.Join(lines, nil), changed
}
