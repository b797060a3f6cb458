package engine

import (
	"bytes"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"warren/rootless/api"
)

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name             string
		image, user, out []string
	}{
		{"image only", []string{"PATH=/bin"}, nil, []string{"PATH=/bin"}},
		{"user first then image", []string{"PATH=/bin", "A=1"}, []string{"B=2"}, []string{"B=2", "PATH=/bin", "A=1"}},
		{"user replaces image key", []string{"PATH=/bin", "A=1"}, []string{"A=9"}, []string{"A=9", "PATH=/bin"}},
	}
	for _, tt := range tests {
		if got := mergeEnv(tt.image, tt.user); !slices.Equal(got, tt.out) {
			t.Errorf("%s: mergeEnv = %q, want %q", tt.name, got, tt.out)
		}
	}
}

func TestProcessEnvOrder(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		link []string
		cfg  []string
		want []string
	}{
		{"defaults", false, nil, nil,
			[]string{"PATH=" + defaultPath, "HOSTNAME=abc"}},
		{"tty", true, nil, []string{"A=1"},
			[]string{"PATH=" + defaultPath, "HOSTNAME=abc", "TERM=xterm", "A=1"}},
		{"image PATH replaces in place", false, nil, []string{"FOO=bar", "PATH=/x"},
			[]string{"PATH=/x", "HOSTNAME=abc", "FOO=bar"}},
		{"links before config", false, []string{"DB_NAME=/web/db"}, []string{"A=1"},
			[]string{"PATH=" + defaultPath, "HOSTNAME=abc", "DB_NAME=/web/db", "A=1"}},
		{"bare key deletes", true, nil, []string{"TERM"},
			[]string{"PATH=" + defaultPath, "HOSTNAME=abc"}},
		{"hostname override", false, nil, []string{"HOSTNAME=me"},
			[]string{"PATH=" + defaultPath, "HOSTNAME=me"}},
	}
	for _, tt := range tests {
		if got := processEnv("abc", tt.tty, tt.link, tt.cfg); !slices.Equal(got, tt.want) {
			t.Errorf("%s: processEnv = %q, want %q", tt.name, got, tt.want)
		}
	}
	got := execEnv("abc", true, nil, []string{"A=1"}, []string{"A=2", "B=3"})
	want := []string{"PATH=" + defaultPath, "HOSTNAME=abc", "TERM=xterm", "A=2", "B=3"}
	if !slices.Equal(got, want) {
		t.Errorf("execEnv = %q, want %q", got, want)
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		s    state
		want string
	}{
		{state{Status: container.StateCreated}, "Created"},
		{state{Status: container.StateRunning, StartedAt: now.Add(-300 * time.Millisecond)}, "Up Less than a second"},
		{state{Status: container.StateRunning, StartedAt: now.Add(-5 * time.Minute)}, "Up 5 minutes"},
		{state{Status: container.StateRunning, StartedAt: now.Add(-70 * time.Second)}, "Up About a minute"},
		{state{Status: container.StateExited, ExitCode: 0, FinishedAt: now.Add(-3 * time.Second)}, "Exited (0) 3 seconds ago"},
		{state{Status: container.StateExited, ExitCode: 137, FinishedAt: now.Add(-2 * time.Hour)}, "Exited (137) 2 hours ago"},
		{state{Status: container.StateRemoving}, "Removal In Progress"},
	}
	for _, tt := range tests {
		if got := statusText(tt.s, now); got != tt.want {
			t.Errorf("statusText(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		entry, cmd []string
		path       string
		args       []string
		text       string
	}{
		{nil, []string{"sh"}, "sh", []string{}, "sh"},
		{[]string{"/entry.sh"}, []string{"run", "-x"}, "/entry.sh", []string{"run", "-x"}, "/entry.sh run -x"},
		{[]string{""}, []string{"echo", "hi there"}, "echo", []string{"hi there"}, "echo hi there"},
		{nil, nil, "", []string{}, ""},
	}
	for _, tt := range tests {
		path, args := commandOf(&container.Config{Entrypoint: tt.entry, Cmd: tt.cmd})
		if path != tt.path || !slices.Equal(args, tt.args) {
			t.Errorf("commandOf(%q, %q) = %q %q", tt.entry, tt.cmd, path, args)
		}
		if path != "" {
			if got := commandText(path, args); got != tt.text {
				t.Errorf("commandText = %q, want %q", got, tt.text)
			}
		}
	}
}

func TestValidateConfig(t *testing.T) {
	tests := []struct {
		cfg container.Config
		err string
	}{
		{container.Config{Cmd: []string{"sh"}, WorkingDir: "/app/"}, ""},
		{container.Config{Cmd: []string{"sh"}, WorkingDir: "app"}, "the working directory 'app' is invalid, it needs to be an absolute path"},
		{container.Config{}, "no command specified"},
		{container.Config{Entrypoint: []string{""}}, "no command specified"},
		{container.Config{Cmd: []string{"sh"}, StopSignal: "SIGNOPE"}, "Invalid signal: SIGNOPE"},
	}
	for _, tt := range tests {
		err := validateConfig(&tt.cfg)
		if (err == nil) != (tt.err == "") || (err != nil && (err.Error() != tt.err || !errdefs.IsInvalidArgument(err))) {
			t.Errorf("validateConfig(%+v) = %v, want %q", tt.cfg, err, tt.err)
		}
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
		err  bool
	}{
		{"KILL", syscall.SIGKILL, false},
		{"SIGKILL", syscall.SIGKILL, false},
		{"term", syscall.SIGTERM, false},
		{"9", syscall.SIGKILL, false},
		{"INT", syscall.SIGINT, false},
		{"SIGRTMIN+3", 37, false},
		{"NOPE", 0, true},
		{"0", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSignal(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSignal(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && err.Error() != "Invalid signal: "+tt.in {
			t.Errorf("parseSignal(%q) error %q", tt.in, err)
		}
	}
}

func TestLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := newLogFile(dir+"/x-json.log", logConfig{driver: driverJSONFile, maxSize: -1, maxFiles: 1})
	if err := l.open(); err != nil {
		t.Fatal(err)
	}
	out := &lineWriter{log: l, stream: "stdout"}
	errw := &lineWriter{log: l, stream: "stderr"}
	out.Write([]byte("hel"))
	out.Write([]byte("lo\nwor"))
	errw.Write([]byte("oops\n"))
	out.Write([]byte("ld\nlast"))
	out.flush()
	l.close()

	data := mustRead(t, l.path)
	first := strings.SplitN(string(data), "\n", 2)[0]
	if !strings.HasPrefix(first, `{"log":"hello\n","stream":"stdout","time":"`) {
		t.Errorf("first record %s is not Docker's json-file shape", first)
	}
	entries, _, err := readLog(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Stream+":"+e.Log)
	}
	want := []string{"stdout:hello\n", "stderr:oops\n", "stdout:world\n", "stdout:last"}
	if !slices.Equal(got, want) {
		t.Fatalf("records = %q, want %q", got, want)
	}

	var so, se bytes.Buffer
	emit(applyFilter(entries, logFilter{tail: 2}), &so, &se, false)
	if so.String() != "world\nlast" || se.String() != "" {
		t.Errorf("tail 2 = %q / %q", so.String(), se.String())
	}
	so.Reset()
	emit(applyFilter(entries, logFilter{tail: -1}), &so, nil, false)
	if so.String() != "hello\nworld\nlast" {
		t.Errorf("stdout only = %q", so.String())
	}
	so.Reset()
	emit(entries[:1], &so, nil, true)
	if ts := strings.SplitN(so.String(), " ", 2)[0]; len(ts) != len(rfc3339NanoFixed)-5 {
		t.Errorf("timestamp %q is not fixed-width RFC3339Nano", ts)
	}
}

func TestReadLogKeepsPartialLine(t *testing.T) {
	data := []byte(`{"log":"a\n","stream":"stdout","time":"2025-01-01T00:00:00Z"}` + "\n" + `{"log":"b`)
	entries, off, err := readLog(bytes.NewReader(data), 0)
	if err != nil || len(entries) != 1 || off != int64(bytes.IndexByte(data, '\n')+1) {
		t.Fatalf("readLog = %v, %d, %v", entries, off, err)
	}
}

func TestLogFilterTimes(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"1735732800", time.Unix(1735732800, 0)},
		{"1735732800.500000000", time.Unix(1735732800, 500000000)},
		{"2025-01-01T11:00:00Z", now.Add(-time.Hour)},
		{"10m", now.Add(-10 * time.Minute)},
	}
	for _, tt := range tests {
		got, err := parseLogTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseLogTime(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseLogFilter(api.LogsOptions{Tail: "x"}, now); !errdefs.IsInvalidArgument(err) {
		t.Errorf("tail x: %v", err)
	}
	entries := []logEntry{{Log: "a", Time: now.Add(-2 * time.Hour)}, {Log: "b", Time: now.Add(-time.Minute)}, {Log: "c", Time: now}}
	got := applyFilter(entries, logFilter{tail: -1, since: now.Add(-time.Hour), until: now.Add(-time.Second)})
	if len(got) != 1 || got[0].Log != "b" {
		t.Errorf("since/until kept %v", got)
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		in, source, alias, err string
	}{
		{"db:webdb", "/db", "webdb", ""},
		{"db", "/db", "db", ""},
		{"/db:/web/webdb", "/db", "webdb", ""},
		{"", "", "", "empty string specified for links"},
		{"a:b:c", "", "", "bad format for links: a:b:c"},
	}
	for _, tt := range tests {
		l, err := parseLink(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseLink(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || l.Source != tt.source || l.Alias != tt.alias {
			t.Errorf("parseLink(%q) = %+v, %v", tt.in, l, err)
		}
	}
	r := record{Name: "/web", Links: []link{{Source: "/db", Alias: "db"}, {Source: "/cache", Alias: "c"}}}
	if got := inspectLinks(r); !slices.Equal(got, []string{"/db:/web/db", "/cache:/web/c"}) {
		t.Errorf("inspectLinks = %v", got)
	}
}

func TestImageInUseText(t *testing.T) {
	cid := "1234567890ab" + strings.Repeat("0", 52)
	iid := "sha256:abcdef123456" + strings.Repeat("0", 52)
	got := imageInUse("busybox", false, false, cid, iid)
	want := `conflict: unable to remove repository reference "busybox" (must force) - container 1234567890ab is using its referenced image abcdef123456`
	if got != want {
		t.Errorf("imageInUse = %q\nwant %q", got, want)
	}
}

func TestDedupEnv(t *testing.T) {
	got := dedupEnv([]string{"PATH=/bin", "K=file", "A=1", "K=flag", "B="})
	if want := []string{"PATH=/bin", "A=1", "K=flag", "B="}; !slices.Equal(got, want) {
		t.Errorf("dedupEnv = %v, want %v", got, want)
	}
}

func TestSingleReference(t *testing.T) {
	tests := []struct {
		tags, digests []string
		want          bool
	}{
		{[]string{"busybox:latest"}, nil, true},
		{[]string{"busybox:latest", "mine:v1"}, nil, false},
		{[]string{"127.0.0.1:5000/busybox:latest"}, []string{"127.0.0.1:5000/busybox@sha256:aa"}, true},
		{[]string{"busybox:latest"}, []string{"other@sha256:aa"}, false},
		{nil, []string{"a@sha256:aa", "a@sha256:bb"}, true},
		{nil, []string{"a@sha256:aa", "b@sha256:bb"}, false},
	}
	for _, tt := range tests {
		if got := singleReference(tt.tags, tt.digests); got != tt.want {
			t.Errorf("singleReference(%v, %v) = %v, want %v", tt.tags, tt.digests, got, tt.want)
		}
	}
}
