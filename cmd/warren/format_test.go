package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
)

func ps(ip string, private, public uint16, proto string) container.PortSummary {
	p := container.PortSummary{PrivatePort: private, PublicPort: public, Type: proto}
	if ip != "" {
		p.IP = netip.MustParseAddr(ip)
	}
	return p
}

// TestDisplayablePorts quotes the PORTS column docker 28.2.2 printed for
// the same API data (docker-behavior 3.6).
func TestDisplayablePorts(t *testing.T) {
	tests := []struct {
		name  string
		ports []container.PortSummary
		want  string
	}{
		{"both families", []container.PortSummary{ps("0.0.0.0", 80, 80, "tcp"), ps("::", 80, 80, "tcp")},
			"0.0.0.0:80->80/tcp, [::]:80->80/tcp"},
		{"same-numbered range", []container.PortSummary{
			ps("0.0.0.0", 8000, 8000, "tcp"), ps("::", 8000, 8000, "tcp"),
			ps("0.0.0.0", 8001, 8001, "tcp"), ps("::", 8001, 8001, "tcp"),
			ps("0.0.0.0", 8002, 8002, "tcp"), ps("::", 8002, 8002, "tcp"),
		}, "0.0.0.0:8000-8002->8000-8002/tcp, [::]:8000-8002->8000-8002/tcp"},
		{"publish all", []container.PortSummary{
			ps("0.0.0.0", 443, 32769, "tcp"), ps("::", 80, 32768, "tcp"),
			ps("0.0.0.0", 80, 32768, "tcp"), ps("::", 443, 32769, "tcp"),
		}, "0.0.0.0:32768->80/tcp, [::]:32768->80/tcp, 0.0.0.0:32769->443/tcp, [::]:32769->443/tcp"},
		{"exposed and one mapping", []container.PortSummary{
			ps("", 6379, 0, "tcp"), ps("", 6380, 0, "tcp"), ps("", 53, 0, "udp"), ps("127.0.0.1", 5432, 15432, "tcp"),
		}, "53/udp, 6379-6380/tcp, 127.0.0.1:15432->5432/tcp"},
		{"mixed", []container.PortSummary{
			ps("", 443, 0, "tcp"), ps("", 9000, 0, "udp"), ps("", 9001, 0, "udp"),
			ps("0.0.0.0", 7000, 7000, "tcp"), ps("0.0.0.0", 7001, 7001, "tcp"), ps("0.0.0.0", 7002, 7002, "tcp"),
			ps("0.0.0.0", 80, 8080, "tcp"), ps("::", 80, 8080, "tcp"),
		}, "443/tcp, 0.0.0.0:7000-7002->7000-7002/tcp, 9000-9001/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"},
		{"not running", nil, ""},
		{"gap splits a group", []container.PortSummary{ps("", 80, 0, "tcp"), ps("", 81, 0, "tcp"), ps("", 90, 0, "tcp")},
			"80-81/tcp, 90/tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayablePorts(tt.ports); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCommandColumn(t *testing.T) {
	tests := []struct {
		cmd   string
		trunc bool
		want  string
	}{
		{"sleep 100", true, `"sleep 100"`},
		{"exactly twenty chars", true, `"exactly twenty chars"`},
		{"/bin/sh -c 'while true; do date; done'", true, `"/bin/sh -c 'while t…"`},
		{"/bin/sh -c 'while true; do date; done'", false, `"/bin/sh -c 'while true; do date; done'"`},
		{`echo "hi"`, true, `"echo \"hi\""`},
		{"", true, `""`},
	}
	for _, tt := range tests {
		got := containerRow{c: container.Summary{Command: tt.cmd}, trunc: tt.trunc}.Command()
		if got != tt.want {
			t.Errorf("Command(%q, trunc=%v) = %s, want %s", tt.cmd, tt.trunc, got, tt.want)
		}
	}
}

func TestNamesColumn(t *testing.T) {
	tests := []struct {
		names []string
		trunc bool
		want  string
	}{
		{[]string{"/web"}, true, "web"},
		{[]string{"/db", "/web/db"}, true, "db"},
		{[]string{"/web/db", "/db"}, true, "db"},
		{[]string{"/db", "/web/db"}, false, "db,web/db"},
	}
	for _, tt := range tests {
		if got := displayNames(tt.names, tt.trunc); got != tt.want {
			t.Errorf("displayNames(%v, %v) = %q, want %q", tt.names, tt.trunc, got, tt.want)
		}
	}
}

func TestContainerRowFields(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := containerRow{now: now, trunc: true, c: container.Summary{
		ID:      "2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e",
		Image:   "busybox",
		ImageID: "sha256:aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		Created: now.Add(-2 * time.Minute).Unix(),
		SizeRw:  12, SizeRootFs: 4_400_000,
	}}
	checks := map[string]string{
		"ID":         "2f3e4d5c6b7a",
		"Image":      "busybox",
		"RunningFor": "2 minutes ago",
		"Size":       "12B (virtual 4.4MB)",
	}
	got := map[string]string{"ID": r.ID(), "Image": r.Image(), "RunningFor": r.RunningFor(), "Size": r.Size()}
	for k, want := range checks {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	r.c.Image = "sha256:aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	if got := r.Image(); got != "aaaaaaaaaaaa" {
		t.Errorf("Image by ID = %q, want the short ID", got)
	}
}

func TestPsTable(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	rows := []any{containerRow{now: now, trunc: true, c: container.Summary{
		ID: "2f3e4d5c6b7a8f9e", Image: "busybox", Command: "sleep 100",
		Created: now.Add(-2 * time.Minute).Unix(), Status: "Up 2 minutes", Names: []string{"/web"},
		Ports: []container.PortSummary{ps("0.0.0.0", 80, 8080, "tcp")},
	}}}
	var out bytes.Buffer
	if err := resolveFormat("", defaultPsFormat).write(&out, psHeader, rows); err != nil {
		t.Fatal(err)
	}
	want := "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS                  NAMES\n" +
		"2f3e4d5c6b7a   busybox   \"sleep 100\"   2 minutes ago   Up 2 minutes   0.0.0.0:8080->80/tcp   web\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestFormats(t *testing.T) {
	row := containerRow{trunc: true, c: container.Summary{ID: "abcdef0123456789", Names: []string{"/web"},
		Labels: map[string]string{"b": "2", "a": "1"}, Status: "Exited (0) 3 seconds ago"}}
	tests := []struct {
		format string
		want   string
	}{
		{"{{.Names}}", "web\n"},
		{"table {{.ID}}\\t{{.Names}}", "CONTAINER ID   NAMES\nabcdef012345   web\n"},
		{"{{upper .Names}} {{lower .Status}}", "WEB exited (0) 3 seconds ago\n"},
		{"{{title .Names}}|{{pad .Names 1 2}}|{{truncate .ID 4}}", "Web| web  |abcd\n"},
		{`{{join (split .Labels ",") ";"}}`, "a=1;b=2\n"},
		{`{{json .Names}}`, "\"web\"\n"},
		{`{{.Label "b"}}`, "2\n"},
		{"table {{upper .Names}}", "NAMES\nWEB\n"},
		{`{{println .Names}}`, "web\n\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := resolveFormat(tt.format, defaultPsFormat).write(&out, psHeader, []any{row}); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		if out.String() != tt.want {
			t.Errorf("format %q: got %q, want %q", tt.format, out.String(), tt.want)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	var out bytes.Buffer
	row := containerRow{trunc: true, c: container.Summary{ID: "abcdef0123456789", Names: []string{"/web"}}}
	if err := resolveFormat("json", defaultPsFormat).write(&out, psHeader, []any{row}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"ID":"abcdef012345"`) || !strings.Contains(out.String(), `"Names":"web"`) {
		t.Errorf("json row = %s", out.String())
	}
}

func TestPsFormatChoice(t *testing.T) {
	tests := []struct {
		format      string
		quiet, size bool
		want        string
	}{
		{"", false, false, defaultPsFormat},
		{"", true, false, "{{.ID}}"},
		{"table", false, true, defaultPsFormat + `\t{{.Size}}`},
		{"{{.Names}}", true, false, "{{.Names}}"},
	}
	for _, tt := range tests {
		if got := psFormat(tt.format, tt.quiet, tt.size); got != tt.want {
			t.Errorf("psFormat(%q, %v, %v) = %q, want %q", tt.format, tt.quiet, tt.size, got, tt.want)
		}
	}
}

func TestImagesTable(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	imgs := []image.Summary{
		{ID: "sha256:1111111111112222222222", RepoTags: []string{"busybox:latest", "localhost:5000/bb:v1"},
			Created: now.Add(-3 * 24 * time.Hour).Unix(), Size: 4_261_550},
		{ID: "sha256:3333333333334444444444", Created: now.Add(-2 * time.Hour).Unix(), Size: 1000},
	}
	var out bytes.Buffer
	if err := resolveFormat("", defaultImagesFormat).write(&out, imagesHeader, imageRows(imgs, true, now)); err != nil {
		t.Fatal(err)
	}
	want := "REPOSITORY          TAG       IMAGE ID       CREATED       SIZE\n" +
		"busybox             latest    111111111111   3 days ago    4.26MB\n" +
		"localhost:5000/bb   v1        111111111111   3 days ago    4.26MB\n" +
		"<none>              <none>    333333333333   2 hours ago   1kB\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestPortLines(t *testing.T) {
	ports := network.PortMap{
		network.MustParsePort("80/tcp"): {
			{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "8080"},
			{HostIP: netip.MustParseAddr("::"), HostPort: "8080"},
		},
		network.MustParsePort("53/udp"):   {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "32768"}},
		network.MustParsePort("443/tcp"):  nil,
		network.MustParsePort("9000/tcp"): {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "9000"}},
	}
	all, err := portLines(ports, "", "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"53/udp -> 127.0.0.1:32768", "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080", "9000/tcp -> 0.0.0.0:9000"}
	if strings.Join(all, "\n") != strings.Join(want, "\n") {
		t.Errorf("all ports:\n%s\nwant\n%s", strings.Join(all, "\n"), strings.Join(want, "\n"))
	}
	one, err := portLines(ports, "80", "web")
	if err != nil || strings.Join(one, ",") != "0.0.0.0:8080,[::]:8080" {
		t.Errorf("port 80 = %v, %v", one, err)
	}
	if _, err := portLines(ports, "443", "web"); err == nil || err.Error() != "Error: No public port '443' published for web" {
		t.Errorf("port 443 error = %v", err)
	}
	if _, err := portLines(ports, "80/udp", "web"); err == nil || err.Error() != "Error: No public port '80/udp' published for web" {
		t.Errorf("port 80/udp error = %v", err)
	}
}

func TestNaturalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		less bool
	}{
		{"9/tcp", "10/tcp", true},
		{"10/tcp", "9/tcp", false},
		{"53/udp", "80/tcp", true},
		{"80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080", true},
		{"a2", "a10", true},
	}
	for _, tt := range tests {
		if got := naturalCompare(tt.a, tt.b) < 0; got != tt.less {
			t.Errorf("naturalCompare(%q, %q) < 0 = %v, want %v", tt.a, tt.b, got, tt.less)
		}
	}
}

func TestPrintInspected(t *testing.T) {
	objs := []inspected{
		{typed: container.InspectResponse{Name: "/web"}, raw: []byte(`{"Name":"/web","NetworkSettings":{"IPAddress":"172.17.0.2"},"Created":"x","Pid":1234567890123}`)},
	}
	var out bytes.Buffer
	if err := printInspected(&out, "", objs); err != nil {
		t.Fatal(err)
	}
	want := "[\n    {\n        \"Created\": \"x\",\n        \"Name\": \"/web\",\n        \"NetworkSettings\": {\n            \"IPAddress\": \"172.17.0.2\"\n        },\n        \"Pid\": 1234567890123\n    }\n]\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	// .Name comes from the typed struct; .NetworkSettings.IPAddress only
	// exists in the raw JSON (API 1.50 field), as with docker.
	if err := printInspected(&out, "{{.Name}} {{.NetworkSettings.IPAddress}}", objs); err != nil {
		t.Fatal(err)
	}
	if out.String() != "/web 172.17.0.2\n" {
		t.Errorf("template output %q", out.String())
	}
	out.Reset()
	if err := printInspected(&out, "", nil); err != nil || out.String() != "[]\n" {
		t.Errorf("empty inspect = %q, %v", out.String(), err)
	}
}

func TestEnvFile(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "FROM_HOST" {
			return "host value", true
		}
		return "", false
	}
	data := "\xEF\xBB\xBFA=1\n# comment\n\n   B=two words\nC=\"quoted\"\nD=x=y\nFROM_HOST\nUNSET\nE=\n\tF=tab\n"
	got, err := parseEnvLines("f.env", []byte(data), lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=two words", `C="quoted"`, "D=x=y", "FROM_HOST=host value", "UNSET", "E=", "F=tab"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	errs := map[string]string{
		"=value\n":    "no variable name on line '=value'",
		"BAD KEY=1\n": "poorly formatted environment: variable 'BAD KEY' contains whitespaces",
	}
	for in, want := range errs {
		if _, err := parseEnvLines("f.env", []byte(in), lookup); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestReadEnvFilesOrder(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("X=1\n"), 0o600)
	os.WriteFile(b, []byte("Y=2\n"), 0o600)
	got, err := readEnvFiles([]string{a, b}, func(string) (string, bool) { return "", false })
	if err != nil || strings.Join(got, ",") != "X=1,Y=2" {
		t.Errorf("readEnvFiles = %v, %v", got, err)
	}
	if _, err := readEnvFiles([]string{filepath.Join(dir, "missing")}, nil); err == nil {
		t.Error("a missing env file must fail")
	}
}
