package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network"
	"github.com/rootless-containers/rootlesskit/v3/pkg/parent"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"warren/netstack/uplink"
	"warren/portfwd/forward"
)

// DaemonOptions configure `warren daemon`. Start from DefaultDaemonOptions:
// the zero value turns inter-container traffic off.
type DaemonOptions struct {
	Paths Paths
	// MTU of the uplink tap0 (and, through the engine, of the bridge).
	MTU int
	// Subnet of the containers' bridge, "172.17.0.0/16" as Docker's.
	Subnet string
	// DisableHostLoopback stops the uplink's gateway from reaching the host's
	// 127.0.0.1.
	DisableHostLoopback bool
	// ICC lets containers on the bridge talk to each other (Docker's --icc).
	ICC bool
	// PortRange is where -P picks host ports, "49153-65535".
	PortRange string
	Debug     bool

	propagation string // chosen by RunDaemon, handed to the child
}

// Defaults of the daemon's options, Docker's where Docker has one.
const (
	DefaultMTU       = 65520
	DefaultSubnet    = "172.17.0.0/16"
	DefaultPortRange = "49153-65535"
)

// uplinkCIDR is the namespace's uplink network, numbered as slirp4netns
// does: tap0 10.0.2.100, gateway, DNS and the host's loopback 10.0.2.2.
const uplinkCIDR = "10.0.2.0/24"

// DefaultDaemonOptions are the options of a plain `warren daemon`.
func DefaultDaemonOptions(p Paths) DaemonOptions {
	return DaemonOptions{Paths: p, MTU: DefaultMTU, Subnet: DefaultSubnet, ICC: true, PortRange: DefaultPortRange}
}

// validate fills unset fields with their defaults and checks the rest, so
// that a mistake fails here in one line, not later inside the namespace.
func (o DaemonOptions) validate() (DaemonOptions, error) {
	if o.MTU == 0 {
		o.MTU = DefaultMTU
	}
	if o.Subnet == "" {
		o.Subnet = DefaultSubnet
	}
	if o.PortRange == "" {
		o.PortRange = DefaultPortRange
	}
	if o.MTU < 1280 || o.MTU > 65520 {
		return o, fmt.Errorf("invalid --mtu %d: want 1280-65520", o.MTU)
	}
	if p, err := netip.ParsePrefix(o.Subnet); err != nil || !p.Addr().Is4() {
		return o, fmt.Errorf("invalid --subnet %q: want an IPv4 CIDR such as %s", o.Subnet, DefaultSubnet)
	}
	if lo, hi, ok := strings.Cut(o.PortRange, "-"); !ok || !validPortRange(lo, hi) {
		return o, fmt.Errorf("invalid --port-range %q: want START-END such as %s", o.PortRange, DefaultPortRange)
	}
	if o.Paths.RuntimeDir == "" || o.Paths.DataDir == "" {
		return o, errors.New("daemon paths are not set")
	}
	var err error
	o.Paths, err = o.Paths.abs()
	return o, err
}

func validPortRange(lo, hi string) bool {
	a, err1 := strconv.ParseUint(lo, 10, 16)
	b, err2 := strconv.ParseUint(hi, 10, 16)
	return err1 == nil && err2 == nil && a > 0 && a <= b
}

// EngineArgs is the engine's command line after `warren __engine`: the
// folders always, each network option only when it differs from its
// default (which the engine shares), so that an engine that predates an
// option still starts with the defaults.
func EngineArgs(o DaemonOptions) []string {
	args := []string{"--runtime-dir", o.Paths.RuntimeDir, "--data-dir", o.Paths.DataDir}
	if o.MTU != 0 && o.MTU != DefaultMTU {
		args = append(args, "--mtu", strconv.Itoa(o.MTU))
	}
	if o.Subnet != "" && o.Subnet != DefaultSubnet {
		args = append(args, "--subnet", o.Subnet)
	}
	if o.DisableHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	if !o.ICC {
		args = append(args, "--icc=false")
	}
	if o.PortRange != "" && o.PortRange != DefaultPortRange {
		args = append(args, "--port-range", o.PortRange)
	}
	if o.Debug {
		args = append(args, "--debug")
	}
	return args
}

// EnvRootlessKitAPI tells the engine where RootlessKit's API socket is (it
// adds published ports there). RootlessKit also sets ROOTLESSKIT_STATE_DIR,
// whose api.sock is the same file.
const EnvRootlessKitAPI = "WARREN_ROOTLESSKIT_API"

// envEngineCmd replaces `warren __engine` by another program, given the
// same arguments. It exists for the bootstrap's own tests, which run a tiny
// API server instead of the real engine.
const envEngineCmd = "WARREN_ENGINE_CMD"

// Environment keys RootlessKit's parent and child agree on.
const (
	envPipeFD            = "_WARREN_ROOTLESSKIT_PIPEFD"
	envChildActivation   = "_WARREN_ROOTLESSKIT_ACTIVATION_CHILD"
	envActivationHelper  = "_WARREN_ROOTLESSKIT_ACTIVATION_HELPER"
	envStateDir          = "ROOTLESSKIT_STATE_DIR"
	envParentEUID        = "ROOTLESSKIT_PARENT_EUID"
	envParentEGID        = "ROOTLESSKIT_PARENT_EGID"
	envChildConfig       = "_WARREN_CHILD_CONFIG"
	engineExitedFailText = "the engine exited"
)

// childConfig is what the parent tells its re-executed child: the engine's
// command line. It travels in the environment because RootlessKit
// re-executes the child with the parent's arguments, and again to gain
// capabilities.
type childConfig struct {
	Engine      []string `json:"engine"`
	Debug       bool     `json:"debug"`
	Propagation string   `json:"propagation"`
}

// RunDaemon runs the daemon in the foreground until it is told to stop
// (SIGTERM or SIGINT, forwarded to the engine, or ctx) or its engine exits.
func RunDaemon(ctx context.Context, opts DaemonOptions) error {
	opts, err := opts.validate()
	if err != nil {
		return err
	}
	setupLogging(opts.Debug)
	addSbinToPath()
	if err := preflight(); err != nil {
		return err
	}
	p := opts.Paths
	if err := p.makeDirs(); err != nil {
		return err
	}
	lock, err := lockDaemon(p)
	if err != nil {
		return err
	}
	defer lock.Close()
	// Holding the lock, whatever is left in the runtime dir is a killed
	// daemon's: clear it so that it cannot get in the way.
	if err := clearStale(p); err != nil {
		return err
	}
	defer os.Remove(p.Socket())

	opts.propagation = propagation()
	popt, err := parentOpt(opts)
	if err != nil {
		return err
	}
	if err := exportChildEnv(opts); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		// RootlessKit forwards our signals to the child, which forwards them
		// to the engine: a cancelled ctx becomes the usual SIGTERM.
		_ = unix.Kill(os.Getpid(), unix.SIGTERM)
	})
	defer stop()
	logrus.Infof("starting for uid %d: socket %s, data %s", os.Getuid(), p.Socket(), p.DataDir)
	if err := parent.Parent(popt); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s: %v", engineExitedFailText, ee)
		}
		return err
	}
	logrus.Info("stopped")
	return nil
}

// preflight fails early, in one line that names the fix, on what would
// otherwise fail deep inside RootlessKit.
func preflight() error {
	name, uid := currentUser()
	uids, gids, err := readSubIDs()
	if err != nil {
		return err
	}
	if msg := missingSubIDs(name, uid, uids, gids); msg != "" {
		return errors.New(msg)
	}
	for _, b := range []struct{ name, pkg string }{
		{"newuidmap", "uidmap"}, {"newgidmap", "uidmap"}, {"ip", "iproute2"}, {"nsenter", "util-linux"},
	} {
		if _, err := exec.LookPath(b.name); err != nil {
			return fmt.Errorf("%s not found in $PATH: %s", b.name, installFix(b.pkg))
		}
	}
	if err := openTun(); err != nil {
		return fmt.Errorf("%w: ask an administrator to run %q", err, tunFix)
	}
	return nil
}

// addSbinToPath lets the daemon find ip(8), which RootlessKit runs and some
// distributions install only in the sbin folders, missing from users' PATH.
func addSbinToPath() {
	path := os.Getenv("PATH")
	have := strings.Split(path, ":")
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if !slices.Contains(have, d) {
			path += ":" + d
		}
	}
	os.Setenv("PATH", strings.TrimPrefix(path, ":"))
}

// lockDaemon takes the per-user daemon lock and writes our pid in it. The
// kernel drops the lock when the process dies, however it dies.
func lockDaemon(p Paths) (*os.File, error) {
	f, err := os.OpenFile(p.lockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open daemon lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, alreadyRunning(f)
		}
		return nil, fmt.Errorf("lock %s: %w", p.lockFile(), err)
	}
	pid := strconv.Itoa(os.Getpid())
	if _, err := f.WriteAt([]byte(pid), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write daemon lock: %w", err)
	}
	if err := f.Truncate(int64(len(pid))); err != nil {
		f.Close()
		return nil, fmt.Errorf("write daemon lock: %w", err)
	}
	return f, nil
}

// alreadyRunning names the running daemon's pid when the lock file says it.
func alreadyRunning(lock *os.File) error {
	buf := make([]byte, 16)
	n, _ := lock.ReadAt(buf, 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
		return fmt.Errorf("a daemon is already running for this user (pid %d)", pid)
	}
	return errors.New("a daemon is already running for this user")
}

// lockHeld tells whether some daemon holds the lock, running or starting.
func lockHeld(p Paths) bool {
	f, err := os.Open(p.lockFile())
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	return false
}

// clearStale removes a killed daemon's socket and RootlessKit state.
func clearStale(p Paths) error {
	if err := os.Remove(p.Socket()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	if err := parent.InitStateDir(p.RootlessKitDir()); err != nil {
		return fmt.Errorf("prepare %s: %w", p.RootlessKitDir(), err)
	}
	return nil
}

// parentOpt configures RootlessKit's parent as rootless Docker does: new
// user, mount, network, pid, uts and ipc namespaces with the whole subid
// range mapped, the gvisor-tap-vsock uplink and the builtin port driver.
func parentOpt(o DaemonOptions) (parent.Opt, error) {
	stateDir := o.Paths.RootlessKitDir()
	nd, err := networkDriver(o)
	if err != nil {
		return parent.Opt{}, err
	}
	pd, err := portDriver(stateDir)
	if err != nil {
		return parent.Opt{}, err
	}
	return parent.Opt{
		PipeFDEnvKey:             envPipeFD,
		ChildUseActivationEnvKey: envChildActivation,
		StateDir:                 stateDir,
		StateDirEnvKey:           envStateDir,
		NetworkDriver:            nd,
		PortDriver:               pd,
		CreatePIDNS:              true,
		CreateUTSNS:              true,
		CreateIPCNS:              true,
		ParentEUIDEnvKey:         envParentEUID,
		ParentEGIDEnvKey:         envParentEGID,
		Propagation:              o.propagation,
		SubidSource:              parent.SubidSourceAuto,
	}, nil
}

// propagation of the namespace's mounts: rootless Docker's rslave, so that
// host mounts made later (a USB stick, a new bind) still appear inside. A
// host whose root is not shared (inside a container) has nothing to
// propagate, and RootlessKit warns about rslave there: use rprivate.
func propagation() string {
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter("/"))
	if err != nil || len(mounts) == 0 || !strings.Contains(mounts[0].Optional, "shared") {
		return "rprivate"
	}
	return "rslave"
}

// networkDriver is the uplink's parent half: warren's own (netstack/uplink),
// which takes tap0's fd from the child and runs gvisor-tap-vsock's
// forwarders and DNS on a gVisor stack reading it directly — RootlessKit's
// stock gvisor-tap-vsock driver copies every frame through the child and
// gvisor-tap-vsock's switch (1.5x slower out, 2.4x in, in its benchmark).
func networkDriver(o DaemonOptions) (network.ParentDriver, error) {
	d, err := uplink.NewParentDriver(uplink.Options{
		MTU: o.MTU, Subnet: uplinkCIDR, DisableHostLoopback: o.DisableHostLoopback, Logger: debugWriter{"network"},
	})
	if err != nil {
		return nil, fmt.Errorf("network driver: %w", err)
	}
	return d, nil
}

// portDriver is warren's own driver (portfwd/forward): the parent only
// binds host ports and hands the listeners to the child, which accepts and
// splices inside the engine's namespace, so no connection crosses the
// parent (about twice RootlessKit builtin's connection rate) and TCP
// clients keep their source address without nft/iptables binaries.
func portDriver(stateDir string) (port.ParentDriver, error) {
	d, err := forward.NewParentDriver(debugWriter{"port"}, stateDir)
	if err != nil {
		return nil, fmt.Errorf("port driver: %w", err)
	}
	return d, nil
}

// exportChildEnv puts what the child and the engine need in our
// environment, which RootlessKit hands down to both.
func exportChildEnv(o DaemonOptions) error {
	engine := []string{"/proc/self/exe", "__engine"}
	if c := os.Getenv(envEngineCmd); c != "" {
		engine = strings.Fields(c)
	}
	cfg, err := json.Marshal(childConfig{Engine: append(engine, EngineArgs(o)...), Debug: o.Debug, Propagation: o.propagation})
	if err != nil {
		return err
	}
	set := map[string]string{
		envChildConfig:    string(cfg),
		EnvRootlessKitAPI: o.Paths.RootlessKitAPISocket(),
		EnvRuntimeDir:     o.Paths.RuntimeDir,
		EnvDataDir:        o.Paths.DataDir,
	}
	for k, v := range set {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	// warren does not take sockets from systemd: without these RootlessKit
	// would pass them on and run its activation helper instead of the engine.
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	return nil
}
