package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"warren/portfwd"
)

// createFlags are the run/create options, gathered from the command line so
// that building the request is a pure function.
type createFlags struct {
	detach, interactive, tty, rm, publishAll, privileged, readOnly bool

	init        *bool
	entrypoint  *string
	stopTimeout *int

	name, workdir, user, hostname, network, restart, stopSignal string
	platform, pull, cidfile, detachKeys                         string

	env, envFiles, volumes, publish, expose, links, addHosts   []string
	dns, dnsSearch, dnsOptions, labels, capAdd, capDrop, tmpfs []string
	attach, mounts, securityOpts, ulimits                      []string
	sysctls, groupAdd, devices                                 []string
	shmSize, pid, ipc, uts                                     string
	oomScoreAdj                                                int

	limits limitFlags

	consoleSize [2]uint
	image       string
	cmd         []string
}

// containerFlags are the flags run and create share.
func containerFlags() []cli.Flag {
	return append(limitFlagDefs(),
		&cli.StringSliceFlag{Name: "add-host", Usage: "Add a custom host-to-IP mapping (host:ip)"},
		&cli.StringSliceFlag{Name: "attach", Aliases: []string{"a"}, Usage: "Attach to STDIN, STDOUT or STDERR"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "Add Linux capabilities"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "Drop Linux capabilities"},
		&cli.StringFlag{Name: "cidfile", Usage: "Write the container ID to the file"},
		&cli.StringSliceFlag{Name: "dns", Usage: "Set custom DNS servers"},
		&cli.StringSliceFlag{Name: "dns-option", Usage: "Set DNS options"},
		&cli.StringSliceFlag{Name: "dns-search", Usage: "Set custom DNS search domains"},
		&cli.StringFlag{Name: "entrypoint", Usage: "Overwrite the default ENTRYPOINT of the image"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "Set environment variables"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "Read in a file of environment variables"},
		&cli.StringSliceFlag{Name: "device", Usage: "Add a host device to the container"},
		&cli.StringSliceFlag{Name: "expose", Usage: "Expose a port or a range of ports"},
		&cli.StringSliceFlag{Name: "group-add", Usage: "Add additional groups to join"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "Container host name"},
		&cli.BoolFlag{Name: "init", Usage: "Run an init inside the container that forwards signals and reaps processes"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "Keep STDIN open even if not attached"},
		&cli.StringFlag{Name: "ipc", Usage: "IPC mode to use"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "Set meta data on a container"},
		&cli.StringSliceFlag{Name: "link", Usage: "Add link to another container"},
		&cli.StringSliceFlag{Name: "mount", Usage: "Attach a filesystem mount to the container (bind or tmpfs)"},
		&cli.StringFlag{Name: "name", Usage: "Assign a name to the container"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: "default", Usage: "Connect a container to a network"},
		&cli.IntFlag{Name: "oom-score-adj", Usage: "Tune host's OOM preferences (-1000 to 1000)"},
		&cli.StringFlag{Name: "pid", Usage: "PID namespace to use"},
		&cli.StringFlag{Name: "platform", Usage: "Set platform if server is multi-platform capable"},
		&cli.BoolFlag{Name: "privileged", Usage: "Give extended privileges to this container"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "Publish a container's port(s) to the host"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "Publish all exposed ports to random ports"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: `Pull image before running ("always", "missing", "never")`},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "Suppress the pull output"},
		&cli.BoolFlag{Name: "read-only", Usage: "Mount the container's root filesystem as read only"},
		&cli.StringFlag{Name: "restart", Value: "no", Usage: "Restart policy to apply when a container exits"},
		&cli.BoolFlag{Name: "rm", Usage: "Automatically remove the container and its associated anonymous volumes when it exits"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "Security Options"},
		&cli.StringFlag{Name: "shm-size", Usage: "Size of /dev/shm"},
		&cli.StringFlag{Name: "stop-signal", Usage: "Signal to stop the container"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "Timeout (in seconds) to stop a container"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "Mount a tmpfs directory"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "Allocate a pseudo-TTY"},
		&cli.StringSliceFlag{Name: "sysctl", Usage: "Sysctl options"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "Ulimit options"},
		&cli.StringFlag{Name: "uts", Usage: "UTS namespace to use"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "Username or UID (format: <name|uid>[:<group|gid>])"},
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "Bind mount a volume"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "Working directory inside the container"},
	)
}

// readCreateFlags collects the flags of run/create from c.
func readCreateFlags(c *cli.Context) createFlags {
	f := createFlags{
		detach: c.Bool("detach"), interactive: c.Bool("interactive"), tty: c.Bool("tty"), rm: c.Bool("rm"),
		publishAll: c.Bool("publish-all"), privileged: c.Bool("privileged"), readOnly: c.Bool("read-only"),
		name: c.String("name"), workdir: c.String("workdir"), user: c.String("user"), hostname: c.String("hostname"),
		network: c.String("network"), restart: c.String("restart"), stopSignal: c.String("stop-signal"),
		platform: c.String("platform"), pull: c.String("pull"), cidfile: c.String("cidfile"), detachKeys: c.String("detach-keys"),
		env: c.StringSlice("env"), envFiles: c.StringSlice("env-file"), volumes: c.StringSlice("volume"),
		publish: c.StringSlice("publish"), expose: c.StringSlice("expose"), links: c.StringSlice("link"),
		addHosts: c.StringSlice("add-host"), dns: c.StringSlice("dns"), dnsSearch: c.StringSlice("dns-search"),
		dnsOptions: c.StringSlice("dns-option"), labels: c.StringSlice("label"), capAdd: c.StringSlice("cap-add"),
		capDrop: c.StringSlice("cap-drop"), tmpfs: c.StringSlice("tmpfs"), attach: c.StringSlice("attach"),
		mounts: c.StringSlice("mount"), securityOpts: c.StringSlice("security-opt"),
		ulimits: c.StringSlice("ulimit"), shmSize: c.String("shm-size"),
		sysctls: c.StringSlice("sysctl"), groupAdd: c.StringSlice("group-add"), devices: c.StringSlice("device"),
		pid: c.String("pid"), ipc: c.String("ipc"), uts: c.String("uts"), oomScoreAdj: c.Int("oom-score-adj"),
		image: c.Args().First(), cmd: c.Args().Tail(), limits: readLimitFlags(c),
	}
	if c.IsSet("init") {
		v := c.Bool("init")
		f.init = &v
	}
	if c.IsSet("entrypoint") {
		v := c.String("entrypoint")
		f.entrypoint = &v
	}
	if c.IsSet("stop-timeout") {
		v := c.Int("stop-timeout")
		f.stopTimeout = &v
	}
	if f.tty {
		f.consoleSize = terminalSize(os.Stdout)
	}
	return f
}

// checkTTY is docker's refusal to run -it when stdin is not a terminal.
func checkTTY(in io.Reader, attachStdin, tty bool) error {
	if !attachStdin || !tty {
		return nil
	}
	if _, isTerm := term.GetFdInfo(in); !isTerm {
		return errors.New("the input device is not a TTY")
	}
	return nil
}

// terminalSize is [rows, cols] of w when it is a terminal, else zeros.
func terminalSize(w io.Writer) [2]uint {
	fd, isTerm := term.GetFdInfo(w)
	if !isTerm {
		return [2]uint{}
	}
	ws, err := term.GetWinsize(fd)
	if err != nil {
		return [2]uint{}
	}
	return [2]uint{uint(ws.Height), uint(ws.Width)}
}

// buildCreate turns the flags into the request the docker CLI sends
// (docker-behavior 5.3). forRun applies run's attach rules.
func buildCreate(f createFlags, forRun bool, lookup func(string) (string, bool)) (client.ContainerCreateOptions, error) {
	var none client.ContainerCreateOptions
	switch f.pull {
	case "always", "missing", "never":
	default:
		return none, fmt.Errorf(`invalid pull option: '%s': must be one of "always", "missing" or "never"`, f.pull)
	}
	config, err := buildConfig(f, forRun, lookup)
	if err != nil {
		return none, err
	}
	hostConfig, err := buildHostConfig(f, config)
	if err != nil {
		return none, err
	}
	if f.rm && !(hostConfig.RestartPolicy.Name == "" || hostConfig.RestartPolicy.Name == container.RestartPolicyDisabled) {
		return none, errors.New("conflicting options: cannot specify both --restart and --rm")
	}
	opts := client.ContainerCreateOptions{
		Config:     config,
		HostConfig: hostConfig,
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			string(hostConfig.NetworkMode): {},
		}},
		Name: f.name,
	}
	if f.platform != "" {
		p, err := parsePlatform(f.platform)
		if err != nil {
			return none, err
		}
		opts.Platform = &p
	}
	return opts, nil
}

func buildConfig(f createFlags, forRun bool, lookup func(string) (string, bool)) (*container.Config, error) {
	env, err := readEnvFiles(f.envFiles, lookup)
	if err != nil {
		return nil, err
	}
	for _, e := range f.env {
		v, err := validateEnv(e, lookup)
		if err != nil {
			return nil, flagError(e, "-e, --env", err)
		}
		env = append(env, v)
	}
	exposed, err := portfwd.ParseExpose(f.expose)
	if err != nil {
		return nil, err
	}
	published, _, err := portfwd.ParsePublish(f.publish)
	if err != nil {
		return nil, err
	}
	for p := range published {
		exposed[p] = struct{}{}
	}
	_, volumes, err := splitVolumes(f.volumes)
	if err != nil {
		return nil, err
	}
	stdin, stdout, stderr, err := parseAttach(f.attach)
	if err != nil {
		return nil, err
	}
	if f.interactive {
		stdin = true
	}
	if len(f.attach) == 0 {
		stdout, stderr = true, true
	}
	config := &container.Config{
		Hostname:     f.hostname,
		User:         f.user,
		AttachStdin:  stdin,
		AttachStdout: stdout,
		AttachStderr: stderr,
		Tty:          f.tty,
		OpenStdin:    f.interactive,
		Env:          env,
		Cmd:          f.cmd,
		Image:        f.image,
		Volumes:      volumes,
		WorkingDir:   f.workdir,
		Labels:       parseLabels(f.labels),
		StopSignal:   f.stopSignal,
		StopTimeout:  f.stopTimeout,
	}
	if len(exposed) > 0 {
		config.ExposedPorts = exposed
	}
	if f.entrypoint != nil {
		// docker sends the flag as one word; an empty flag clears the image's.
		config.Entrypoint = []string{*f.entrypoint}
	}
	if forRun {
		if err := applyRunAttach(f, config); err != nil {
			return nil, err
		}
	}
	return config, nil
}

// errAttachDetach is the one flag conflict docker reports as a plain error
// (exit 1), not as a usage error (125).
var errAttachDetach = errors.New("conflicting options: cannot specify both --attach and --detach")

// applyRunAttach is run's rule for the attach fields: none when detached,
// and stdin is closed after the first attach ends.
func applyRunAttach(f createFlags, config *container.Config) error {
	if !f.detach {
		if config.OpenStdin && config.AttachStdin {
			config.StdinOnce = true
		}
		return nil
	}
	if len(f.attach) > 0 {
		return errAttachDetach
	}
	config.AttachStdin, config.AttachStdout, config.AttachStderr, config.StdinOnce = false, false, false, false
	return nil
}

func buildHostConfig(f createFlags, config *container.Config) (*container.HostConfig, error) {
	_, bindings, err := portfwd.ParsePublish(f.publish)
	if err != nil {
		return nil, err
	}
	binds, _, err := splitVolumes(f.volumes)
	if err != nil {
		return nil, err
	}
	restart, err := parseRestartPolicy(f.restart)
	if err != nil {
		return nil, err
	}
	dns, err := parseDNS(f.dns)
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, h := range f.addHosts {
		v, err := validateExtraHost(h)
		if err != nil {
			return nil, flagError(h, "--add-host", err)
		}
		hosts = append(hosts, v)
	}
	for _, l := range f.links {
		if err := validateLink(l); err != nil {
			return nil, flagError(l, "--link", err)
		}
	}
	securityOpts, err := parseSecurityOpts(f.securityOpts)
	if err != nil {
		return nil, err
	}
	securityOpts, maskedPaths, readonlyPaths := parseSystemPaths(securityOpts)
	mounts, err := parseMountFlags(f.mounts)
	if err != nil {
		return nil, err
	}
	ulimits, err := parseUlimits(f.ulimits)
	if err != nil {
		return nil, err
	}
	shmSize, err := parseShmSize(f.shmSize)
	if err != nil {
		return nil, err
	}
	devices, err := parseDevices(f.devices)
	if err != nil {
		return nil, err
	}
	sysctls, err := parseSysctls(f.sysctls)
	if err != nil {
		return nil, err
	}
	// docker's client checks these two; --ipc is left to the daemon.
	if !container.PidMode(f.pid).Valid() {
		return nil, errors.New("--pid: invalid PID mode")
	}
	if !container.UTSMode(f.uts).Valid() {
		return nil, errors.New("--uts: invalid UTS mode")
	}
	swappiness := int64(-1)
	hc := &container.HostConfig{
		Binds:           binds,
		ContainerIDFile: f.cidfile,
		NetworkMode:     container.NetworkMode(f.network),
		PortBindings:    bindings,
		RestartPolicy:   restart,
		AutoRemove:      f.rm,
		ConsoleSize:     f.consoleSize,
		CapAdd:          normalizeCaps(f.capAdd),
		CapDrop:         normalizeCaps(f.capDrop),
		DNS:             dns,
		DNSOptions:      nonNil(f.dnsOptions),
		DNSSearch:       nonNil(f.dnsSearch),
		ExtraHosts:      hosts,
		Links:           f.links,
		Privileged:      f.privileged,
		PublishAllPorts: f.publishAll,
		ReadonlyRootfs:  f.readOnly,
		Tmpfs:           parseTmpfs(f.tmpfs),
		Mounts:          mounts,
		ShmSize:         shmSize,
		Init:            f.init,
		SecurityOpt:     securityOpts,
		MaskedPaths:     maskedPaths,
		ReadonlyPaths:   readonlyPaths,
	}
	hc.MemorySwappiness = &swappiness
	hc.Ulimits = ulimits
	hc.Devices = devices
	hc.GroupAdd = f.groupAdd
	hc.OomScoreAdj = f.oomScoreAdj
	hc.PidMode = container.PidMode(f.pid)
	hc.IpcMode = container.IpcMode(f.ipc)
	hc.UTSMode = container.UTSMode(f.uts)
	hc.Sysctls = sysctls
	if err := applyLimits(f.limits, hc); err != nil {
		return nil, err
	}
	return hc, nil
}

// flagError words a refused flag value as docker's flag parser does.
func flagError(value, flag string, err error) error {
	return fmt.Errorf("invalid argument %q for %q flag: %w", value, flag, err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validateLink is docker's client-side --link check (c:opts/opts.go).
func validateLink(v string) error {
	if v == "" {
		return errors.New("empty string specified for links")
	}
	if strings.Count(v, ":") > 1 {
		return fmt.Errorf("bad format for links: %s", v)
	}
	return nil
}

// parsePlatform parses --platform os[/arch[/variant]].
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform: %q", s)
	}
	p := ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// createContainer creates the container, pulling the image first when
// --pull and the daemon's 404 say so, as `docker create` and `docker run`
// do. It prints warnings and writes --cidfile.
func createContainer(ctx context.Context, s *session, api *client.Client, f createFlags, opts client.ContainerCreateOptions, quiet bool) (string, error) {
	// docker parses the reference before anything else: an invalid one is
	// refused by the client, never looked up or pulled.
	if _, err := reference.ParseAnyReference(f.image); err != nil {
		return "", err
	}
	cid, err := newCIDFile(f.cidfile)
	if err != nil {
		return "", err
	}
	defer cid.close()
	if f.pull == "always" {
		if err := pullImage(ctx, api, f.image, f.platform, quiet, s.err); err != nil {
			return "", err
		}
	}
	resp, err := api.ContainerCreate(ctx, opts)
	if err != nil && cerrdefs.IsNotFound(err) && f.pull == "missing" && isNoSuchImage(err) {
		fmt.Fprintf(s.err, "Unable to find image '%s' locally\n", familiarTagged(f.image))
		if perr := pullImage(ctx, api, f.image, f.platform, quiet, s.err); perr != nil {
			return "", perr
		}
		resp, err = api.ContainerCreate(ctx, opts)
	}
	if err != nil {
		return "", err
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(s.err, "WARNING: %s\n", w)
	}
	return resp.ID, cid.write(resp.ID)
}

// isNoSuchImage tells a missing image from other 404s (a missing linked
// container is a 400, but be strict anyway).
func isNoSuchImage(err error) bool {
	return strings.Contains(err.Error(), "No such image")
}

// familiarTagged is the image reference as docker prints it in "Unable to
// find image": short name with the default tag added.
func familiarTagged(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarString(reference.TagNameOnly(ref))
}

// cidFile is --cidfile: created before the container (so an existing file
// fails early, as docker does) and removed again if creation fails.
type cidFile struct {
	path    string
	file    *os.File
	written bool
}

func newCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("failed to create the container ID file: %w", err)
	}
	return &cidFile{path: path, file: f}, nil
}

func (c *cidFile) write(id string) error {
	if c.file == nil {
		return nil
	}
	if _, err := c.file.WriteString(id); err != nil {
		return fmt.Errorf("failed to write the container ID to the file: %w", err)
	}
	c.written = true
	return nil
}

func (c *cidFile) close() {
	if c.file == nil {
		return
	}
	c.file.Close()
	if !c.written {
		os.Remove(c.path)
	}
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a new container",
		UsageText: "warren create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Flags:     containerFlags(),
		Action:    createAction,
	}
}

func createAction(c *cli.Context) error {
	if err := requireMin(c, 1); err != nil {
		return err
	}
	f := readCreateFlags(c)
	opts, err := buildCreate(f, false, os.LookupEnv)
	if err != nil {
		return invalidFlags("create", err)
	}
	s, api, err := apiClient(c)
	if err != nil {
		return err
	}
	id, err := createContainer(c.Context, s, api, f, opts, c.Bool("quiet"))
	if err != nil {
		// docker create reports a failed create plainly, exit 1; only
		// flag errors are usage errors (125).
		return err
	}
	fmt.Fprintln(s.out, id)
	return nil
}
