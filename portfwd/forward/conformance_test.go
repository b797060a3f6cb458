package forward

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/testsuite"
	"golang.org/x/sys/unix"

	"warren/internal/testenv"
)

// TestMain lets RootlessKit's port-driver suite re-execute this binary as
// the child of its namespaces, as RootlessKit's builtin driver test does.
func TestMain(m *testing.M) {
	testsuite.Main(m, func() port.ChildDriver { return NewChildDriver(os.Stderr) })
}

// TestConformance runs RootlessKit's own port-driver suite against warren's
// driver, as RootlessKit runs it against its builtin one: TCP and UDP
// through a child in a user and network namespace of its own, and UDP
// replies to a non-loopback client. The suite's TCP source-address case is
// left out: it publishes to the child's 127.0.0.1, and warren keeps the
// client's address only towards a container's address (wantTransparent;
// TestTransparentSource), never towards loopback.
func TestConformance(t *testing.T) {
	// The suite skips without these; here their absence is a missing
	// prerequisite like any other.
	for _, tool := range []string{"nsenter", "ip", "nc"} {
		_, err := exec.LookPath(tool)
		testenv.Requiref(t, err == nil, "RootlessKit's port-driver suite needs %s: %v", tool, err)
	}
	// A parent serves one child and removes its socket once connected, so
	// every case of the suite gets a fresh one.
	pf := func() port.ParentDriver {
		d, err := NewParentDriver(testLog{t}, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return listenerWait{d.(*parentDriver)}
	}
	testsuite.Run(t, pf)
	testsuite.RunUDPTransparent(t, pf)
}

// listenerWait returns from AddPort once the child's port has a listener
// in the child's network namespace. The suite starts its nc server and
// publishes the port at once; RootlessKit's builtin driver is slow enough
// that nc is listening by the time a connection comes through, warren's is
// not, and a connection forwarded before the server listens is refused, as
// it should be.
type listenerWait struct{ *parentDriver }

func (d listenerWait) AddPort(ctx context.Context, spec port.Spec) (*port.Status, error) {
	st, err := d.parentDriver.AddPort(ctx, spec)
	if err != nil {
		return st, err
	}
	pid, err := peerPid(d.conn)
	if err != nil {
		return st, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if listening(pid, spec.Proto, spec.ChildPort) {
			break
		}
	}
	return st, nil
}

// peerPid is the child's pid, from the control connection.
func peerPid(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if cerr != nil {
		return 0, cerr
	}
	if err != nil {
		return 0, err
	}
	return int(cred.Pid), nil
}

// listening reports whether pid's network namespace has a socket bound to
// port: a listening one for TCP (state 0A), any for UDP.
func listening(pid int, proto string, port int) bool {
	kind := strings.TrimRight(proto, "46")
	want := fmt.Sprintf(":%04X", port)
	for _, table := range []string{kind, kind + "6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 3 && strings.HasSuffix(f[1], want) && (kind == "udp" || f[3] == "0A") {
				return true
			}
		}
	}
	return false
}
