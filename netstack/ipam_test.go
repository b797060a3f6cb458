package netstack

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

func TestIPAMAllocate(t *testing.T) {
	tests := []struct {
		name    string
		subnet  string
		release []int    // indexes (into allocations so far) to release before the last allocation
		n       int      // allocations
		want    []string // per allocation; "" = unchecked, or where wantErr is expected
		wantErr error
	}{
		{name: "docker0 starts at .2", subnet: "172.17.0.0/16", n: 3,
			want: []string{"172.17.0.2", "172.17.0.3", "172.17.0.4"}},
		{name: "crosses a byte", subnet: "10.1.0.0/23", n: 256,
			want: append(make([]string, 253), "10.1.0.255", "10.1.1.0", "10.1.1.1")},
		{name: "/30 has two hosts minus the gateway", subnet: "192.168.9.0/30", n: 2,
			want: []string{"192.168.9.2", ""}, wantErr: ErrNoAvailableIPs},
		{name: "/29 skips network gateway broadcast", subnet: "192.168.9.8/29", n: 6,
			want:    []string{"192.168.9.10", "192.168.9.11", "192.168.9.12", "192.168.9.13", "192.168.9.14", ""},
			wantErr: ErrNoAvailableIPs},
		{name: "unmasked subnet is masked", subnet: "172.17.5.9/16", n: 1, want: []string{"172.17.0.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewIPAM(netip.MustParsePrefix(tt.subnet))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tt.n; i++ {
				got, err := m.Allocate(fmt.Sprint("c", i))
				if tt.want[i] == "" {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("allocation %d: err %v, want %v", i, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("allocation %d: %v", i, err)
				}
				if got.String() != tt.want[i] {
					t.Errorf("allocation %d = %s, want %s", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestNewIPAMRejects(t *testing.T) {
	for _, s := range []string{"10.0.0.0/31", "10.0.0.1/32", "fd00::/64"} {
		if _, err := NewIPAM(netip.MustParsePrefix(s)); err == nil {
			t.Errorf("NewIPAM(%s) succeeded", s)
		}
	}
}

// A released address comes back only after the rest of the pool was used,
// as Docker's sequential allocator does.
func TestIPAMDoesNotReuseAtOnce(t *testing.T) {
	m, _ := NewIPAM(netip.MustParsePrefix("192.168.9.8/29")) // .10 .. .14
	for _, id := range []string{"a", "b", "c"} {
		mustAllocate(t, m, id) // .10 .11 .12
	}
	m.Release("a")
	steps := []struct{ id, want string }{
		{"d", "192.168.9.13"},
		{"e", "192.168.9.14"},
		{"f", "192.168.9.10"}, // wrapped to the released one
	}
	for _, s := range steps {
		if got := mustAllocate(t, m, s.id); got.String() != s.want {
			t.Errorf("Allocate(%s) = %s, want %s", s.id, got, s.want)
		}
	}
	if _, err := m.Allocate("g"); !errors.Is(err, ErrNoAvailableIPs) {
		t.Errorf("full pool: err %v, want %v", err, ErrNoAvailableIPs)
	}
}

func TestIPAMReleaseAndLookup(t *testing.T) {
	m, _ := NewIPAM(testSubnet)
	ip := mustAllocate(t, m, "a")
	if got, ok := m.Lookup("a"); !ok || got != ip {
		t.Errorf("Lookup(a) = %s %v, want %s", got, ok, ip)
	}
	if _, err := m.Allocate("a"); err == nil {
		t.Error("second Allocate for one id succeeded")
	}
	m.Release("a")
	m.Release("a") // harmless
	m.Release("never")
	if _, ok := m.Lookup("a"); ok {
		t.Error("Lookup after Release found the address")
	}
}

func TestIPAMRequest(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr error
	}{
		{"172.17.0.9", nil},
		{"172.17.0.9", ErrIPAlreadyInUse},
		{"172.17.0.1", ErrIPAlreadyInUse},     // gateway
		{"172.17.255.255", ErrIPAlreadyInUse}, // broadcast
		{"172.18.0.2", ErrIPOutOfRange},
		{"::1", ErrIPOutOfRange},
	}
	m, _ := NewIPAM(testSubnet)
	for i, tt := range tests {
		err := m.Request(fmt.Sprint("r", i), netip.MustParseAddr(tt.addr))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Request(%s) = %v, want %v", tt.addr, err, tt.wantErr)
		}
	}
	// Sequential allocation steps over a requested address.
	for range 7 {
		mustAllocate(t, m, fmt.Sprint("x", m.next))
	}
	if got := mustAllocate(t, m, "next"); got.String() != "172.17.0.10" {
		t.Errorf("allocation after .2-.8 = %s, want 172.17.0.10 (.9 was requested)", got)
	}
}

// Many goroutines at once never get the same address.
func TestIPAMConcurrent(t *testing.T) {
	m, _ := NewIPAM(testSubnet)
	const n = 500
	addrs := make([]netip.Addr, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip, err := m.Allocate(fmt.Sprint("c", i))
			if err != nil {
				t.Error(err)
			}
			addrs[i] = ip
			if i%3 == 0 {
				m.Release(fmt.Sprint("c", i))
			}
		}()
	}
	wg.Wait()
	live := map[netip.Addr]string{}
	for i, ip := range addrs {
		if i%3 == 0 {
			continue
		}
		if other, dup := live[ip]; dup {
			t.Fatalf("%s given to c%d and %s", ip, i, other)
		}
		live[ip] = fmt.Sprint("c", i)
	}
}

func TestIPAMFillsSlash16(t *testing.T) {
	m, _ := NewIPAM(testSubnet)
	seen := make(map[netip.Addr]bool)
	for i := range 65533 {
		ip := mustAllocate(t, m, fmt.Sprint(i))
		if seen[ip] {
			t.Fatalf("%s handed out twice", ip)
		}
		seen[ip] = true
	}
	if _, err := m.Allocate("one-too-many"); !errors.Is(err, ErrNoAvailableIPs) {
		t.Fatalf("err %v, want %v", err, ErrNoAvailableIPs)
	}
}

func mustAllocate(t *testing.T, m *IPAM, id string) netip.Addr {
	t.Helper()
	ip, err := m.Allocate(id)
	if err != nil {
		t.Fatalf("Allocate(%s): %v", id, err)
	}
	return ip
}

func BenchmarkIPAMAllocateRelease(b *testing.B) {
	m, _ := NewIPAM(testSubnet)
	for i := range 30000 {
		_, _ = m.Allocate(fmt.Sprint("bg", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Allocate("x"); err != nil {
			b.Fatal(err)
		}
		m.Release("x")
	}
}
