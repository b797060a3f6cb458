// Command nsrun runs a command in RootlessKit's namespaces with either
// warren's uplink driver or RootlessKit's stock gvisor-tap-vsock driver, so
// the two can be measured and tested side by side. It re-executes itself as
// the child, as rootlesskit does. Test and benchmark use only.
//
//	nsrun [-driver uplink|stock] [-mtu N] [-disable-host-loopback] [-cpuprofile F] -- CMD...
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"

	"github.com/rootless-containers/rootlesskit/v3/pkg/child"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network/gvisortapvsock"
	"github.com/rootless-containers/rootlesskit/v3/pkg/parent"
	"github.com/sirupsen/logrus"

	wcfg "warren/internal/config"
	"warren/netstack/uplink"
)

const (
	pipeFDEnvKey              = "_NSRUN_PIPEFD"
	childUseActivationEnvKey  = "_NSRUN_ACTIVATION_CHILD"
	runActivationHelperEnvKey = "_NSRUN_ACTIVATION_HELPER"
	stateDirEnvKey            = "NSRUN_STATE_DIR"
)

type config struct {
	driver         string
	mtu            int
	noHostLo       bool
	cpuProfile     string
	cmd            []string
	isChildProcess bool
}

func main() {
	var c config
	flag.StringVar(&c.driver, "driver", "uplink", "network driver: uplink or stock")
	flag.IntVar(&c.mtu, "mtu", wcfg.DefaultMTU, "tap0 MTU")
	flag.BoolVar(&c.noHostLo, "disable-host-loopback", false, "do not map the gateway to the host's 127.0.0.1")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the parent's CPU profile here")
	flag.Parse()
	c.cmd = flag.Args()
	c.isChildProcess = os.Getenv(pipeFDEnvKey) != ""
	if len(c.cmd) == 0 {
		fmt.Fprintln(os.Stderr, "usage: nsrun [flags] -- CMD...")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "nsrun: %v\n", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.isChildProcess {
		return runChild(c)
	}
	return runParent(c)
}

func runChild(c config) error {
	var d network.ChildDriver
	switch c.driver {
	case "uplink":
		d = uplink.NewChildDriver()
	case "stock":
		d = gvisortapvsock.NewChildDriver()
	default:
		return fmt.Errorf("unknown driver %q", c.driver)
	}
	return child.Child(child.Opt{
		PipeFDEnvKey:              pipeFDEnvKey,
		RunActivationHelperEnvKey: runActivationHelperEnvKey,
		ChildUseActivationEnvKey:  childUseActivationEnvKey,
		StateDirEnvKey:            stateDirEnvKey,
		TargetCmd:                 c.cmd,
		NetworkDriver:             d,
		Propagation:               "rprivate",
	})
}

func runParent(c config) error {
	logrus.SetLevel(logrus.WarnLevel)
	var d network.ParentDriver
	var err error
	switch c.driver {
	case "uplink":
		d, err = uplink.NewParentDriver(uplink.Options{MTU: c.mtu, HostLoopback: !c.noHostLo, Logger: os.Stderr})
	case "stock":
		_, subnet, _ := net.ParseCIDR(wcfg.DefaultUplinkSubnet)
		d, err = gvisortapvsock.NewParentDriver(os.Stderr, c.mtu, subnet, uplink.DeviceName, c.noHostLo, false)
	default:
		err = fmt.Errorf("unknown driver %q", c.driver)
	}
	if err != nil {
		return err
	}
	stateDir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "nsrun-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return parent.Parent(parent.Opt{
		PipeFDEnvKey:             pipeFDEnvKey,
		ChildUseActivationEnvKey: childUseActivationEnvKey,
		StateDir:                 stateDir,
		StateDirEnvKey:           stateDirEnvKey,
		NetworkDriver:            d,
		Propagation:              "rprivate",
		SubidSource:              parent.SubidSourceAuto,
	})
}
