package bootstrap

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/rootless-containers/rootlesskit/v3/pkg/child"
	"github.com/rootless-containers/rootlesskit/v3/pkg/common"
	"github.com/rootless-containers/rootlesskit/v3/pkg/copyup/tmpfssymlink"
	"golang.org/x/sys/unix"

	"warren/netstack/uplink"
	"warren/portfwd/forward"
	"warren/rootless/hostproc"
)

// IsChild tells whether this process is the RootlessKit child re-executed by
// the daemon's parent half.
func IsChild() bool { return os.Getenv(envPipeFD) != "" }

// ChildMain runs the RootlessKit child; it never returns. It is pid 1 of the
// daemon's pid namespace: when it dies, the kernel kills every process in
// there (the engine, the containers); the port listeners live in the
// parent and in this process, so a killed daemon leaves nothing running
// and nothing bound.
func ChildMain() {
	os.Exit(runChild())
}

func runChild() int {
	// Gaining capabilities in the user namespace (RootlessKit re-executes
	// the child for that) counts as a credentials change, which clears the
	// death signal the parent set: arm it again so that a daemon killed
	// with SIGKILL takes its child, and so its pid namespace, with it.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "%sset parent death signal: %v\n", logPrefix, err)
		return 1
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(envChildConfig)), &cfg); err != nil || len(cfg.Engine) == 0 {
		fmt.Fprintf(os.Stderr, "%sno engine command from the parent (%s)\n", logPrefix, envChildConfig)
		return 1
	}
	setupLogging(cfg.Debug)
	// Before child.Child mounts the pid namespace's own /proc: the engine
	// reports containers' pids as the host sees them.
	if err := hostproc.Keep(); err != nil {
		fmt.Fprintf(os.Stderr, "%s%v\n", logPrefix, err)
		return 1
	}
	err := child.Child(childOpt(cfg))
	if err == nil {
		return 0
	}
	// The engine printed why it failed; the exit status is enough here.
	code, ok := common.GetExecExitStatus(err)
	if !ok {
		fmt.Fprintf(os.Stderr, "%s%v\n", logPrefix, err)
		return 1
	}
	return code
}

// childOpt matches parentOpt. /etc is copied up (a tmpfs of symlinks, as
// rootless Docker does) so that RootlessKit can put the uplink's
// resolv.conf and hosts in place without touching the host's files.
func childOpt(cfg childConfig) child.Opt {
	return child.Opt{
		PipeFDEnvKey:              envPipeFD,
		RunActivationHelperEnvKey: envActivationHelper,
		ChildUseActivationEnvKey:  envChildActivation,
		StateDirEnvKey:            envStateDir,
		TargetCmd:                 cfg.Engine,
		NetworkDriver:             uplink.NewChildDriver(),
		PortDriver:                forward.NewChildDriver(debugWriter{"port"}),
		CopyUpDriver:              tmpfssymlink.NewChildDriver(),
		CopyUpDirs:                []string{"/etc"},
		MountProcfs:               true,
		Propagation:               cfg.Propagation,
		// pid 1 of the namespace adopts the containers' orphans: reap them.
		Reaper: true,
	}
}
