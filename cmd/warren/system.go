package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/security"
	"github.com/urfave/cli/v2"

	"warren/rootless/bootstrap"
	"warren/rootless/engine"
)

// gitCommit and buildTime are set by the release build with -ldflags.
var (
	gitCommit = "unknown"
	buildTime = ""
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name: "version", Usage: "Show the warren version information",
		UsageText: "warren version [OPTIONS]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Format output using a custom template"},
		},
		Action: versionAction,
	}
}

// clientVersion is the Client half of `version`, laid out like docker's.
type clientVersion struct {
	Version, APIVersion, DefaultAPIVersion, GoVersion, GitCommit, BuildTime, Os, Arch string
}

func newClientVersion(api *client.Client) clientVersion {
	v := clientVersion{
		Version: version, DefaultAPIVersion: client.MaxAPIVersion, GoVersion: runtime.Version(),
		GitCommit: gitCommit, BuildTime: reformatTime(buildTime), Os: runtime.GOOS, Arch: runtime.GOARCH,
	}
	v.APIVersion = v.DefaultAPIVersion
	if api != nil {
		v.APIVersion = api.ClientVersion()
	}
	return v
}

func writeClientVersion(w io.Writer, v clientVersion) {
	fmt.Fprintln(w, "Client:")
	api := v.APIVersion
	if api != v.DefaultAPIVersion {
		api += " (downgraded from " + v.DefaultAPIVersion + ")"
	}
	rows := [][2]string{
		{"Version", v.Version}, {"API version", api}, {"Go version", v.GoVersion},
		{"Git commit", v.GitCommit}, {"Built", v.BuildTime}, {"OS/Arch", v.Os + "/" + v.Arch},
	}
	for _, r := range rows {
		fmt.Fprintf(w, " %-18s %s\n", r[0]+":", r[1])
	}
}

func versionAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	s := sessionOf(c)
	api, connErr := s.client()
	var server *client.ServerVersionResult
	if connErr == nil {
		v, err := api.ServerVersion(c.Context, client.ServerVersionOptions{})
		if err != nil {
			connErr = err
		} else {
			server = &v
		}
	}
	if f := c.String("format"); f != "" {
		return versionTemplate(s.out, f, newClientVersion(api), server, connErr)
	}
	writeClientVersion(s.out, newClientVersion(api))
	if connErr != nil {
		return connErr
	}
	fmt.Fprintln(s.out)
	writeServerVersion(s.out, *server)
	return nil
}

func versionTemplate(out io.Writer, format string, cv clientVersion, sv *client.ServerVersionResult, connErr error) error {
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	data := struct {
		Client clientVersion
		Server *client.ServerVersionResult
	}{cv, sv}
	if err := tmpl.Execute(out, data); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	fmt.Fprintln(out)
	return connErr
}

// writeServerVersion prints the Server half; without an Engine component
// it builds one from the top-level fields, as docker does.
func writeServerVersion(w io.Writer, v client.ServerVersionResult) {
	title := "Server:"
	if v.Platform.Name != "" {
		title += " " + v.Platform.Name
	}
	fmt.Fprintln(w, title)
	components := v.Components
	if len(components) == 0 {
		components = []system.ComponentVersion{{Name: "Engine", Version: v.Version, Details: map[string]string{
			"ApiVersion": v.APIVersion, "MinAPIVersion": v.MinAPIVersion, "Os": v.Os, "Arch": v.Arch,
		}}}
	}
	for _, comp := range components {
		fmt.Fprintf(w, " %s:\n", comp.Name)
		if comp.Name == "Engine" {
			writeEngineVersion(w, comp)
			continue
		}
		fmt.Fprintf(w, "  %-17s %s\n", "Version:", comp.Version)
		keys := make([]string, 0, len(comp.Details))
		for k := range comp.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-17s %s\n", k+":", comp.Details[k])
		}
	}
}

func writeEngineVersion(w io.Writer, comp system.ComponentVersion) {
	d := comp.Details
	rows := [][2]string{
		{"Version", comp.Version},
		{"API version", fmt.Sprintf("%s (minimum version %s)", d["ApiVersion"], d["MinAPIVersion"])},
		{"Go version", d["GoVersion"]}, {"Git commit", d["GitCommit"]}, {"Built", reformatTime(d["BuildTime"])},
		{"OS/Arch", d["Os"] + "/" + d["Arch"]}, {"Experimental", d["Experimental"]},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-17s %s\n", r[0]+":", r[1])
	}
}

// reformatTime turns an RFC 3339 build time into docker's ANSI C layout.
func reformatTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Format(time.ANSIC)
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name: "info", Usage: "Display system-wide information",
		UsageText: "warren info [OPTIONS]",
		Action:    infoAction,
	}
}

// infoAction prints the rootless prerequisites with the fix for each one
// missing, then the daemon's information if it can be reached. It works
// without a daemon and exits 1 when anything is wrong.
func infoAction(c *cli.Context) error {
	if err := requireNone(c); err != nil {
		return err
	}
	s := sessionOf(c)
	fmt.Fprintln(s.out, "Client:")
	fmt.Fprintf(s.out, " Version:    %s\n", version)
	fmt.Fprintf(s.out, " Socket:     unix://%s\n", s.paths.Socket())
	fmt.Fprintf(s.out, " Data Dir:   %s\n", s.paths.DataDir)
	fmt.Fprintln(s.out)
	ok := writeChecks(s.out, bootstrap.Checks())
	fmt.Fprintln(s.out)
	fmt.Fprintln(s.out, "Server:")
	api, err := s.client()
	if err == nil {
		var res client.SystemInfoResult
		res, err = api.Info(c.Context, client.InfoOptions{})
		if err == nil {
			writeServerInfo(s.out, s.err, res.Info)
		}
	}
	if err != nil {
		fmt.Fprintf(s.out, "ERROR: %v\n", err)
		return statusError{status: 1, msg: "errors pretty printing info"}
	}
	if !ok {
		return statusError{status: 1}
	}
	return nil
}

// writeChecks prints each prerequisite as OK or MISSING with what was
// found, the fix under each missing one, and reports whether all passed.
func writeChecks(w io.Writer, checks []bootstrap.Check) bool {
	fmt.Fprintln(w, "Prerequisites:")
	width := 0
	for _, ck := range checks {
		width = max(width, len(ck.Name)+1)
	}
	all := true
	for _, ck := range checks {
		state := "OK"
		if !ck.OK {
			state, all = "MISSING", false
		}
		fmt.Fprintf(w, " %-*s  %-7s  %s\n", width, ck.Name+":", state, ck.Detail)
		if !ck.OK && ck.Fix != "" {
			for _, line := range strings.Split(ck.Fix, "\n") {
				fmt.Fprintf(w, "   Fix: %s\n", line)
			}
		}
	}
	return all
}

// writeServerInfo prints the daemon's part; its warnings go to errw, as
// docker prints them.
func writeServerInfo(w, errw io.Writer, info system.Info) {
	lines := []struct {
		indent, key string
		value       any
	}{
		{" ", "Containers", info.Containers},
		{"  ", "Running", info.ContainersRunning},
		{"  ", "Paused", info.ContainersPaused},
		{"  ", "Stopped", info.ContainersStopped},
		{" ", "Images", info.Images},
		{" ", "Server Version", info.ServerVersion},
		{" ", "Storage Driver", info.Driver},
		{" ", "Logging Driver", info.LoggingDriver},
		{" ", "Cgroup Driver", info.CgroupDriver},
		{" ", "Cgroup Version", info.CgroupVersion},
		{" ", "Kernel Version", info.KernelVersion},
		{" ", "Operating System", info.OperatingSystem},
		{" ", "OSType", info.OSType},
		{" ", "Architecture", info.Architecture},
		{" ", "CPUs", info.NCPU},
		{" ", "Total Memory", units.BytesSize(float64(info.MemTotal))},
		{" ", "Name", info.Name},
		{" ", "ID", info.ID},
		{" ", "Docker Root Dir", info.DockerRootDir},
		{" ", "Debug Mode", info.Debug},
		{" ", "Experimental", info.ExperimentalBuild},
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%s%s: %v\n", l.indent, l.key, l.value)
	}
	fmt.Fprintf(w, " Resource Limits: %s\n", resourceLimitsLine(info))
	if hl := hostLoopbackLine(info.Labels); hl != "" {
		fmt.Fprintf(w, " Host Loopback: %s\n", hl)
	}
	// As the docker CLI prints them: each option's name, and its profile.
	if opts := security.DecodeOptions(info.SecurityOptions); len(opts) > 0 {
		fmt.Fprintln(w, " Security Options:")
		for _, o := range opts {
			fmt.Fprintf(w, "  %s\n", o.Name)
			for _, kv := range o.Options {
				if kv.Key == "profile" {
					fmt.Fprintf(w, "   Profile: %s\n", kv.Value)
				}
			}
		}
	}
	for _, warn := range info.Warnings {
		fmt.Fprintln(errw, warn)
	}
}

// hostLoopbackLine says whether containers reach the host's 127.0.0.1, from
// the daemon's label; "" from a daemon that does not say.
func hostLoopbackLine(labels []string) string {
	for _, l := range labels {
		switch l {
		case engine.HostLoopbackLabel + "=true":
			return "open (containers reach the host's 127.0.0.1 as host.warren.internal; the daemon runs with --host-loopback)"
		case engine.HostLoopbackLabel + "=false":
			return "closed (host.warren.internal reaches the host's other addresses only; start the daemon with --host-loopback to open it)"
		}
	}
	return ""
}
