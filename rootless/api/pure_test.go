package api

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestSplitVersion(t *testing.T) {
	tests := []struct {
		path, version, rest, err string
	}{
		{path: "/_ping", version: DefaultVersion, rest: "/_ping"},
		{path: "/v1.50/containers/json", version: "1.50", rest: "/containers/json"},
		{path: "/v1.24/version", version: "1.24", rest: "/version"},
		{path: "/v1.56/version", version: "1.56", rest: "/version"},
		{path: "/v1.12/version", err: "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"},
		{path: "/v1.99/version", err: "client version 1.99 is too new. Maximum supported API version is 1.56"},
		{path: "/v2/version", err: "client version 2 is too new. Maximum supported API version is 1.56"},
		{path: "/version", version: DefaultVersion, rest: "/version"},
		// "/vx" is no version: routing answers 404 for it.
		{path: "/vx/version", version: DefaultVersion, rest: "/vx/version"},
		{path: "/v1.50", version: "1.50", rest: "/"},
	}
	for _, tt := range tests {
		v, rest, err := splitVersion(tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitVersion(%q) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || v != tt.version || rest != tt.rest {
			t.Errorf("splitVersion(%q) = %q, %q, %v; want %q, %q", tt.path, v, rest, err, tt.version, tt.rest)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.50", "1.50", 0},
		{"1.9", "1.10", -1},
		{"1.52", "1.50", 1},
		{"1.41", "1.42", -1},
		{"2", "1.99", 1},
		{"1.50.0", "1.50", 0},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRoute(t *testing.T) {
	s := NewHandler(newFakeBackend()).(*server)
	tests := []struct {
		method, path string
		handler      string // the handler's method name; "" = no route
		name         string
	}{
		{"HEAD", "/_ping", "ping", ""},
		{"GET", "/containers/json", "containerList", ""},
		{"GET", "/containers/web/json", "containerInspect", "web"},
		{"DELETE", "/containers/web/db", "containerRemove", "web/db"},
		{"DELETE", "/containers/web", "containerRemove", "web"},
		{"POST", "/containers/abc/wait", "containerWait", "abc"},
		{"POST", "/containers/abc/exec", "execCreate", "abc"},
		{"POST", "/exec/e1/start", "execStart", "e1"},
		{"GET", "/exec/e1/json", "execInspect", "e1"},
		{"GET", "/images/127.0.0.1:5000/busybox/json", "imageInspect", "127.0.0.1:5000/busybox"},
		{"GET", "/images/127.0.0.1:5000/busybox:1.36/get", "imageSave", "127.0.0.1:5000/busybox:1.36"},
		{"POST", "/images/busybox:latest/tag", "imageTag", "busybox:latest"},
		{"DELETE", "/images/127.0.0.1:5000/busybox:latest", "imageRemove", "127.0.0.1:5000/busybox:latest"},
		{"GET", "/images/get", "imageSave", ""},
		{"POST", "/images/load", "imageLoad", ""},
		// Unknown actions and methods are no route (404 page not found).
		{"POST", "/containers/web/frobnicate", "", ""},
		{"GET", "/containers/web", "", ""},
		{"GET", "/containers/", "", ""},
		{"GET", "/nothing", "", ""},
		{"PUT", "/containers/web/start", "", ""},
	}
	for _, tt := range tests {
		fn, name := s.route(tt.method, tt.path)
		got := ""
		if fn != nil {
			got = funcName(fn)
		}
		if !strings.HasSuffix(got, "."+tt.handler+"-fm") && !(tt.handler == "" && got == "") {
			t.Errorf("route(%s %s) handler = %q, want %q", tt.method, tt.path, got, tt.handler)
		}
		if name != tt.name {
			t.Errorf("route(%s %s) name = %q, want %q", tt.method, tt.path, name, tt.name)
		}
	}
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string][]string
		err  bool
	}{
		{raw: "", want: nil},
		{raw: `{"name":{"web":true},"status":{"exited":true}}`, want: map[string][]string{"name": {"web"}, "status": {"exited"}}},
		{raw: `{"status":{"exited":true,"created":true}}`, want: map[string][]string{"status": {"created", "exited"}}},
		{raw: `{"name":{"web":false}}`, want: map[string][]string{}},
		{raw: `{"name":["web","db"]}`, want: map[string][]string{"name": {"db", "web"}}},
		{raw: `{"name":`, err: true},
		{raw: `{"name":3}`, err: true},
	}
	for _, tt := range tests {
		got, err := parseFilters(tt.raw)
		if (err != nil) != tt.err {
			t.Errorf("parseFilters(%q) error = %v, want error %v", tt.raw, err, tt.err)
			continue
		}
		for _, v := range got {
			sort.Strings(v)
		}
		if !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseFilters(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func TestJoinReference(t *testing.T) {
	dgst := "sha256:" + strings.Repeat("a", 64)
	tests := []struct{ repo, tag, want string }{
		{"docker.io/library/busybox", "latest", "docker.io/library/busybox:latest"},
		{"127.0.0.1:5000/busybox", "", "127.0.0.1:5000/busybox"},
		{"busybox", dgst, "busybox@" + dgst},
		{"", "latest", ""},
	}
	for _, tt := range tests {
		if got := joinReference(tt.repo, tt.tag); got != tt.want {
			t.Errorf("joinReference(%q, %q) = %q, want %q", tt.repo, tt.tag, got, tt.want)
		}
	}
}

func TestWaitCondition(t *testing.T) {
	tests := []struct {
		in   string
		want container.WaitCondition
		err  string
	}{
		{"", container.WaitConditionNotRunning, ""},
		{"not-running", container.WaitConditionNotRunning, ""},
		{"next-exit", container.WaitConditionNextExit, ""},
		{"removed", container.WaitConditionRemoved, ""},
		{"bogus", "", `invalid condition: "bogus"`},
	}
	for _, tt := range tests {
		got, err := waitCondition(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("waitCondition(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("waitCondition(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestStreamContentType(t *testing.T) {
	tests := []struct {
		version string
		tty     bool
		want    string
	}{
		{"1.50", false, "application/vnd.docker.multiplexed-stream"},
		{"1.42", false, "application/vnd.docker.multiplexed-stream"},
		{"1.41", false, "application/vnd.docker.raw-stream"},
		{"1.50", true, "application/vnd.docker.raw-stream"},
	}
	for _, tt := range tests {
		if got := streamContentType(tt.version, tt.tty); got != tt.want {
			t.Errorf("streamContentType(%q, %v) = %q, want %q", tt.version, tt.tty, got, tt.want)
		}
	}
}

func TestNormalizeCreate(t *testing.T) {
	ep := &network.EndpointSettings{Aliases: []string{"x"}}
	tests := []struct {
		name     string
		in       container.CreateRequest
		version  string
		wantMode container.NetworkMode
		wantEPs  []string
		autoRm   bool
	}{
		{
			name:     "cli default",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "default", AutoRemove: true}, NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"default": ep}}},
			version:  "1.50",
			wantMode: "bridge", wantEPs: []string{"bridge"}, autoRm: true,
		},
		{
			name:     "no host config",
			in:       container.CreateRequest{Config: &container.Config{}},
			version:  "1.50",
			wantMode: "bridge", wantEPs: []string{},
		},
		{
			name:     "host network kept",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: "host"}},
			version:  "1.50",
			wantMode: "host", wantEPs: []string{},
		},
		{
			name:     "old clients remove --rm containers themselves",
			in:       container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{AutoRemove: true}},
			version:  "1.24",
			wantMode: "bridge", wantEPs: []string{}, autoRm: false,
		},
	}
	for _, tt := range tests {
		req := tt.in
		normalizeCreate(&req, tt.version)
		var eps []string
		for k := range req.NetworkingConfig.EndpointsConfig {
			eps = append(eps, k)
		}
		if eps == nil {
			eps = []string{}
		}
		if req.HostConfig.NetworkMode != tt.wantMode || !reflect.DeepEqual(eps, tt.wantEPs) || req.HostConfig.AutoRemove != tt.autoRm {
			t.Errorf("%s: mode %q eps %v autoRm %v; want %q %v %v", tt.name, req.HostConfig.NetworkMode, eps, req.HostConfig.AutoRemove, tt.wantMode, tt.wantEPs, tt.autoRm)
		}
	}
	if got := ep.Aliases; !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("endpoint settings lost in the move: %v", got)
	}
}

func TestShapeInspect(t *testing.T) {
	bridged := func() *container.InspectResponse {
		return &container.InspectResponse{
			Name:   "/web",
			Config: &container.Config{Image: "busybox"},
			NetworkSettings: &container.NetworkSettings{SandboxKey: "/run/netns/x", Networks: map[string]*network.EndpointSettings{"bridge": {
				IPAddress: netip.MustParseAddr("172.17.0.2"), Gateway: netip.MustParseAddr("172.17.0.1"), IPPrefixLen: 16,
				MacAddress: network.HardwareAddr{2, 0x42, 0xac, 0x11, 0, 2}, EndpointID: "ep",
			}}},
		}
	}
	noNet := func() *container.InspectResponse {
		return &container.InspectResponse{Name: "/x", Config: &container.Config{}, NetworkSettings: &container.NetworkSettings{}}
	}
	tests := []struct {
		name    string
		resp    *container.InspectResponse
		version string
		// want are NetworkSettings fields; nil means the key must be absent.
		want       map[string]any
		wantConfig map[string]any
	}{
		{
			name: "1.50 bridged", resp: bridged(), version: "1.50",
			want: map[string]any{
				"IPAddress": "172.17.0.2", "Gateway": "172.17.0.1", "IPPrefixLen": 16.0,
				"MacAddress": "02:42:ac:11:00:02", "EndpointID": "ep", "Bridge": "",
				"GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0.0, "IPv6Gateway": "",
				"HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0.0,
				"SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil,
				"SandboxKey": "/run/netns/x",
			},
			wantConfig: map[string]any{"MacAddress": "02:42:ac:11:00:02", "Image": "busybox"},
		},
		{
			name: "1.50 without bridge endpoint prints empty values", resp: noNet(), version: "1.50",
			want: map[string]any{"IPAddress": "", "Gateway": "", "IPPrefixLen": 0.0, "MacAddress": "", "EndpointID": ""},
		},
		{
			name: "1.52 has no legacy fields", resp: bridged(), version: "1.52",
			want: map[string]any{"SandboxKey": "/run/netns/x"},
		},
	}
	for _, tt := range tests {
		b, err := json.Marshal(shapeInspect(tt.resp, tt.version))
		if err != nil {
			t.Fatalf("%s: marshal: %v", tt.name, err)
		}
		var got struct {
			Name            string
			Config          map[string]any
			NetworkSettings map[string]any
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Name != tt.resp.Name {
			t.Errorf("%s: Name = %q, embedded fields lost", tt.name, got.Name)
		}
		for k, v := range tt.want {
			gv, ok := got.NetworkSettings[k]
			if !ok || !reflect.DeepEqual(gv, v) {
				t.Errorf("%s: NetworkSettings.%s = %#v (present %v), want %#v", tt.name, k, gv, ok, v)
			}
		}
		if !versionLess(tt.version, "1.52") {
			for _, k := range []string{"IPAddress", "Gateway", "MacAddress", "Bridge"} {
				if _, ok := got.NetworkSettings[k]; ok {
					t.Errorf("%s: NetworkSettings.%s present at %s", tt.name, k, tt.version)
				}
			}
			if _, ok := got.Config["MacAddress"]; ok {
				t.Errorf("%s: Config.MacAddress present at %s", tt.name, tt.version)
			}
		}
		for k, v := range tt.wantConfig {
			if gv := got.Config[k]; !reflect.DeepEqual(gv, v) {
				t.Errorf("%s: Config.%s = %#v, want %#v", tt.name, k, gv, v)
			}
		}
	}
}

// TestStdWriterFraming checks the framing against the api module's reader.
func TestStdWriterFraming(t *testing.T) {
	var buf bytes.Buffer
	out, errOut := outputStreams(&buf, false, true, true)
	_, _ = out.Write([]byte("hello\n"))
	_, _ = errOut.Write([]byte("oops\n"))
	_, _ = out.Write(nil) // an empty write must not produce a frame
	_, _ = out.Write([]byte("bye\n"))

	if got := buf.Bytes()[:8]; !bytes.Equal(got, []byte{1, 0, 0, 0, 0, 0, 0, 6}) {
		t.Errorf("first header = %v", got)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, &buf); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello\nbye\n" || stderr.String() != "oops\n" {
		t.Errorf("demuxed stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestStreamWriteErrorIsSystemFrame(t *testing.T) {
	var buf bytes.Buffer
	streamWriteError(&buf, false, "boom")
	_, err := stdcopy.StdCopy(&bytes.Buffer{}, &bytes.Buffer{}, &buf)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("StdCopy error = %v, want the system error", err)
	}
}

func TestOutputStreamsTTY(t *testing.T) {
	var buf bytes.Buffer
	out, errOut := outputStreams(&buf, true, true, false)
	if errOut != nil {
		t.Error("stderr not requested but given")
	}
	_, _ = out.Write([]byte("raw"))
	if buf.String() != "raw" {
		t.Errorf("tty output %q, want raw bytes", buf.String())
	}
}

func funcName(fn handlerFunc) string {
	return runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
}
