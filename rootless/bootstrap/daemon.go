package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

	"warren/internal/config"
	"warren/internal/sdactivation"
	"warren/netstack/uplink"
	"warren/portfwd/forward"
)

// EngineArgs is the engine's command line after `warren __engine`: the
// daemon's whole Config in its one encoded form.
func EngineArgs(cfg config.Config) []string {
	return []string{"--config", cfg.Encode()}
}

// EnvRootlessKitAPI names RootlessKit's API socket for programs in the
// namespace other than the engine, which takes it from its Config
// (Paths.RootlessKitAPISocket). RootlessKit also sets ROOTLESSKIT_STATE_DIR,
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
// command line, which carries the daemon's Config encoded. It travels in
// the environment because RootlessKit re-executes the child with the
// parent's arguments, and again to gain capabilities.
type childConfig struct {
	Engine      []string `json:"engine"`
	Debug       bool     `json:"debug"`
	Propagation string   `json:"propagation"`
}

// RunDaemon runs the daemon in the foreground until it is told to stop
// (SIGTERM or SIGINT, forwarded to the engine, or ctx) or its engine exits.
func RunDaemon(ctx context.Context, cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	var err error
	if cfg.Paths, err = cfg.Paths.Abs(); err != nil {
		return err
	}
	setupLogging(cfg.Debug)
	addSbinToPath()
	if err := preflight(); err != nil {
		return err
	}
	p := cfg.Paths
	if err := p.MakeDirs(); err != nil {
		return err
	}
	lock, err := lockDaemon(p)
	if err != nil {
		return err
	}
	defer lock.Close()
	dataLock, err := lockData(p)
	if err != nil {
		return err
	}
	defer dataLock.Close()
	activated, err := systemdSocket(p)
	if err != nil {
		return err
	}
	// Holding the lock, whatever is left in the runtime dir is a killed
	// daemon's: clear it so that it cannot get in the way. A socket systemd
	// passed is systemd's, and outlives the daemon.
	if err := clearStale(p, !activated); err != nil {
		return err
	}
	if !activated {
		defer os.Remove(p.Socket())
	}

	prop := propagation()
	popt, err := parentOpt(cfg, prop)
	if err != nil {
		return err
	}
	if err := exportChildEnv(cfg, prop); err != nil {
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
func lockDaemon(p config.Paths) (*os.File, error) {
	f, err := os.OpenFile(p.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open daemon lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, alreadyRunning(f)
		}
		return nil, fmt.Errorf("lock %s: %w", p.LockFile(), err)
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

// lockData takes the data folder's lock, which the daemon holds for its
// whole life, and writes our pid and socket in it. The runtime folder's lock
// alone lets a second daemon with another runtime folder share the data: it
// would mark the first one's running containers exited, start them again on
// the same overlay folders and delete them.
func lockData(p config.Paths) (*os.File, error) {
	f, err := os.OpenFile(p.DataLockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open data folder lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, dataInUse(f, p.DataDir)
		}
		return nil, fmt.Errorf("lock %s: %w", p.DataLockFile(), err)
	}
	owner := fmt.Sprintf("%d %s\n", os.Getpid(), p.Socket())
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write data folder lock: %w", err)
	}
	if _, err := f.WriteAt([]byte(owner), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write data folder lock: %w", err)
	}
	return f, nil
}

// dataInUse names the daemon that holds the data folder, from what it wrote
// in the lock ("<pid> <socket>").
func dataInUse(lock *os.File, dataDir string) error {
	buf := make([]byte, 4096)
	n, _ := lock.ReadAt(buf, 0)
	pid, sock, _ := strings.Cut(strings.TrimSpace(string(buf[:n])), " ")
	if _, err := strconv.Atoi(pid); err != nil || sock == "" {
		return fmt.Errorf("the data folder %s is in use by another warren daemon", dataDir)
	}
	return fmt.Errorf("the data folder %s is in use by another warren daemon (pid %s, socket %s)", dataDir, pid, sock)
}

// lockHeld tells whether some daemon holds the lock, running or starting.
func lockHeld(p config.Paths) bool {
	f, err := os.Open(p.LockFile())
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	return false
}

// clearStale removes a killed daemon's socket (when socket) and RootlessKit
// state.
func clearStale(p config.Paths, socket bool) error {
	if socket {
		if err := os.Remove(p.Socket()); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove stale socket: %w", err)
		}
	}
	if err := parent.InitStateDir(p.RootlessKitDir()); err != nil {
		return fmt.Errorf("prepare %s: %w", p.RootlessKitDir(), err)
	}
	return nil
}

// parentOpt configures RootlessKit's parent as rootless Docker does: new
// user, mount, network, pid, uts and ipc namespaces with the whole subid
// range mapped, the gvisor-tap-vsock uplink and the builtin port driver.
func parentOpt(cfg config.Config, propagation string) (parent.Opt, error) {
	stateDir := cfg.RootlessKitDir()
	nd, err := networkDriver(cfg)
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
		Propagation:              propagation,
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
func networkDriver(cfg config.Config) (network.ParentDriver, error) {
	d, err := uplink.NewParentDriver(uplink.Options{
		MTU: cfg.MTU, Subnet: cfg.Uplink(), HostLoopback: cfg.HostLoopback, Logger: debugWriter{"network"},
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
func exportChildEnv(cfg config.Config, propagation string) error {
	engine := []string{"/proc/self/exe", "__engine"}
	if c := os.Getenv(envEngineCmd); c != "" {
		engine = strings.Fields(c)
	}
	child, err := json.Marshal(childConfig{Engine: append(engine, EngineArgs(cfg)...), Debug: cfg.Debug, Propagation: propagation})
	if err != nil {
		return err
	}
	set := map[string]string{
		envChildConfig:       string(child),
		EnvRootlessKitAPI:    cfg.RootlessKitAPISocket(),
		config.EnvRuntimeDir: cfg.RuntimeDir,
		config.EnvDataDir:    cfg.DataDir,
	}
	for k, v := range set {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	// systemd's socket (checked by RunDaemon) goes to the engine through
	// RootlessKit's activation helper. Without one, stray variables would
	// make RootlessKit run that helper for nothing.
	if sdactivation.Passed() {
		return nil
	}
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	return nil
}
