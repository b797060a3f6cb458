package engine

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/moby/api/types/container"

	"warren/linker"
)

func TestHostsOf(t *testing.T) {
	e := &Engine{network: newRecordingNetwork()}
	c := &Container{rec: record{
		Config:     &container.Config{Hostname: "9a8b7c6d5e4f"},
		HostConfig: &container.HostConfig{ExtraHosts: []string{"foo:1.2.3.4", "gw:host-gateway", "v6=[::1]"}},
	}}
	links := []linker.LinkHost{{IP: "172.17.0.2", Alias: "webdb", Hostname: "2f3e4d5c6b7a", Name: "db"}}
	got := string(e.hostsOf(c, &Endpoint{IP: netip.MustParseAddr("172.17.0.3")}, links).Render())
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::\tip6-localnet\n" +
		"ff00::\tip6-mcastprefix\n" +
		"ff02::1\tip6-allnodes\n" +
		"ff02::2\tip6-allrouters\n" +
		"10.0.2.2\thost.warren.internal\n" +
		"1.2.3.4\tfoo\n" +
		"10.0.2.2\tgw\n" +
		"::1\tv6\n" +
		"172.17.0.2\twebdb 2f3e4d5c6b7a db\n" +
		"172.17.0.3\t9a8b7c6d5e4f\n"
	if got != want {
		t.Errorf("hosts =\n%s\nwant\n%s", got, want)
	}

	off := &Engine{}
	if _, _, err := off.extraHost("gw:host-gateway"); err == nil {
		t.Error("host-gateway accepted with host loopback off")
	}
	for _, bad := range []string{"nocolon", ":1.2.3.4", "x:notanip"} {
		if _, _, err := e.extraHost(bad); err == nil {
			t.Errorf("extraHost(%q) accepted", bad)
		}
	}
}

// TestEtcFilesOf: what each network mode gets in its three /etc files.
func TestEtcFilesOf(t *testing.T) {
	e := &Engine{network: renderingNetwork{newRecordingNetwork()}}
	hostHosts, _ := os.ReadFile("/etc/hosts")
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	for _, tc := range []struct {
		mode               container.NetworkMode
		wantHosts, wantRes string
	}{
		{"bridge", "127.0.0.1\tlocalhost\n", "rendered dns=[9.9.9.9] search=[example.com] options=[ndots:2]\n"},
		{"host", string(hostHosts), string(hostResolv)},
	} {
		c := &Container{rec: record{
			Config: &container.Config{Hostname: "web"},
			HostConfig: &container.HostConfig{NetworkMode: tc.mode,
				DNS: []netip.Addr{netip.MustParseAddr("9.9.9.9")}, DNSSearch: []string{"example.com"}, DNSOptions: []string{"ndots:2"}},
		}}
		f := e.etcFilesOf(c, nil, nil)
		if string(f.hostname) != "web\n" {
			t.Errorf("%s: hostname %q", tc.mode, f.hostname)
		}
		if tc.mode == "bridge" && string(f.hosts[:len(tc.wantHosts)]) != tc.wantHosts || tc.mode == "host" && string(f.hosts) != tc.wantHosts {
			t.Errorf("%s: hosts\n%s", tc.mode, f.hosts)
		}
		if string(f.resolvConf) != tc.wantRes {
			t.Errorf("%s: resolv.conf %q, want %q", tc.mode, f.resolvConf, tc.wantRes)
		}
	}
}

// renderingNetwork shows in resolv.conf what the engine asked the network
// to render.
type renderingNetwork struct{ *recordingNetwork }

func (renderingNetwork) ResolvConf(_ []byte, dns, search, options []string) []byte {
	return []byte(fmt.Sprintf("rendered dns=%v search=%v options=%v\n", dns, search, options))
}

// TestWriteEtcFiles: the files are rewritten in place, as they are
// bind-mounted into the running container; a container joining another's
// network gets none of its own.
func TestWriteEtcFiles(t *testing.T) {
	e := &Engine{}
	dir := t.TempDir()
	c := &Container{dir: dir, rec: record{
		Config:     &container.Config{Hostname: "web"},
		HostConfig: &container.HostConfig{NetworkMode: "bridge"},
	}}
	if err := e.writeEtcFiles(c, nil, nil); err != nil {
		t.Fatal(err)
	}
	inode := func(p string) uint64 {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	before := inode(c.hostsPath())
	ep := &Endpoint{IP: netip.MustParseAddr("172.17.0.5")}
	if err := e.writeEtcFiles(c, ep, nil); err != nil {
		t.Fatal(err)
	}
	if inode(c.hostsPath()) != before {
		t.Error("hosts replaced by a new file; the container's bind mount would keep the old one")
	}
	if hosts, _ := os.ReadFile(c.hostsPath()); !strings.Contains(string(hosts), "172.17.0.5\tweb\n") {
		t.Errorf("hosts lacks the container's address:\n%s", hosts)
	}
	if name, _ := os.ReadFile(c.hostnamePath()); string(name) != "web\n" {
		t.Errorf("hostname %q", name)
	}

	joined := t.TempDir()
	j := &Container{dir: joined, rec: record{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "container:web"}}}
	if err := e.writeEtcFiles(j, nil, nil); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(joined); len(entries) != 0 {
		t.Errorf("a container on another's network got files: %v", entries)
	}
}
