package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
broken line
dup:x:33:99:dup:/dup:/bin/sh
`

const testGroup = `root:x:0:
wheel:x:10:root
daemon:x:1:
staff:x:50:www-data,daemon
www-data:x:33:
adm:x:4:www-data
`

func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    execUser
		wantErr string
	}{
		{"", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"root", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"0", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"www-data", execUser{UID: 33, GID: 33, Home: "/var/www", Sgids: []int{50, 4}}, ""},
		// The first passwd match wins for a numeric uid too.
		{"33", execUser{UID: 33, GID: 33, Home: "/var/www", Sgids: []int{50, 4}}, ""},
		// Numeric ids need not exist; Home stays "/".
		{"1234", execUser{UID: 1234, GID: 0, Home: "/"}, ""},
		{"1234:5678", execUser{UID: 1234, GID: 5678, Home: "/"}, ""},
		// An explicit group replaces the primary one and drops supplementary ones.
		{"www-data:staff", execUser{UID: 33, GID: 50, Home: "/var/www"}, ""},
		{"daemon:33", execUser{UID: 1, GID: 33, Home: "/usr/sbin"}, ""},
		{"1234:wheel", execUser{UID: 1234, GID: 10, Home: "/"}, ""},
		{"nosuch", execUser{}, "unable to find user nosuch: no matching entries in passwd file"},
		{"root:nosuch", execUser{}, "unable to find group nosuch: no matching entries in group file"},
	} {
		got, err := resolveUser(tc.spec, strings.NewReader(testPasswd), strings.NewReader(testGroup))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("resolveUser(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveUser(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("resolveUser(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
	}
}

func TestResolveUserWithoutFiles(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    execUser
		wantErr bool
	}{
		{"", execUser{Home: "/"}, false},
		{"1000:1000", execUser{UID: 1000, GID: 1000, Home: "/"}, false},
		{"root", execUser{}, true},
		{"0:wheel", execUser{}, true},
	} {
		got, err := resolveUser(tc.spec, nil, nil)
		if (err != nil) != tc.wantErr || (!tc.wantErr && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("resolveUser(%q) without files = %+v, %v", tc.spec, got, err)
		}
	}
}

func TestCapabilities(t *testing.T) {
	all := allCapabilities()
	without := func(list []string, drop ...string) []string {
		var out []string
		for _, c := range list {
			if !contains(drop, c) {
				out = append(out, c)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "default", want: DefaultCapabilities},
		{name: "privileged", privileged: true, drop: []string{"ALL"}, want: all},
		{name: "add without prefix", add: []string{"net_admin"}, want: append(DefaultCapabilities[:len(DefaultCapabilities):len(DefaultCapabilities)], "CAP_NET_ADMIN")},
		{name: "add present is no duplicate", add: []string{"CAP_CHOWN"}, want: DefaultCapabilities},
		{name: "drop", drop: []string{"chown", "CAP_KILL"}, want: without(DefaultCapabilities, "CAP_CHOWN", "CAP_KILL")},
		{name: "drop all add some", drop: []string{"all"}, add: []string{"NET_BIND_SERVICE"}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "drop all", drop: []string{"ALL"}, want: nil},
		{name: "add all drop some", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"}, want: without(all, "CAP_SYS_ADMIN")},
		{name: "unknown add", add: []string{"FOO"}, wantErr: `invalid CapAdd: unknown capability: "CAP_FOO"`},
		{name: "unknown drop", drop: []string{"cap_bar"}, wantErr: `invalid CapDrop: unknown capability: "CAP_BAR"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Capabilities(tc.add, tc.drop, tc.privileged)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCapMask(t *testing.T) {
	// Docker's default set is the CapBnd a container shows.
	if got := fmt.Sprintf("%08x%08x", capMask(DefaultCapabilities)[1], capMask(DefaultCapabilities)[0]); got != "00000000a80425fb" {
		t.Errorf("default mask = %s, want 00000000a80425fb", got)
	}
	if got := capMask([]string{"CAP_CHECKPOINT_RESTORE", "CAP_CHOWN"}); got != [2]uint32{1, 1 << 8} {
		t.Errorf("mask = %x", got)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	sbin := filepath.Join(dir, "sbin")
	for _, d := range []string{bin, sbin, filepath.Join(bin, "adir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, mode os.FileMode) {
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "tool"), 0o755)
	write(filepath.Join(sbin, "tool"), 0o755)
	write(filepath.Join(sbin, "only"), 0o755)
	write(filepath.Join(bin, "noexec"), 0o644)
	t.Setenv("PATH", os.Getenv("PATH"))

	for _, tc := range []struct {
		name    string
		env     []string
		want    string
		wantErr string
	}{
		{"tool", []string{"PATH=" + bin + ":" + sbin}, filepath.Join(bin, "tool"), ""},
		{"tool", []string{"PATH=" + sbin + ":" + bin}, filepath.Join(sbin, "tool"), ""},
		{"only", []string{"PATH=/x", "PATH=" + bin + ":" + sbin}, filepath.Join(sbin, "only"), ""},
		{"nosuch", []string{"PATH=" + bin}, "", `exec: "nosuch": executable file not found in $PATH`},
		{"noexec", []string{"PATH=" + bin}, "", `exec: "noexec": executable file not found in $PATH`},
		{filepath.Join(bin, "tool"), nil, filepath.Join(bin, "tool"), ""},
		{filepath.Join(bin, "adir"), nil, "", fmt.Sprintf(`exec: %q: is a directory`, filepath.Join(bin, "adir"))},
		{"/nosuch", nil, "", `exec: "/nosuch": stat /nosuch: no such file or directory`},
	} {
		got, err := lookPath(tc.name, tc.env)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("lookPath(%q, %v) error = %v, want %q", tc.name, tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("lookPath(%q, %v) = %q, %v; want %q", tc.name, tc.env, got, err, tc.want)
		}
	}
}

func TestFailureCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&exec.Error{Name: "x", Err: exec.ErrNotFound}, 127},
		{&exec.Error{Name: "/x", Err: &fs.PathError{Op: "stat", Path: "/x", Err: syscall.ENOENT}}, 127},
		{&exec.Error{Name: "/etc", Err: syscall.EISDIR}, 126},
		{&os.PathError{Op: "exec", Path: "/x", Err: syscall.EACCES}, 126},
		{errors.New("error during container init: setuid"), 128},
	} {
		if got := failureCode(tc.err); got != tc.want {
			t.Errorf("failureCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// The child's code travels in the sync message and comes out of the
// parent's error as a typed field, through the wrapping Exec adds.
func TestStartErrorCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error // as the child failed
		want int
	}{
		{"not found", &exec.Error{Name: "nosuch", Err: exec.ErrNotFound}, 127},
		{"missing path", &exec.Error{Name: "/nonexistent", Err: &fs.PathError{Op: "stat", Path: "/nonexistent", Err: syscall.ENOENT}}, 127},
		{"directory", &os.PathError{Op: "exec", Path: "/etc", Err: syscall.EISDIR}, 126},
		{"not executable", &os.PathError{Op: "exec", Path: "/etc/passwd", Err: syscall.EACCES}, 126},
		{"setup", errors.New("error during container init: mount proc: operation not permitted"), 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := json.Marshal(syncMsg{Type: msgError, Error: tc.err.Error(), Code: failureCode(tc.err)})
			if err != nil {
				t.Fatal(err)
			}
			var m syncMsg
			if err := json.Unmarshal(wire, &m); err != nil {
				t.Fatal(err)
			}
			got := childError(createPrefix, m, nil, nil)
			if code := ExitCode(got); code != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", got, code, tc.want)
			}
			if code := ExitCode(fmt.Errorf("%w: unknown", got)); code != tc.want {
				t.Errorf("ExitCode of the wrapped exec error = %d, want %d", code, tc.want)
			}
			if got.Error() != createPrefix+tc.err.Error() {
				t.Errorf("text = %q, want %q", got, createPrefix+tc.err.Error())
			}
		})
	}
	// Errors the engine makes itself (links, ports) are Docker's exitUnknown.
	if code := ExitCode(errors.New("Cannot link to a non running container: /db AS /web/db")); code != 128 {
		t.Errorf("ExitCode of a plain error = %d, want 128", code)
	}
	if code := ExitCode(&StartError{Msg: "no code sent"}); code != 128 {
		t.Errorf("ExitCode without a code = %d, want 128", code)
	}
}

func TestWithHome(t *testing.T) {
	if got := withHome([]string{"A=1"}, "/root"); !reflect.DeepEqual(got, []string{"A=1", "HOME=/root"}) {
		t.Errorf("got %v", got)
	}
	if got := withHome([]string{"HOME=/x"}, "/root"); !reflect.DeepEqual(got, []string{"HOME=/x"}) {
		t.Errorf("got %v", got)
	}
	if got := withHome(nil, ""); !reflect.DeepEqual(got, []string{"HOME=/"}) {
		t.Errorf("got %v", got)
	}
}

func TestSecurePath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"run", "usr/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"var":       "/nonexistent/../usr", // absolute: resolved inside root
		"usr/lib64": "lib",                 // relative
		"escape":    "../../../../etc",     // must not leave root
		"loop":      "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"/etc/hosts", "/etc/hosts"},
		{"/var/lib64/x", "/usr/lib/x"},
		{"/escape/passwd", "/etc/passwd"},
		{"/../../etc", "/etc"},
		{"run/./a/../b", "/run/b"},
		{"/", ""},
	} {
		got, err := securePath(root, tc.in)
		if err != nil || got != filepath.Join(root, tc.want) {
			t.Errorf("securePath(%q) = %q, %v; want %q", tc.in, got, err, filepath.Join(root, tc.want))
		}
	}
	if _, err := securePath(root, "/loop/x"); err == nil {
		t.Error("securePath through a symlink loop succeeded")
	}
}

func TestOverlayData(t *testing.T) {
	data, dir := overlayData([]string{"/d/l/b", "/d/l/a"}, "/d/c/upper", "/d/c/work")
	if want := "lowerdir=/d/l/b:/d/l/a,upperdir=/d/c/upper,workdir=/d/c/work,userxattr"; data != want || dir != "" {
		t.Errorf("overlayData = %q, %q", data, dir)
	}
	// Many long layer paths do not fit in a page: they become relative.
	var lowers []string
	for i := 0; i < 60; i++ {
		lowers = append(lowers, fmt.Sprintf("/home/u/.local/share/warren/layers/%064d/fs", i))
	}
	data, dir = overlayData(lowers, "/home/u/.local/share/warren/containers/c1/upper", "/home/u/.local/share/warren/containers/c1/work")
	if dir != "/home/u/.local/share/warren" {
		t.Errorf("dir = %q", dir)
	}
	if !strings.HasPrefix(data, "lowerdir=layers/"+fmt.Sprintf("%064d", 0)+"/fs:") || !strings.HasSuffix(data, ",upperdir=containers/c1/upper,workdir=containers/c1/work,userxattr") {
		t.Errorf("data = %q", data)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{syscall.WaitStatus(3 << 8), 3},
		{syscall.WaitStatus(0), 0},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
		{syscall.WaitStatus(syscall.SIGTERM), 143},
	} {
		if got := exitCode(tc.ws); got != tc.want {
			t.Errorf("exitCode(%#x) = %d, want %d", uint32(tc.ws), got, tc.want)
		}
	}
}

// The init and the engine are the same binary built at the same time, but
// the request still has to survive JSON: check every field does.
func TestSpecJSON(t *testing.T) {
	spec := &Spec{
		ID: "abc", Hostname: "abc", Lowers: []string{"/l2", "/l1"}, Upper: "/u", Work: "/w", Rootfs: "/r",
		Args: []string{"sh", "-c", "echo"}, Env: []string{"A=1"}, Cwd: "/app", User: "1:2",
		Tty: true, OpenStdin: true, Mounts: []Mount{{Source: "/s", Destination: "/d", ReadOnly: true}},
		HostsPath: "/h", HostnamePath: "/hn", ResolvConfPath: "/rc", NetNS: "/proc/1/ns/net",
		CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"ALL"}, Privileged: true, ReadonlyRootfs: true,
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var got Spec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, spec) {
		t.Errorf("round trip = %+v, want %+v", got, *spec)
	}
	req := execRequest{Pid: 42, Spec: &ExecSpec{Args: []string{"ls"}, Env: []string{"B=2"}, Cwd: "/", User: "u", Tty: true, CapDrop: []string{"KILL"}}}
	if b, err = json.Marshal(req); err != nil {
		t.Fatal(err)
	}
	var gotReq execRequest
	if err := json.Unmarshal(b, &gotReq); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotReq, req) {
		t.Errorf("exec round trip = %+v, want %+v", gotReq, req)
	}
}
