package engine

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"warren/rootless/sandbox"
)

// TestCreateRefusesBadInput: every field create can check is checked there,
// with Docker's text (moby daemon/container.go, daemon/volume/mounts), as a
// 400, and the failed create leaves no record, folder or name behind.
func TestCreateRefusesBadInput(t *testing.T) {
	e, run, dir := newTestEngine(t)
	ctx := context.Background()
	existing := t.TempDir()
	long := strings.Repeat("h", 65)
	for _, tc := range []struct {
		name string
		cfg  container.Config
		hc   container.HostConfig
		want string
	}{
		{"image-traversal", container.Config{Image: "../../etc/passwd"}, container.HostConfig{}, "invalid reference format"},
		{"image-uppercase", container.Config{Image: "BUSYBOX"}, container.HostConfig{}, "invalid reference format: repository name (library/BUSYBOX) must be lowercase"},
		{"restart-unknown", container.Config{}, container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "sometimes"}},
			"invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"},
		{"restart-negative", container.Config{}, container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: -1}},
			"invalid restart policy: maximum retry count cannot be negative"},
		{"cap-add", container.Config{}, container.HostConfig{CapAdd: []string{"foo"}}, `invalid CapAdd: unknown capability: "CAP_FOO"`},
		{"cap-drop", container.Config{}, container.HostConfig{CapDrop: []string{"CAP_NOPE"}}, `invalid CapDrop: unknown capability: "CAP_NOPE"`},
		{"cap-add-privileged", container.Config{}, container.HostConfig{Privileged: true, CapAdd: []string{"x"}}, `invalid CapAdd: unknown capability: "CAP_X"`},
		{"hostname", container.Config{Hostname: long}, container.HostConfig{}, `hostname "` + long + `" is too long (maximum 64 bytes)`},
		{"env-empty-name", container.Config{Env: []string{"=x"}}, container.HostConfig{}, "invalid environment variable: =x"},
		{"env-empty", container.Config{Env: []string{""}}, container.HostConfig{}, "invalid environment variable: "},
		{"env-nul-value", container.Config{Env: []string{"A=b\x00c"}}, container.HostConfig{}, `invalid environment variable "A": contains nul byte (\x00)`},
		{"env-nul-name", container.Config{Env: []string{"A\x00B=c"}}, container.HostConfig{}, `invalid environment variable "A\x00B": contains nul byte (\x00)`},
		{"bind-relative-target", container.Config{}, container.HostConfig{Binds: []string{"/etc:relative"}},
			`invalid volume specification: '/etc:relative': invalid mount config for type "bind": invalid mount path: 'relative' mount path must be absolute`},
		{"bind-root-target", container.Config{}, container.HostConfig{Binds: []string{"/etc:/"}},
			`invalid volume specification: '/etc:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{"bind-empty-target", container.Config{}, container.HostConfig{Binds: []string{"/etc::ro"}},
			`invalid volume specification: '/etc::ro': invalid mount config for type "bind": field Target must not be empty`},
		{"bind-mode-only", container.Config{}, container.HostConfig{Binds: []string{"/etc:ro"}}, `invalid volume specification: '/etc:ro'`},
		{"bind-bad-mode", container.Config{}, container.HostConfig{Binds: []string{"/etc:/x:rw,bogus"}}, `invalid mode: rw,bogus`},
		{"bind-two-rw-modes", container.Config{}, container.HostConfig{Binds: []string{"/etc:/x:ro,rw"}}, `invalid mode: ro,rw`},
		{"bind-four-parts", container.Config{}, container.HostConfig{Binds: []string{"/a:/b:ro:x"}}, `invalid volume specification: '/a:/b:ro:x'`},
		{"bind-empty-source", container.Config{}, container.HostConfig{Binds: []string{":/x"}}, `invalid volume specification: ':/x'`},
		{"named-volume", container.Config{}, container.HostConfig{Binds: []string{"data:/x"}},
			`invalid volume specification: 'data:/x': volumes are not supported by warren; use an absolute host path`},
		{"named-volume-relative-target", container.Config{}, container.HostConfig{Binds: []string{"data:x"}},
			`invalid volume specification: 'data:x': invalid mount config for type "volume": invalid mount path: 'x' mount path must be absolute`},
		{"duplicate-bind", container.Config{}, container.HostConfig{Binds: []string{"/etc:/x", "/tmp:/x/"}}, `Duplicate mount point: /x`},
		{"mount-npipe", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeNamedPipe, Source: `\\.\pipe\x`, Target: "/x"}}},
			`invalid mount config for type "npipe": mount type unknown`},
		{"mount-cluster", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeCluster, Source: "c", Target: "/x"}}},
			`invalid mount config for type "cluster": mount type unknown`},
		{"mount-no-type", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Source: "/etc", Target: "/x"}}},
			`invalid mount config for type "": mount type unknown`},
		{"mount-volume", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "v", Target: "/x"}}},
			`invalid mount config for type "volume": warren supports only bind and tmpfs mounts`},
		{"mount-tmpfs-source", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeTmpfs, Source: "/s", Target: "/x"}}},
			`invalid mount config for type "tmpfs": field Source must not be specified`},
		{"tmpfs-relative", container.Config{}, container.HostConfig{Tmpfs: map[string]string{"x": ""}},
			`invalid mount path: 'x' mount path must be absolute`},
		{"tmpfs-root", container.Config{}, container.HostConfig{Tmpfs: map[string]string{"/": ""}},
			`invalid specification: destination can't be '/'`},
		{"tmpfs-bad-option", container.Config{}, container.HostConfig{Tmpfs: map[string]string{"/x": "size=1m,bogus"}},
			`Invalid tmpfs option ["bogus"]`},
		{"tmpfs-unknown-data", container.Config{}, container.HostConfig{Tmpfs: map[string]string{"/x": "colour=red"}},
			`Invalid tmpfs option ["colour" "red"]`},
		{"tmpfs-duplicates-bind", container.Config{}, container.HostConfig{Binds: []string{existing + ":/x"}, Tmpfs: map[string]string{"/x": ""}},
			`Duplicate mount point: /x`},
		{"sysctl-global", container.Config{}, container.HostConfig{Sysctls: map[string]string{"vm.max_map_count": "1"}},
			`sysctl "vm.max_map_count" is not in a separate kernel namespace`},
		{"sysctl-host-net", container.Config{}, container.HostConfig{NetworkMode: "host", Sysctls: map[string]string{"net.core.somaxconn": "1"}},
			`sysctl "net.core.somaxconn" is not allowed in the hosts network namespace`},
		{"oom-range", container.Config{}, container.HostConfig{OomScoreAdj: -1001}, `Invalid value -1001, range for oom score adj is [-1000, 1000]`},
		{"pid-host", container.Config{}, container.HostConfig{PidMode: "host"},
			`--pid=host is not supported by warren: the engine runs in its own pid namespace, which is not the host's`},
		{"ipc-bogus", container.Config{}, container.HostConfig{IpcMode: "bogus"}, `invalid IPC mode: bogus`},
		{"uts-container", container.Config{}, container.HostConfig{UTSMode: "container:x"}, `invalid UTS mode: container:x`},
		{"pid-empty-container", container.Config{}, container.HostConfig{PidMode: "container:"}, `invalid PID mode: container:`},
		{"device-missing", container.Config{}, container.HostConfig{Resources: container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/dev/nope"}}}},
			`error gathering device information while adding custom device "/dev/nope": no such file or directory`},
		{"device-not-node", container.Config{}, container.HostConfig{Resources: container.Resources{Devices: []container.DeviceMapping{{PathOnHost: existing}}}},
			`error gathering device information while adding custom device "` + existing + `": not a device node`},
		{"shm-negative", container.Config{}, container.HostConfig{ShmSize: -1}, `SHM size can not be less than 0`},
		{"ulimit-type", container.Config{}, container.HostConfig{Resources: container.Resources{Ulimits: []*container.Ulimit{{Name: "nofiles", Soft: 1, Hard: 1}}}},
			`invalid ulimit type: nofiles`},
		{"ulimit-soft-above-hard", container.Config{}, container.HostConfig{Resources: container.Resources{Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 2, Hard: 1}}}},
			`ulimit soft limit must be less than or equal to hard limit: 2 > 1`},
		{"mount-image", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeImage, Source: "busybox", Target: "/x"}}},
			`invalid mount config for type "image": warren supports only bind and tmpfs mounts`},
		{"mount-no-target", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing}}},
			`invalid mount config for type "bind": field Target must not be empty`},
		{"mount-relative-target", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "x"}}},
			`invalid mount config for type "bind": invalid mount path: 'x' mount path must be absolute`},
		{"mount-no-source", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Target: "/x"}}},
			`invalid mount config for type "bind": field Source must not be empty`},
		{"mount-relative-source", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "rel", Target: "/x"}}},
			`invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`},
		{"mount-missing-source", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/nonexistent/src", Target: "/x"}}},
			`invalid mount config for type "bind": bind source path does not exist: /nonexistent/src`},
		{"mount-propagation", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x",
			BindOptions: &mount.BindOptions{Propagation: "sideways"}}}},
			`invalid mount config for type "bind": invalid propagation mode: sideways`},
		{"mount-foreign-options", container.Config{}, container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x",
			VolumeOptions: &mount.VolumeOptions{}}}},
			`invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{"mount-duplicates-bind", container.Config{}, container.HostConfig{Binds: []string{existing + ":/x"},
			Mounts: []mount.Mount{{Type: mount.TypeBind, Source: existing, Target: "/x"}}}, `Duplicate mount point: /x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Image == "" {
				cfg.Image = "busybox"
			}
			hc := tc.hc
			_, err := e.ContainerCreate(ctx, "bad", &container.CreateRequest{Config: &cfg, HostConfig: &hc})
			wantErr(t, err, errdefs.IsInvalidArgument, tc.want)
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if len(ent.Name()) == 64 {
			t.Errorf("a failed create left the folder %s", ent.Name())
		}
	}
	// The name was never taken, and nothing was ever run.
	create(t, e, "bad", container.Config{}, nil)
	if len(run.specs) != 0 {
		t.Errorf("%d processes were created", len(run.specs))
	}
}

// TestCreateAcceptsGoodMounts: what validation allows still reaches the
// runtime as the same mounts.
func TestCreateAcceptsGoodMounts(t *testing.T) {
	e, _, _ := newTestEngine(t)
	src := t.TempDir()
	missing := filepath.Join(t.TempDir(), "made-later")
	id := create(t, e, "ok", container.Config{Env: []string{"A=", "B=x=y"}, Hostname: strings.Repeat("h", 64)}, &container.HostConfig{
		Binds:  []string{src + ":/a", src + ":/b:ro,z,rshared", "/not/yet:/c"},
		CapAdd: []string{"net_admin", "CAP_SYS_TIME", "ALL"}, CapDrop: []string{"all"},
		Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: src, Target: "/d/", ReadOnly: true},
			{Type: mount.TypeBind, Source: missing, Target: "/e", BindOptions: &mount.BindOptions{CreateMountpoint: true}},
			{Type: mount.TypeTmpfs, Target: "/f", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 3 << 20, Mode: 0o1770}},
			{Type: mount.TypeTmpfs, Target: "/g", ReadOnly: true, TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1000}},
		},
		Tmpfs: map[string]string{"/t2": "", "/t1/": "size=1k,exec"},
	})
	c, err := e.lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := userMounts(c.rec.HostConfig)
	if err != nil {
		t.Fatal(err)
	}
	want := []sandbox.Mount{
		{Type: "bind", Source: src, Destination: "/a"},
		{Type: "bind", Source: src, Destination: "/b", ReadOnly: true},
		{Type: "bind", Source: "/not/yet", Destination: "/c"},
		{Type: "bind", Source: src, Destination: "/d", ReadOnly: true},
		{Type: "bind", Source: missing, Destination: "/e"},
		{Type: "tmpfs", Destination: "/f", Options: "size=3m,mode=1770"},
		{Type: "tmpfs", Destination: "/g", ReadOnly: true, Options: "size=1000"},
		{Type: "tmpfs", Destination: "/t1", Options: "size=1k,exec"},
		{Type: "tmpfs", Destination: "/t2"},
	}
	if len(got) != len(want) {
		t.Fatalf("mounts %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestValidMountMode(t *testing.T) {
	for mode, want := range map[string]bool{
		"": true, "ro": true, "rw": true, "ro,Z": true, "z,rslave,nocopy,cached": true,
		"ro,rw": false, "z,Z": false, "shared,private": false, "ro,": false, "RO": false, "exec": false,
	} {
		if got := validMountMode(mode); got != want {
			t.Errorf("validMountMode(%q) = %v, want %v", mode, got, want)
		}
	}
}

// FuzzParseBind: whatever -v value comes in, parseBind does not panic, and
// what it accepts is an absolute host path bound on an absolute,
// non-root, clean container path.
func FuzzParseBind(f *testing.F) {
	for _, s := range []string{"/a:/b", "/a:/b:ro", "/etc:relative", "data:/x", "/a:/b:ro:x", ":/x", "/a:", "/a::ro", "/a:/", "/a:/b:z,Z", "/a:/b/../c:rshared,ro"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := parseBind(raw)
		if err != nil {
			return
		}
		if !path.IsAbs(m.Source) || !path.IsAbs(m.Destination) || m.Destination == "/" || path.Clean(m.Destination) != m.Destination {
			t.Errorf("parseBind(%q) accepted %+v", raw, m)
		}
	})
}
