package engine

import (
	"context"
	"fmt"
	"io"
	"log"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"

	"warren/portfwd"
	"warren/rootless/sandbox"
)

// ContainerStart starts a created or exited container.
func (e *Engine) ContainerStart(ctx context.Context, name string) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	return e.start(ctx, c)
}

// netTarget is where a container's network (and, with container:X, its
// /etc files) come from.
type netTarget struct {
	netns                   string // sandbox.Spec.NetNS
	hosts, hostname, resolv string
	// pidns and ipcns are --pid and --ipc container:X's namespaces.
	pidns, ipcns string
}

// networkOf resolves the container's network mode before c is locked: a
// container:X mode looks at X, and locking both at once could deadlock.
func (e *Engine) networkOf(c *Container) (netTarget, error) {
	t := netTarget{hosts: c.hostsPath(), hostname: c.hostnamePath(), resolv: c.resolvConfPath()}
	mode := c.rec.HostConfig.NetworkMode
	switch {
	case mode.IsHost():
		t.netns = "host"
	case mode.IsContainer():
		other, err := e.lookup(mode.ConnectedContainer())
		if err != nil {
			return t, err
		}
		if other == c {
			return t, errdefs.ErrInvalidArgument.WithMessage(errOwnNetNS.Error())
		}
		init, _, ok := other.current()
		if !ok {
			return t, errdefs.ErrConflict.WithMessage(fmt.Sprintf(
				"cannot join network namespace of a non running container: container %s is %s",
				other.shortName(), other.snapshot().State.Status))
		}
		t.netns = fmt.Sprintf("/proc/%d/ns/net", init.Pid()) // the engine's pid
		t.hosts, t.hostname, t.resolv = other.hostsPath(), other.hostnamePath(), other.resolvConfPath()
	}
	var err error
	if t.pidns, err = e.joinedNS(c, string(c.rec.HostConfig.PidMode), "pid"); err != nil {
		return t, err
	}
	if t.ipcns, err = e.joinedNS(c, string(c.rec.HostConfig.IpcMode), "ipc"); err != nil {
		return t, err
	}
	return t, nil
}

// joinedNS is the namespace file of a container:X mode, or "" for the
// container's own. As Docker, X must run and, for ipc, be shareable.
func (e *Engine) joinedNS(c *Container, mode, ns string) (string, error) {
	name, ok := strings.CutPrefix(mode, "container:")
	if !ok {
		return "", nil
	}
	other, err := e.lookup(name)
	if err != nil {
		if ns == "ipc" {
			return "", fmt.Errorf("can't join IPC of container %s: %w", name, err)
		}
		return "", errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if other == c {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("cannot join own %s namespace", ns))
	}
	if ns == "ipc" && other.rec.HostConfig.IpcMode != "shareable" {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"can't join IPC of container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", name))
	}
	init, _, running := other.current()
	if !running {
		return "", errNotRunning(name)
	}
	return fmt.Sprintf("/proc/%d/ns/%s", init.Pid(), ns), nil
}

func (e *Engine) start(ctx context.Context, c *Container) error {
	return e.startAs(ctx, c, false)
}

// startAs starts c for the user (policy false) or for its restart policy.
func (e *Engine) startAs(ctx context.Context, c *Container, policy bool) error {
	// A namespace to join that is not there fails the start inside
	// startRun, so that --rm still removes the container.
	target, targetErr := e.networkOf(c)
	// Link sources are locked to read them, so before c is: two containers
	// linked to each other (by name) may start at once.
	sources, linkErr := e.resolveLinks(c.rec.Name, c.snapshot().Links)
	ep, autoRemove, err := c.startRun(func() error {
		if targetErr != nil {
			return c.failStartLocked(targetErr)
		}
		return e.run1(ctx, c, target, sources, linkErr)
	}, policy, e.quitting())
	if err == nil && ep != nil {
		// Outside c.mu: recipients are locked in turn.
		e.sourceMoved(c, ep.IP)
	}
	if autoRemove {
		// Docker removes a --rm container whose start failed; the CLI's
		// wait?condition=removed then ends.
		e.remove(context.WithoutCancel(ctx), c, true)
	}
	return err
}

// run1 starts one run of c with its link sources as resolved (or failed)
// just before; c.mu is held (startRun). Each step pushes its undo; on
// error they all run, newest first, and the error is recorded in the
// container's state.
func (e *Engine) run1(ctx context.Context, c *Container, target netTarget, sources []linkedSource, linkErr error) (err error) {
	if linkErr != nil {
		return c.failStartLocked(linkErr)
	}
	spec, err := c.spec(target, linkEnv(c.rec.Name, sources))
	if err != nil {
		return err // a bad -v: nothing was tried, nothing is recorded
	}
	var u undo
	defer func() {
		if err != nil {
			u.run()
			err = c.failStartLocked(err)
		}
	}()
	if err := c.log.open(); err != nil {
		return err
	}
	u.push(c.endOutput)
	proc, err := e.run.Create(spec)
	if err != nil {
		return err
	}
	u.push(func() { killAndReap(proc) })
	var ep *Endpoint
	var pub *portfwd.Published
	if e.network != nil && c.rec.HostConfig.NetworkMode.IsBridge() {
		if ep, err = e.network.Attach(ctx, c.rec.ID, proc.Pid()); err != nil {
			return fmt.Errorf("attach network: %w", err)
		}
		u.push(func() { e.detach(c.rec.ID, ep) })
		ep.ID = e.newID()
		e.networkEvent(eventtypes.ActionConnect, c.rec.ID)
		e.allowLinks(ep.IP, sources)
		if e.ports != nil {
			cfg, hc := c.rec.Config, c.rec.HostConfig
			if pub, err = e.ports.Publish(ctx, c.rec.ID, ep.IP, cfg.ExposedPorts, hc.PortBindings, hc.PublishAllPorts); err != nil {
				return publishError(c.rec.Name, ep.ID, err)
			}
			u.push(func() { e.ports.Unpublish(context.Background(), pub) })
		}
		if err := e.writeEtcFiles(c, ep, linkHosts(sources)); err != nil {
			log.Printf("engine: %s: %v", c.rec.ID[:12], err)
		}
	}
	copiers := e.copyOutput(c, proc)
	// The copiers end with the process's output: once it is dead.
	u.push(func() { proc.Signal(syscall.SIGKILL); proc.Wait(); copiers.Wait() })
	if err := proc.Start(); err != nil {
		return err // the init exits by itself after reporting it
	}
	c.setRunningLocked(proc, proc.HostPid(), ep, pub)
	c.event(eventtypes.ActionStart)
	e.wg.Add(1)
	go e.monitor(c, proc, copiers, ep)
	return nil
}

// spec builds the runtime's description of the container's first process.
func (c *Container) spec(target netTarget, linkEnv []string) (*sandbox.Spec, error) {
	cfg, hc := c.rec.Config, c.rec.HostConfig
	mounts, err := userMounts(hc)
	if err != nil {
		return nil, err
	}
	if err := createBindSources(hc); err != nil {
		return nil, err
	}
	devs, err := devices(hc)
	if err != nil {
		return nil, err
	}
	filter, err := seccompFor(hc)
	if err != nil {
		return nil, err
	}
	return &sandbox.Spec{
		ID:             c.rec.ID,
		Hostname:       cfg.Hostname,
		Lowers:         c.rec.Lowers,
		Upper:          c.upperDir(),
		Work:           c.workDir(),
		Rootfs:         c.rootfsDir(),
		Args:           append([]string{c.rec.Path}, c.rec.Args...),
		Env:            processEnv(cfg.Hostname, cfg.Tty, linkEnv, cfg.Env),
		Cwd:            cfg.WorkingDir,
		User:           cfg.User,
		Tty:            cfg.Tty,
		OpenStdin:      cfg.OpenStdin,
		Mounts:         mounts,
		ShmSize:        hc.ShmSize,
		Rlimits:        rlimits(hc),
		Sysctls:        hc.Sysctls,
		GroupAdd:       hc.GroupAdd,
		OomScoreAdj:    hc.OomScoreAdj,
		Devices:        devs,
		HostsPath:      target.hosts,
		HostnamePath:   target.hostname,
		ResolvConfPath: target.resolv,
		NetNS:          target.netns,
		PidNS:          target.pidns,
		IpcNS:          target.ipcns,
		CapAdd:         hc.CapAdd,
		CapDrop:        hc.CapDrop,
		Privileged:     hc.Privileged,
		ReadonlyRootfs: hc.ReadonlyRootfs,
		Init:           hc.Init != nil && *hc.Init,
		Seccomp:        filter,
		MaskedPaths:    hc.MaskedPaths,
		ReadonlyPaths:  hc.ReadonlyPaths,
	}, nil
}

// failStartLocked records a failed start Docker's way: the container keeps
// its status, Error says why and ExitCode is the sandbox's code for it
// (127/126 for a command that cannot run, 128 otherwise). Those two are
// the user's mistake, so they are 400s, as in Docker.
func (c *Container) failStartLocked(err error) error {
	code := sandbox.ExitCode(err)
	c.rec.State.Error = err.Error()
	c.rec.State.ExitCode = code
	if serr := c.save(); serr != nil {
		log.Printf("engine: %v", serr)
	}
	if code != sandbox.ExitUnknown {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return err
}

// endOutput closes the run's output: the log, attached clients, stdin.
func (c *Container) endOutput() {
	c.log.close()
	c.out.end()
	if c.stdin != nil {
		c.stdin.reset()
	}
}

func killAndReap(p process) {
	p.Signal(syscall.SIGKILL)
	p.Wait()
	p.Close()
}

func (e *Engine) detach(id string, ep *Endpoint) {
	if ep == nil || e.network == nil {
		return
	}
	if err := e.network.Detach(id); err != nil {
		log.Printf("engine: detach %s: %v", id[:12], err)
	}
	e.networkEvent(eventtypes.ActionDisconnect, id)
}

// copyOutput starts the goroutines that drain the process's output into
// the log and the attached clients, and feeds its stdin. They run whether
// or not anyone is attached, so the process never blocks on a full pipe.
func (e *Engine) copyOutput(c *Container, p process) *sync.WaitGroup {
	var wg sync.WaitGroup
	drain := func(stream string, r io.Reader) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lineWriter{log: c.log, stream: stream}
			buf := make([]byte, 32*1024)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					c.out.write(stream, buf[:n])
					lw.Write(buf[:n])
				}
				if err != nil {
					break
				}
			}
			lw.flush()
		}()
	}
	if con := p.Console(); con != nil {
		drain("stdout", con)
		if c.stdin != nil {
			go feed(con, c.stdin.reader(), false)
		}
	} else {
		drain("stdout", p.Stdout())
		drain("stderr", p.Stderr())
		if in := p.Stdin(); in != nil && c.stdin != nil {
			go feed(in, c.stdin.reader(), true)
		}
	}
	return &wg
}

// monitor waits for the run to end and records it: exit code, output
// drained, network released, waiters told, then --rm or a policy restart.
func (e *Engine) monitor(c *Container, p process, copiers *sync.WaitGroup, ep *Endpoint) {
	defer e.wg.Done()
	code, err := p.Wait()
	copiers.Wait()
	if pub := c.closeRun(p); pub != nil && e.ports != nil {
		e.ports.Unpublish(context.Background(), pub)
	}
	c.endOutput()
	e.detach(c.rec.ID, ep)
	plan := c.setExited(code, err, e.quitting())
	if plan.autoRemove {
		e.remove(context.Background(), c, true)
	}
	if plan.restart {
		e.wg.Add(1) // this monitor's own count keeps the group above zero
		go e.restartAfter(c, plan.wait, plan.cancel)
	}
}

// ContainerStop is docker stop: the stop signal, then SIGKILL after timeout.
func (e *Engine) ContainerStop(ctx context.Context, name, signal string, timeout *int) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	return e.stop(ctx, c, signal, stopTimeout(c.rec.Config, timeout))
}

// defaultStopTimeout is Docker's, in seconds.
const defaultStopTimeout = 10

func stopTimeout(cfg *container.Config, t *int) int {
	switch {
	case t != nil:
		return *t
	case cfg.StopTimeout != nil:
		return *cfg.StopTimeout
	}
	return defaultStopTimeout
}

func (e *Engine) stop(ctx context.Context, c *Container, sigName string, timeout int) error {
	if sigName == "" {
		sigName = c.rec.Config.StopSignal
	}
	sig := syscall.SIGTERM
	if sigName != "" {
		s, err := parseSignal(sigName)
		if err != nil {
			return err
		}
		sig = s
	}
	proc, exited, ok, canceled := c.stopRequested(sig, e.quitting())
	if canceled {
		return nil // it was waiting to restart: now it is stopped
	}
	if !ok {
		return errdefs.ErrNotModified.WithMessage("container already stopped")
	}
	proc.Signal(sig) // an error means it is already gone; exited says so
	c.killed(sig)
	defer c.eventIfExited(exited, eventtypes.ActionStop)
	var expire <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-exited:
		return nil
	case <-expire:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.stopRequested(syscall.SIGKILL, e.quitting()) // this run is not restarted
	proc.Signal(syscall.SIGKILL)
	c.killed(syscall.SIGKILL)
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ContainerRestart is stop (if running) then start.
func (e *Engine) ContainerRestart(ctx context.Context, name, signal string, timeout *int) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	if err := e.stop(ctx, c, signal, stopTimeout(c.rec.Config, timeout)); err != nil && !errdefs.IsNotModified(err) {
		return err
	}
	if err := e.start(ctx, c); err != nil {
		return err
	}
	c.event(eventtypes.ActionRestart)
	return nil
}

// ContainerKill sends a signal (default SIGKILL); with SIGKILL it waits
// for the exit, as Docker does.
func (e *Engine) ContainerKill(ctx context.Context, name, signal string) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if signal != "" {
		if sig, err = parseSignal(signal); err != nil {
			return err
		}
	}
	proc, exited, ok, canceled := c.stopRequested(sig, e.quitting())
	if canceled {
		return nil // it was waiting to restart: now it is stopped
	}
	if !ok {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf(
			"cannot kill container: %s: container %s is not running", name, c.rec.ID))
	}
	if err := proc.Signal(sig); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	c.killed(sig)
	if sig == syscall.SIGKILL {
		select {
		case <-exited:
		case <-ctx.Done():
		}
	}
	return nil
}

// ContainerResize sets the tty size of the running process.
func (e *Engine) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := e.lookup(name)
	if err != nil {
		return err
	}
	if err := c.resize(uint16(height), uint16(width)); err != nil {
		return err
	}
	c.event(eventtypes.ActionResize, "height", strconv.Itoa(int(height)), "width", strconv.Itoa(int(width)))
	return nil
}

func errNotRunning(id string) error {
	return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", id))
}
