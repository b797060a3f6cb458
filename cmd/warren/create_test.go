package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/urfave/cli/v2"
)

// parseRun parses a `warren run` command line with the real flag set and
// app settings, and returns the flags the action would see.
func parseRun(t *testing.T, args ...string) createFlags {
	t.Helper()
	var got createFlags
	s := &session{streams: streams{out: &bytes.Buffer{}, err: &bytes.Buffer{}}}
	app := newApp(s)
	app.Before = nil
	run := runCommand()
	run.Action = func(c *cli.Context) error {
		got = readCreateFlags(c)
		return nil
	}
	app.Commands = []*cli.Command{run}
	if err := app.Run(append([]string{"warren", "run"}, args...)); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return got
}

func noEnv(string) (string, bool) { return "", false }

// requestJSON is the create body as the daemon would receive it: Config
// fields at the top level plus HostConfig and NetworkingConfig.
func requestJSON(t *testing.T, f createFlags, forRun bool) map[string]any {
	t.Helper()
	opts, err := buildCreate(f, forRun, noEnv)
	if err != nil {
		t.Fatalf("buildCreate: %v", err)
	}
	b, err := json.Marshal(container.CreateRequest{
		Config: opts.Config, HostConfig: opts.HostConfig, NetworkingConfig: opts.NetworkingConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonOf renders a value the way the assertions quote it.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCreateRequest compares the request built from flags with what the
// docker 28.2.2 CLI sent for the same flags (docker-behavior 3.1, 5.3).
func TestCreateRequest(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]string // JSON path -> JSON value (objects with sorted keys)
	}{
		{"detached with ports", []string{"-d", "-P", "--name", "web", "-p", "8080:80", "busybox", "cmd", "a", "b"}, map[string]string{
			"Image": `"busybox"`, "Cmd": `["cmd","a","b"]`,
			"AttachStdin": "false", "AttachStdout": "false", "AttachStderr": "false", "StdinOnce": "false",
			"ExposedPorts":                                       `{"80/tcp":{}}`,
			"HostConfig.PortBindings":                            `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}`,
			"HostConfig.PublishAllPorts":                         "true",
			"HostConfig.NetworkMode":                             `"default"`,
			"HostConfig.RestartPolicy":                           `{"MaximumRetryCount":0,"Name":"no"}`,
			"HostConfig.MemorySwappiness":                        "-1",
			"NetworkingConfig.EndpointsConfig.default.NetworkID": `""`,
			"Volumes": `{}`,
			"Labels":  `{}`,
		}},
		{"interactive tty", []string{"--rm", "-it", "busybox", "sh"}, map[string]string{
			"AttachStdin": "true", "AttachStdout": "true", "AttachStderr": "true",
			"OpenStdin": "true", "StdinOnce": "true", "Tty": "true",
			"HostConfig.AutoRemove": "true",
		}},
		{"attached without stdin", []string{"busybox"}, map[string]string{
			"AttachStdin": "false", "AttachStdout": "true", "AttachStderr": "true", "OpenStdin": "false",
		}},
		{"combined short flags", []string{"-dit", "busybox"}, map[string]string{
			"AttachStdin": "false", "AttachStdout": "false", "OpenStdin": "true", "Tty": "true",
		}},
		{"env keeps commas", []string{"-e", "A=1,2", "-e", "B=x", "busybox"}, map[string]string{
			"Env": `["A=1,2","B=x"]`,
		}},
		{"port forms", []string{"-p", "127.0.0.1::53/udp", "-p", "7000", "--expose", "3000", "--expose", "4000-4001/udp", "busybox"}, map[string]string{
			"ExposedPorts":            `{"3000/tcp":{},"4000/udp":{},"4001/udp":{},"53/udp":{},"7000/tcp":{}}`,
			"HostConfig.PortBindings": `{"53/udp":[{"HostIp":"127.0.0.1","HostPort":""}],"7000/tcp":[{"HostIp":"","HostPort":""}]}`,
		}},
		{"publish all alone", []string{"-P", "busybox"}, map[string]string{
			"HostConfig.PortBindings": `{}`, "HostConfig.PublishAllPorts": "true",
		}},
		{"links and hosts", []string{"--link", "db:dbalias", "--link", "other", "--add-host", "foo:1.2.3.4", "--add-host", "gw:host-gateway", "busybox"}, map[string]string{
			"HostConfig.Links":      `["db:dbalias","other"]`,
			"HostConfig.ExtraHosts": `["foo:1.2.3.4","gw:host-gateway"]`,
		}},
		{"capabilities", []string{"--cap-add", "net_admin", "--cap-add", "CAP_NET_ADMIN", "--cap-drop", "all", "busybox"}, map[string]string{
			"HostConfig.CapAdd": `["CAP_NET_ADMIN"]`, "HostConfig.CapDrop": `["ALL"]`,
		}},
		{"entrypoint cleared", []string{"--entrypoint=", "busybox"}, map[string]string{"Entrypoint": `[""]`}},
		{"entrypoint word", []string{"--entrypoint", "/bin/sh -c", "busybox"}, map[string]string{"Entrypoint": `["/bin/sh -c"]`}},
		{"misc config", []string{"-h", "box", "-u", "1000:1000", "-w", "/tmp", "-l", "a=1", "-l", "b", "--stop-signal", "SIGINT", "--stop-timeout", "3", "busybox"}, map[string]string{
			"Hostname": `"box"`, "User": `"1000:1000"`, "WorkingDir": `"/tmp"`, "Labels": `{"a":"1","b":""}`,
			"StopSignal": `"SIGINT"`, "StopTimeout": "3",
		}},
		{"host config switches", []string{"--privileged", "--read-only", "--init", "--restart", "on-failure:3", "--net", "host", "busybox"}, map[string]string{
			"HostConfig.Privileged": "true", "HostConfig.ReadonlyRootfs": "true", "HostConfig.Init": "true",
			"HostConfig.RestartPolicy": `{"MaximumRetryCount":3,"Name":"on-failure"}`,
			"HostConfig.NetworkMode":   `"host"`, "NetworkingConfig.EndpointsConfig.host.NetworkID": `""`,
		}},
		{"dns", []string{"--dns", "1.1.1.1", "--dns-search", "example.com", "--dns-option", "ndots:2", "busybox"}, map[string]string{
			"HostConfig.Dns": `["1.1.1.1"]`, "HostConfig.DnsSearch": `["example.com"]`, "HostConfig.DnsOptions": `["ndots:2"]`,
		}},
		{"volumes", []string{"-v", "/src:/dst:ro", "-v", "/anon", "busybox"}, map[string]string{
			"HostConfig.Binds": `["/src:/dst:ro"]`, "Volumes": `{"/anon":{}}`,
		}},
		{"mounts and limits", []string{"--tmpfs", "/run:size=1m", "--mount", "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770,ro",
			"--mount", "type=bind,src=/s,target=/b,bind-propagation=rslave", "--ulimit", "nofile=100:200", "--ulimit", "core=-1", "--shm-size", "128m", "busybox"}, map[string]string{
			"HostConfig.Tmpfs":   `{"/run":"size=1m"}`,
			"HostConfig.Mounts":  `[{"ReadOnly":true,"Target":"/t","TmpfsOptions":{"Mode":1016,"SizeBytes":2097152},"Type":"tmpfs"},{"BindOptions":{"Propagation":"rslave"},"Source":"/s","Target":"/b","Type":"bind"}]`,
			"HostConfig.Ulimits": `[{"Hard":200,"Name":"nofile","Soft":100},{"Hard":-1,"Name":"core","Soft":-1}]`,
			"HostConfig.ShmSize": "134217728",
		}},
		{"process options", []string{"--sysctl", "net.core.somaxconn=10", "--group-add", "audio", "--oom-score-adj", "100", "--pid", "host",
			"--device", "/dev/fuse", "--device", "/dev/net/tun:/dev/tun:r", "busybox"}, map[string]string{
			"HostConfig.Sysctls":     `{"net.core.somaxconn":"10"}`,
			"HostConfig.GroupAdd":    `["audio"]`,
			"HostConfig.OomScoreAdj": "100",
			"HostConfig.PidMode":     `"host"`,
			"HostConfig.Devices":     `[{"CgroupPermissions":"rwm","PathInContainer":"/dev/fuse","PathOnHost":"/dev/fuse"},{"CgroupPermissions":"r","PathInContainer":"/dev/tun","PathOnHost":"/dev/net/tun"}]`,
		}},
		{"flags after the image belong to the command", []string{"busybox", "ls", "-l", "--rm"}, map[string]string{
			"Cmd": `["ls","-l","--rm"]`, "HostConfig.AutoRemove": "false",
		}},
		{"attach streams", []string{"-a", "stdout", "busybox"}, map[string]string{
			"AttachStdin": "false", "AttachStdout": "true", "AttachStderr": "false",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := requestJSON(t, parseRun(t, tt.args...), true)
			for path, want := range tt.want {
				if got := jsonOf(lookupPath(body, path)); got != want {
					t.Errorf("%s = %s, want %s", path, got, want)
				}
			}
		})
	}
}

// TestCreateKeepsStdinOpen: `create -i` (unlike run) leaves StdinOnce off,
// so `start -ai` can attach more than once.
func TestCreateKeepsStdinOpen(t *testing.T) {
	body := requestJSON(t, parseRun(t, "-i", "busybox"), false)
	if jsonOf(body["StdinOnce"]) != "false" || jsonOf(body["OpenStdin"]) != "true" {
		t.Errorf("create -i: StdinOnce=%v OpenStdin=%v", body["StdinOnce"], body["OpenStdin"])
	}
}

func TestCreateFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--rm", "--restart", "always", "busybox"}, "conflicting options: cannot specify both --restart and --rm"},
		{[]string{"-d", "-a", "stdout", "busybox"}, "conflicting options: cannot specify both --attach and --detach"},
		{[]string{"-a", "stdjunk", "busybox"}, `invalid argument "stdjunk" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`},
		{[]string{"-p", "abc", "busybox"}, "invalid containerPort: abc"},
		{[]string{"--expose", "1:2", "busybox"}, "invalid port format for --expose: 1:2"},
		{[]string{"--restart", ":3", "busybox"}, "invalid restart policy format: no policy provided before colon"},
		{[]string{"--restart", "on-failure:x", "busybox"}, "invalid restart policy format: maximum retry count must be an integer"},
		{[]string{"--dns", "nope", "busybox"}, "IP address is not correctly formatted: nope"},
		{[]string{"--add-host", "foo", "busybox"}, `invalid argument "foo" for "--add-host" flag: bad format for add-host: "foo"`},
		{[]string{"--add-host", "foo:300.1.1.1", "busybox"}, `invalid argument "foo:300.1.1.1" for "--add-host" flag: invalid IP address in add-host: "300.1.1.1"`},
		{[]string{"--link", "a:b:c", "busybox"}, `invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c`},
		{[]string{"-e", "=x", "busybox"}, `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`},
		{[]string{"--pull", "sometimes", "busybox"}, `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`},
		{[]string{"--mount", "src=/a,dst=/b", "busybox"}, `invalid argument "src=/a,dst=/b" for "--mount" flag: type is required`},
		{[]string{"--mount", "type=tmpfs", "busybox"}, `invalid argument "type=tmpfs" for "--mount" flag: target is required`},
		{[]string{"--mount", "type=tmpfs,dst=/t,tmpfs-size=lots", "busybox"}, `invalid argument "type=tmpfs,dst=/t,tmpfs-size=lots" for "--mount" flag: invalid value for tmpfs-size: lots`},
		{[]string{"--mount", "type=tmpfs,dst=/t,tmpfs-mode=9", "busybox"}, `invalid argument "type=tmpfs,dst=/t,tmpfs-mode=9" for "--mount" flag: invalid value for tmpfs-mode: 9`},
		{[]string{"--mount", "type=bind,dst=/t,tmpfs-mode=700", "busybox"}, `invalid argument "type=bind,dst=/t,tmpfs-mode=700" for "--mount" flag: cannot mix 'tmpfs-*' options with mount type 'bind'`},
		{[]string{"--mount", "type=tmpfs,dst=/t,colour=red", "busybox"}, `invalid argument "type=tmpfs,dst=/t,colour=red" for "--mount" flag: unexpected key 'colour' in 'colour=red'`},
		{[]string{"--mount", "type=tmpfs,dst=/t,bogus", "busybox"}, `invalid argument "type=tmpfs,dst=/t,bogus" for "--mount" flag: invalid field 'bogus' must be a key=value pair`},
		{[]string{"--ulimit", "nofile", "busybox"}, `invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile`},
		{[]string{"--ulimit", "nofiles=1", "busybox"}, `invalid argument "nofiles=1" for "--ulimit" flag: invalid ulimit type: nofiles`},
		{[]string{"--ulimit", "nofile=2:1", "busybox"}, `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1`},
		{[]string{"--sysctl", "kernel.panic=1", "busybox"}, `invalid argument "kernel.panic=1" for "--sysctl" flag: sysctl 'kernel.panic=1' is not allowed`},
		{[]string{"--sysctl", "net.core.somaxconn", "busybox"}, `invalid argument "net.core.somaxconn" for "--sysctl" flag: sysctl 'net.core.somaxconn' is not allowed`},
		{[]string{"--device", "/dev/a:/dev/b:rx", "busybox"}, `invalid argument "/dev/a:/dev/b:rx" for "--device" flag: invalid device mode: rx`},
		{[]string{"--device", "dev/a", "busybox"}, `invalid argument "dev/a" for "--device" flag: bad format for path: dev/a`},
		{[]string{"--device", "/a:/b:r:x", "busybox"}, `invalid argument "/a:/b:r:x" for "--device" flag: invalid device specification: /a:/b:r:x`},
		{[]string{"--pid", "bogus", "busybox"}, "--pid: invalid PID mode"},
		{[]string{"--uts", "container:x", "busybox"}, "--uts: invalid UTS mode"},
		{[]string{"--shm-size", "big", "busybox"}, `invalid argument "big" for "--shm-size" flag: invalid size: 'big'`},
	}
	for _, tt := range tests {
		_, err := buildCreate(parseRun(t, tt.args...), true, noEnv)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestValidateEnvLooksUpBareKeys(t *testing.T) {
	lookup := func(k string) (string, bool) { return "v", k == "SET" }
	for in, want := range map[string]string{"SET": "SET=v", "UNSET": "UNSET", "A=": "A=", "A=b=c": "A=b=c"} {
		if got, err := validateEnv(in, lookup); err != nil || got != want {
			t.Errorf("validateEnv(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	tests := []struct {
		msg  string
		want int
	}{
		{`failed to create task: exec: "nope": executable file not found in $PATH`, 127},
		{"exec /bin/nope: no such file or directory", 127},
		{"exec /etc/passwd: permission denied", 126},
		{"exec /tmp: is a directory", 126},
		{"No such image: nosuch:latest", 125},
		{`Conflict. The container name "/web" is already in use`, 125},
	}
	for _, tt := range tests {
		if got := runExitStatus(tt.msg); got != tt.want {
			t.Errorf("runExitStatus(%q) = %d, want %d", tt.msg, got, tt.want)
		}
	}
	var se statusError
	err := withHelp("run", errors.New("Error response from daemon: No such container: x"))
	if !errors.As(err, &se) || se.status != 125 ||
		se.msg != "warren: Error response from daemon: No such container: x\n\nRun 'warren run --help' for more information" {
		t.Errorf("withHelp = %#v", err)
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantText   string
	}{
		{nil, 0, ""},
		{errors.New("Error response from daemon: No such container: x"), 1, "Error response from daemon: No such container: x\n"},
		{statusError{status: 3}, 3, ""},
		{statusError{status: 125, msg: "boom"}, 125, "boom\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if got := report(&buf, tt.err); got != tt.wantStatus || buf.String() != tt.wantText {
			t.Errorf("report(%v) = %d %q, want %d %q", tt.err, got, buf.String(), tt.wantStatus, tt.wantText)
		}
	}
}

func TestUsageErrorsReadLikeDocker(t *testing.T) {
	tests := []struct {
		args       []string
		wantStatus int
		wantText   string
	}{
		{[]string{"run", "-x", "busybox"}, 125, "unknown shorthand flag: 'x' in -x\n\nUsage:  warren run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'warren run --help' for more information\n"},
		{[]string{"ps", "--bogus"}, 125, "unknown flag: --bogus\n\nUsage:  warren ps [OPTIONS]\n\nRun 'warren ps --help' for more information\n"},
		{[]string{"stop", "-t"}, 125, "flag needs an argument: 't' in -t\n\nUsage:  warren stop [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'warren stop --help' for more information\n"},
		{[]string{"stop"}, 1, "warren: 'warren stop' requires at least 1 argument\n\nUsage:  warren stop [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'warren stop --help' for more information\n"},
		{[]string{"ps", "x"}, 1, "warren: 'warren ps' accepts no arguments\n\nUsage:  warren ps [OPTIONS]\n\nRun 'warren ps --help' for more information\n"},
		{[]string{"tag", "a"}, 1, "warren: 'warren tag' requires 2 arguments\n\nUsage:  warren tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun 'warren tag --help' for more information\n"},
		{[]string{"port"}, 1, "warren: 'warren port' requires at least 1 and at most 2 arguments\n\nUsage:  warren port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'warren port --help' for more information\n"},
		{[]string{"image", "inspect"}, 1, "warren: 'warren image inspect' requires at least 1 argument\n\nUsage:  warren image inspect [OPTIONS] IMAGE [IMAGE...]\n\nSee 'warren image inspect --help' for more information\n"},
		{[]string{"run", "-p", "abc", "busybox"}, 125, "warren: invalid containerPort: abc\n\nRun 'warren run --help' for more information\n"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		s := &session{streams: streams{out: &out, err: &errOut}}
		app := newApp(s)
		app.Before = nil
		status := report(&errOut, app.Run(append([]string{"warren"}, tt.args...)))
		if status != tt.wantStatus || errOut.String() != tt.wantText {
			t.Errorf("%v: status %d, stderr\n%s\nwant %d\n%s", tt.args, status, errOut.String(), tt.wantStatus, tt.wantText)
		}
	}
}

// lookupPath walks a dotted path through decoded JSON.
func lookupPath(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[p]
	}
	return cur
}

func TestCIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cid")
	c, err := newCIDFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a cidfile of a failed create must be removed, stat: %v", err)
	}
	c, _ = newCIDFile(path)
	if err := c.write("abc"); err != nil {
		t.Fatal(err)
	}
	c.close()
	if b, _ := os.ReadFile(path); string(b) != "abc" {
		t.Errorf("cidfile holds %q", b)
	}
	if _, err := newCIDFile(path); err == nil || !strings.Contains(err.Error(), "container ID file found") {
		t.Errorf("an existing cidfile must be refused, got %v", err)
	}
}

func TestInteractiveTTYNeedsATerminal(t *testing.T) {
	if err := checkTTY(strings.NewReader(""), true, true); err == nil || err.Error() != "the input device is not a TTY" {
		t.Errorf("checkTTY = %v", err)
	}
	if err := checkTTY(strings.NewReader(""), false, true); err != nil {
		t.Errorf("-t without -i needs no terminal: %v", err)
	}
}
