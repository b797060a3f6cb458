package hostproc

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParsePid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // 0: an error
	}{
		{"pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nPid:\t4242\nNSpid:\t4242\t17\n", 4242},
		{"Pid:\t1\n", 1},
		{"Pid:\t-1\nNSpid:\t-1\n", 0}, // exited, or not in that namespace
		{"pos:\t0\nflags:\t02\n", 0},
		{"Pid:\tx\n", 0},
		{"", 0},
	} {
		got, err := parsePid([]byte(tc.in))
		if (err != nil) != (tc.want == 0) || got != tc.want {
			t.Errorf("parsePid(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParsePid(f *testing.F) {
	f.Add([]byte("Pid:\t4242\nNSpid:\t4242\t17\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if pid, err := parsePid(in); err == nil && pid <= 0 {
			t.Errorf("parsePid(%q) = %d without an error", in, pid)
		}
	})
}

// Through a /proc of the test's own pid namespace, a child's pid is its
// own: the fdinfo path works end to end (the e2e tests cover the daemon's
// nested namespace).
func TestPidThrough(t *testing.T) {
	dir, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	got, err := pidThrough(dir, cmd.Process.Pid)
	if err != nil || got != cmd.Process.Pid {
		t.Errorf("pidThrough(%d) = %d, %v", cmd.Process.Pid, got, err)
	}
	if _, err := pidThrough(dir, 0x3fffffff); err == nil {
		t.Errorf("pidThrough of no process: no error")
	}
}

// Take claims an inherited handle: close-on-exec, variable gone.
func TestKeepTake(t *testing.T) {
	t.Setenv(envFD, "")
	os.Unsetenv(envFD)
	if err := Keep(); err != nil {
		t.Fatal(err)
	}
	fd, err := strconv.Atoi(os.Getenv(envFD))
	if err != nil {
		t.Fatalf("%s = %q", envFD, os.Getenv(envFD))
	}
	if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC != 0 {
		t.Errorf("Keep's handle is close-on-exec; the engine would not inherit it")
	}
	if err := Keep(); err != nil || os.Getenv(envFD) != strconv.Itoa(fd) {
		t.Errorf("a second Keep replaced the handle: %v, %s", err, os.Getenv(envFD))
	}
	Take()
	if _, ok := os.LookupEnv(envFD); ok {
		t.Errorf("%s still set after Take", envFD)
	}
	if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("the host's /proc would leak into the engine's children")
	}
	if got, err := Pid(os.Getpid()); err != nil || got != os.Getpid() {
		// The test's /proc is its own namespace's: the pid is unchanged.
		t.Errorf("Pid(self) = %d, %v; want %d", got, err, os.Getpid())
	}
}
