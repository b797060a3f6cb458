package config

import (
	"errors"
	"testing"
)

func TestResolvePaths(t *testing.T) {
	home := func() (string, error) { return "/home/bob", nil }
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	tests := []struct {
		name    string
		env     map[string]string
		home    func() (string, error)
		want    Paths
		wantErr bool
	}{
		{"defaults", nil, home, Paths{"/tmp/warren-1000", "/home/bob/.local/share/warren"}, false},
		{"xdg", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_DATA_HOME": "/data"}, home,
			Paths{"/run/user/1000/warren", "/data/warren"}, false},
		{"warren overrides xdg", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "WARREN_RUNTIME_DIR": "/r", "WARREN_DATA_DIR": "/d"}, noHome,
			Paths{"/r", "/d"}, false},
		{"no home", nil, noHome, Paths{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolvePaths(func(k string) string { return tt.env[k] }, 1000, tt.home)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	p := Paths{"/run/user/1000/warren", "/d"}
	if p.Socket() != "/run/user/1000/warren/warren.sock" || p.RootlessKitAPISocket() != "/run/user/1000/warren/rootlesskit/api.sock" {
		t.Errorf("Socket %s, RootlessKitAPISocket %s", p.Socket(), p.RootlessKitAPISocket())
	}
}
