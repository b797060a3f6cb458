package uplink

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// openTap creates the tap device name in the calling thread's network
// namespace and returns its queue. IFF_NO_PI: the fd carries bare Ethernet
// frames, which is what the netstack's switch reads and writes.
func openTap(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tap %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("create tap %s (TUNSETIFF): %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// linkConfig is what the child sets on tap0.
type linkConfig struct {
	name    string
	mtu     int
	addr    *net.IPNet // the namespace's address and prefix
	gateway net.IP
}

// configureLink sets MTU, address, up and the default route through nl, the
// netlink handle of the namespace, so the child needs no `ip` binary.
func configureLink(nl *netlink.Handle, c linkConfig) error {
	link, err := nl.LinkByName(c.name)
	if err != nil {
		return fmt.Errorf("find %s: %w", c.name, err)
	}
	if err := nl.LinkSetMTU(link, c.mtu); err != nil {
		return fmt.Errorf("set mtu %d on %s: %w", c.mtu, c.name, err)
	}
	if err := nl.AddrAdd(link, &netlink.Addr{IPNet: c.addr}); err != nil {
		return fmt.Errorf("add address %s to %s: %w", c.addr, c.name, err)
	}
	if err := nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", c.name, err)
	}
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: c.gateway}
	if err := nl.RouteAdd(route); err != nil {
		return fmt.Errorf("add default route via %s dev %s: %w", c.gateway, c.name, err)
	}
	return nil
}

// inNetNS runs fn with the calling goroutine's thread in the network
// namespace at path ("" means the current one), and returns to the original
// namespace after. A thread that cannot return is left locked, so the Go
// runtime retires it instead of reusing it in the wrong namespace.
func inNetNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open current netns: %w", err)
	}
	defer orig.Close()
	target, err := os.Open(path)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", path, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, fmt.Errorf("return from netns %s: %w", path, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
