package forward

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// loop is an epoll event loop on a goroutine of its own. Everything it
// watches is touched only from that goroutine; other goroutines hand it
// work through do.
type loop struct {
	d      *Child
	epfd   int
	wakefd int // an eventfd: work waits in reqs

	mu     sync.Mutex
	reqs   []func()
	ending bool
	ended  chan struct{}

	// The loop goroutine's own.
	handlers map[uint64]handler
	nextKey  uint64
	timers   timerHeap
	pipes    pipePool
	again    []func() // work that stopped only to let others go first
	spare    []func() // again's other buffer, so turns do not allocate
}

// handler is told what epoll reported for its descriptor.
type handler interface {
	ready(events uint32)
}

// wakeKey is the eventfd's key; descriptors get keys from 1 up, never
// reused, so an event for a descriptor closed meanwhile finds no handler.
const wakeKey = ^uint64(0)

func newLoop(d *Child) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setKey(&ev, wakeKey)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	l := &loop{
		d: d, epfd: epfd, wakefd: wakefd,
		ended:    make(chan struct{}),
		handlers: map[uint64]handler{},
		pipes:    pipePool{max: 64},
	}
	go l.run()
	return l, nil
}

// The key lives in the event's 64 bits of user data.
func setKey(ev *unix.EpollEvent, key uint64) {
	ev.Fd = int32(uint32(key))
	ev.Pad = int32(uint32(key >> 32))
}

func keyOf(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// do runs f on the loop and returns its error; after close it runs
// nothing and says so.
func (l *loop) do(f func() error) error {
	errc := make(chan error, 1)
	l.mu.Lock()
	if l.ending {
		l.mu.Unlock()
		return errors.New("port driver is stopping")
	}
	l.reqs = append(l.reqs, func() { errc <- f() })
	l.mu.Unlock()
	l.wake()
	return <-errc
}

func (l *loop) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	// EAGAIN: the counter is full, so a wake is pending anyway.
	_, _ = unix.Write(l.wakefd, one[:])
}

// close runs the requests already queued, then ends the loop; the
// caller has stopped every port.
func (l *loop) close() {
	l.mu.Lock()
	l.ending = true
	l.mu.Unlock()
	l.wake()
	<-l.ended
}

func (l *loop) run() {
	defer close(l.ended)
	events := make([]unix.EpollEvent, 128)
	for {
		timeout := l.timers.wait(time.Now())
		if len(l.again) > 0 {
			timeout = 0
		}
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.d.logf("port driver: epoll_wait: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		woken := false
		for i := range n {
			key := keyOf(&events[i])
			if key == wakeKey {
				woken = true
				continue
			}
			if h, ok := l.handlers[key]; ok {
				h.ready(events[i].Events)
			}
		}
		l.timers.fire(time.Now())
		again := l.again
		l.again = l.spare[:0]
		for i, f := range again {
			f()
			again[i] = nil
		}
		l.spare = again
		if woken && l.serveRequests() {
			l.pipes.closeAll()
			unix.Close(l.epfd)
			unix.Close(l.wakefd)
			return
		}
	}
}

// serveRequests runs what do queued and says whether the loop must end.
func (l *loop) serveRequests() bool {
	var buf [8]byte
	_, _ = unix.Read(l.wakefd, buf[:])
	l.mu.Lock()
	reqs, ending := l.reqs, l.ending
	l.reqs = nil
	l.mu.Unlock()
	for _, f := range reqs {
		f()
	}
	return ending
}

// later runs f on the loop's next turn, after what epoll reports then.
func (l *loop) later(f func()) {
	l.again = append(l.again, f)
}

// add watches fd for h and returns its key, 0 if epoll refuses.
func (l *loop) add(fd int, events uint32, h handler) uint64 {
	l.nextKey++
	key := l.nextKey
	ev := unix.EpollEvent{Events: events}
	setKey(&ev, key)
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.d.logf("port driver: epoll add: %v", err)
		return 0
	}
	l.handlers[key] = h
	return key
}

// remove stops watching fd before it is closed: a copy of the
// descriptor in a child being forked would otherwise keep it watched.
func (l *loop) remove(fd int, key uint64) {
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	delete(l.handlers, key)
}

// ---- timers

type timer struct {
	at    time.Time
	f     func()
	index int // in the heap; -1 once fired or stopped
}

// after runs f on the loop after d, unless stopTimer comes first.
func (l *loop) after(d time.Duration, f func()) *timer {
	t := &timer{at: time.Now().Add(d), f: f}
	heap.Push(&l.timers, t)
	return t
}

// stopTimer is safe on nil and on a timer that already fired.
func (l *loop) stopTimer(t *timer) {
	if t != nil && t.index >= 0 {
		heap.Remove(&l.timers, t.index)
	}
}

type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// wait is epoll_wait's timeout in ms: until the first timer, or -1.
func (h *timerHeap) wait(now time.Time) int {
	if h.Len() == 0 {
		return -1
	}
	d := (*h)[0].at.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

func (h *timerHeap) fire(now time.Time) {
	for h.Len() > 0 && !(*h)[0].at.After(now) {
		heap.Pop(h).(*timer).f()
	}
}

// ---- pipes

// pipe is a splice(2) pipe.
type pipe struct {
	r, w int
	size int // its capacity
}

// pipeSize is asked of each pipe: splice moves up to this much a call.
// Above the user's pipe-user-pages-soft the kernel refuses, and the
// pipe keeps its 64 KiB.
const pipeSize = 1 << 20

// pipePool keeps empty pipes for the next connection, up to max.
type pipePool struct {
	free []*pipe
	max  int
}

func (pp *pipePool) get() (*pipe, error) {
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		return p, nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	p := &pipe{r: fds[0], w: fds[1], size: 64 << 10}
	if n, err := unix.FcntlInt(uintptr(p.r), unix.F_SETPIPE_SZ, pipeSize); err == nil {
		p.size = n
	}
	return p, nil
}

// put takes back an empty pipe.
func (pp *pipePool) put(p *pipe) {
	if len(pp.free) >= pp.max {
		pp.drop(p)
		return
	}
	pp.free = append(pp.free, p)
}

// drop closes a pipe that may still hold bytes.
func (pp *pipePool) drop(p *pipe) {
	unix.Close(p.r)
	unix.Close(p.w)
}

func (pp *pipePool) closeAll() {
	for _, p := range pp.free {
		pp.drop(p)
	}
	pp.free = nil
}
