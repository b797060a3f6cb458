package image

import "testing"

func TestOnLoopback(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5000":     "127.0.0.1:5000",
		"127.1.2.3:443":      "127.1.2.3:443",
		"localhost:5000":     "127.0.0.1:5000",
		"[::1]:5000":         "[::1]:5000",
		"registry.test:5000": "",
		"192.0.2.1:5000":     "",
		"noport":             "",
	} {
		got, ok := onLoopback(addr)
		if got != want || ok != (want != "") {
			t.Errorf("onLoopback(%q) = %q, %v; want %q", addr, got, ok, want)
		}
	}
}
