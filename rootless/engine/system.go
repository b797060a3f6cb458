package engine

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
	"golang.org/x/sys/unix"
)

// Version is warren's own release; the API versions are Docker's.
const (
	Version       = "0.1.0"
	apiVersion    = "1.50"
	minAPIVersion = "1.24"
)

// GitCommit and BuildTime are set by the linker (-X) in release builds.
var GitCommit, BuildTime = "", ""

func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Version is GET /version.
func (e *Engine) Version(ctx context.Context) system.VersionResponse {
	kernel := kernelVersion()
	return system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "warren"},
		Version:       Version,
		APIVersion:    apiVersion,
		MinAPIVersion: minAPIVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GoVersion:     runtime.Version(),
		KernelVersion: kernel,
		GitCommit:     GitCommit,
		BuildTime:     BuildTime,
		Components: []system.ComponentVersion{{
			Name:    "Engine",
			Version: Version,
			Details: map[string]string{
				"ApiVersion":    apiVersion,
				"MinAPIVersion": minAPIVersion,
				"GoVersion":     runtime.Version(),
				"Os":            runtime.GOOS,
				"Arch":          runtime.GOARCH,
				"KernelVersion": kernel,
				"GitCommit":     GitCommit,
				"BuildTime":     BuildTime,
				"Experimental":  "false",
			},
		}},
	}
}

// HostLoopbackLabel is the daemon label in GET /info that says whether
// containers reach the host's 127.0.0.1 (`warren info` shows it).
const HostLoopbackLabel = "warren.host-loopback"

// Info is GET /info.
func (e *Engine) Info(ctx context.Context) system.Info {
	var running, stopped, paused int
	all := e.containers()
	for _, c := range all {
		switch c.snapshot().State.Status {
		case container.StateRunning:
			running++
		case container.StatePaused:
			paused++
		default:
			stopped++
		}
	}
	host, _ := os.Hostname()
	cg := detectCgroups()
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	return system.Info{
		ID:                "warren-" + strconv.Itoa(os.Getuid()),
		Containers:        len(all),
		ContainersRunning: running,
		ContainersPaused:  paused,
		ContainersStopped: stopped,
		Images:            len(e.images.List()),
		Driver:            "overlay2",
		Name:              host,
		ServerVersion:     Version,
		OperatingSystem:   operatingSystem(),
		OSType:            runtime.GOOS,
		Architecture:      runtime.GOARCH,
		KernelVersion:     kernelVersion(),
		NCPU:              runtime.NumCPU(),
		MemTotal:          int64(si.Totalram) * int64(si.Unit),
		DockerRootDir:     e.dataDir,
		SecurityOptions:   []string{"name=seccomp,profile=builtin", "name=rootless"},
		Labels:            []string{HostLoopbackLabel + "=" + strconv.FormatBool(e.hostLoopback), CgroupLabel + "=" + cg.label()},
		LoggingDriver:     "json-file",
		CgroupDriver:      "none", // so MemoryLimit, CPUShares, PidsLimit… are false
		CgroupVersion:     cg.version,
		Warnings:          cg.infoWarnings(),
		DefaultRuntime:    "warren",
		Swarm:             swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
	}
}

// operatingSystem is PRETTY_NAME from os-release, as Docker reports it.
func operatingSystem() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return v
		}
	}
	return runtime.GOOS
}
