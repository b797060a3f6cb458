package linker

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestHostsRender(t *testing.T) {
	// docker-behavior.md 2.1: web = 172.17.0.3 with --add-host foo:1.2.3.4 --link db:webdb.
	h := Hosts{
		IPv6:     true,
		Extra:    []HostsEntry{{IP: "1.2.3.4", Names: []string{"foo"}}},
		Links:    []LinkHost{{IP: "172.17.0.2", Alias: "webdb", Hostname: "2f3e4d5c6b7a", Name: "db"}},
		SelfIPs:  []string{"172.17.0.3"},
		Hostname: "9a8b7c6d5e4f",
	}
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::\tip6-localnet\n" +
		"ff00::\tip6-mcastprefix\n" +
		"ff02::1\tip6-allnodes\n" +
		"ff02::2\tip6-allrouters\n" +
		"1.2.3.4\tfoo\n" +
		"172.17.0.2\twebdb 2f3e4d5c6b7a db\n" +
		"172.17.0.3\t9a8b7c6d5e4f\n"
	if got := string(h.Render()); got != want {
		t.Errorf("Render() =\n%s\nwant\n%s", got, want)
	}

	tests := []struct {
		hosts Hosts
		want  string
	}{
		{Hosts{Links: []LinkHost{{IP: "172.17.0.2", Alias: "db", Hostname: "2f3e4d5c6b7a", Name: "db"}}}, "127.0.0.1\tlocalhost\n172.17.0.2\tdb 2f3e4d5c6b7a\n"},
		{Hosts{SelfIPs: []string{"172.17.0.4"}, Hostname: "web.example.com"}, "127.0.0.1\tlocalhost\n172.17.0.4\tweb.example.com web\n"},
		{Hosts{SelfIPs: []string{"172.17.0.4"}, Hostname: "web", Domainname: "example.com"}, "127.0.0.1\tlocalhost\n172.17.0.4\tweb.example.com web\n"},
		{Hosts{Hostname: "abc"}, "127.0.0.1\tlocalhost\n"},
	}
	for _, tt := range tests {
		if got := string(tt.hosts.Render()); got != tt.want {
			t.Errorf("Render(%+v) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}

func TestUpdateLink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	before := "127.0.0.1\tlocalhost\n" +
		"172.17.0.2\tonetwo 2f3e4d5c6b7a one\n" +
		"172.17.0.2\tone 2f3e4d5c6b7a\n" +
		"172.17.0.9\tone.example\n" +
		"10.0.0.1\tonetwothree\n" +
		"# a line the container wrote\n" +
		"172.17.0.3\tself\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	inode := func() uint64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	ino := inode()
	if err := UpdateLink(path, LinkHost{IP: "172.17.0.7", Alias: "onetwo", Hostname: "2f3e4d5c6b7a", Name: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := UpdateLink(path, LinkHost{IP: "172.17.0.8", Alias: "one", Hostname: "2f3e4d5c6b7a", Name: "one"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "127.0.0.1\tlocalhost\n" +
		"172.17.0.7\tonetwo 2f3e4d5c6b7a one\n" +
		"172.17.0.8\tone 2f3e4d5c6b7a\n" +
		"172.17.0.8\tone.example\n" +
		"10.0.0.1\tonetwothree\n" +
		"# a line the container wrote\n" +
		"172.17.0.3\tself\n"
	if string(got) != want {
		t.Errorf("after update:\n%s\nwant\n%s", got, want)
	}
	if inode() != ino {
		t.Error("UpdateLink replaced the file; a bind mount would not see it")
	}
}

func TestReplaceLink(t *testing.T) {
	const head = "127.0.0.1\tlocalhost\n"
	const self = "172.17.0.3\tself\n"
	tests := []struct {
		name, before string
		link         LinkHost
		want         string
	}{
		{"new source: address and hostname",
			head + "172.17.0.2\tdb 2f3e4d5c6b7a\n" + self,
			LinkHost{IP: "172.17.0.7", Alias: "db", Hostname: "07836c678ef6", Name: "db"},
			head + "172.17.0.7\tdb 07836c678ef6\n" + self},
		{"aliased: the name stays last",
			head + "172.17.0.2\twebdb 2f3e4d5c6b7a db\n" + self,
			LinkHost{IP: "172.17.0.7", Alias: "webdb", Hostname: "07836c678ef6", Name: "db"},
			head + "172.17.0.7\twebdb 07836c678ef6 db\n" + self},
		{"alias.* lines written by the container: address only",
			head + "172.17.0.2\tdb.local mine\n" + "172.17.0.2\tdb 2f3e4d5c6b7a\n" + self,
			LinkHost{IP: "172.17.0.7", Alias: "db", Hostname: "07836c678ef6", Name: "db"},
			head + "172.17.0.7\tdb.local mine\n" + "172.17.0.7\tdb 07836c678ef6\n" + self},
		{"other aliases untouched",
			head + "172.17.0.2\tdbx 2f3e4d5c6b7a\n" + self,
			LinkHost{IP: "172.17.0.7", Alias: "db", Hostname: "07836c678ef6", Name: "db"},
			head + "172.17.0.2\tdbx 2f3e4d5c6b7a\n" + self},
		{"last line without newline",
			head + "172.17.0.2\tdb 2f3e4d5c6b7a",
			LinkHost{IP: "172.17.0.7", Alias: "db", Hostname: "07836c678ef6", Name: "db"},
			head + "172.17.0.7\tdb 07836c678ef6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := replaceLink([]byte(tt.before), tt.link)
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if changed != (tt.before != tt.want) {
				t.Errorf("changed = %v", changed)
			}
		})
	}
}
