package uplink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/messages"
	"github.com/rootless-containers/rootlesskit/v3/pkg/network"
	"github.com/vishvananda/netlink"
)

// opaqueSocketPath is the NetworkDriverOpaque key of the parent's socket, as
// in RootlessKit's gvisor-tap-vsock driver.
const opaqueSocketPath = "socketPath"

// handoffTimeout bounds the wait for the parent's answer, so a wedged parent
// fails the child's start instead of hanging it.
const handoffTimeout = 30 * time.Second

// NewChildDriver returns the driver half that runs in the child's namespaces.
func NewChildDriver() network.ChildDriver { return childDriver{} }

type childDriver struct{}

// ChildDriverInfo says the driver configures tap0 itself (over netlink), so
// RootlessKit does not shell out to `ip` for it.
func (childDriver) ChildDriverInfo() (*network.ChildDriverInfo, error) {
	return &network.ChildDriverInfo{ConfiguresInterface: true}, nil
}

// ConfigureNetworkChild creates and configures tap0 in the namespace, hands
// its fd to the parent and keeps nothing: once it returns, the parent's copy
// of the fd is the only one and nothing of the driver runs in the child.
func (childDriver) ConfigureNetworkChild(msg *messages.ParentInitNetworkDriverCompleted, detachedNetNSPath string) (string, error) {
	cfg, sock, err := childConfig(msg)
	if err != nil {
		return "", err
	}
	var tap *os.File
	err = inNetNS(detachedNetNSPath, func() error {
		tap, err = createTap(cfg)
		return err
	})
	if err != nil {
		return "", err
	}
	defer tap.Close()
	if err := handOff(sock, tap); err != nil {
		return "", err
	}
	return cfg.name, nil
}

// childConfig reads what the parent decided from its message.
func childConfig(msg *messages.ParentInitNetworkDriverCompleted) (linkConfig, string, error) {
	sock := msg.NetworkDriverOpaque[opaqueSocketPath]
	if sock == "" {
		return linkConfig{}, "", errors.New("uplink: parent sent no socket path")
	}
	if msg.Dev == "" {
		return linkConfig{}, "", errors.New("uplink: parent sent no device name")
	}
	ip := net.ParseIP(msg.IP).To4()
	gw := net.ParseIP(msg.Gateway).To4()
	if ip == nil || gw == nil || msg.Netmask <= 0 || msg.Netmask > 32 {
		return linkConfig{}, "", fmt.Errorf("uplink: bad addresses from parent: ip %q/%d gateway %q", msg.IP, msg.Netmask, msg.Gateway)
	}
	return linkConfig{
		name:    msg.Dev,
		mtu:     msg.MTU,
		addr:    &net.IPNet{IP: ip, Mask: net.CIDRMask(msg.Netmask, 32)},
		gateway: gw,
	}, sock, nil
}

// createTap creates tap0 in the current namespace and configures it. On
// failure the fd is closed, which removes the (non-persistent) device.
func createTap(cfg linkConfig) (*os.File, error) {
	tap, err := openTap(cfg.name)
	if err != nil {
		return nil, err
	}
	nl, err := netlink.NewHandle()
	if err != nil {
		tap.Close()
		return nil, fmt.Errorf("netlink: %w", err)
	}
	defer nl.Close()
	if err := configureLink(nl, cfg); err != nil {
		tap.Close()
		return nil, err
	}
	return tap, nil
}

// handOff sends the tap fd to the parent and waits for it to be wired.
func handOff(sock string, tap *os.File) error {
	c, err := net.DialTimeout("unix", sock, handoffTimeout)
	if err != nil {
		return fmt.Errorf("uplink: connect to parent: %w", err)
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(handoffTimeout)); err != nil {
		return err
	}
	if err := sendFD(conn, tap); err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	reply := make([]byte, 1)
	if _, err := conn.Read(reply); err != nil {
		return fmt.Errorf("uplink: wait for parent: %w", err)
	}
	if reply[0] != replyOK {
		return errors.New("uplink: parent could not attach tap0 to the netstack (see the parent's log)")
	}
	return nil
}
