package wire

import (
	"os"
	"path/filepath"
	"testing"

	"warren/internal/config"
)

// The API socket replaces a stale one and is the user's alone.
func TestListen(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "warren.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sock, nil, 0o644); err != nil { // a dead engine's
		t.Fatal(err)
	}
	l, err := listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := os.Stat(sock)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("socket %v, %v; want a socket of mode 0600", st.Mode(), err)
	}
}

// Main takes the daemon's Config in its one encoded form and refuses
// anything else with the Config's own error text.
func TestMainConfig(t *testing.T) {
	bad := config.Defaults(config.Paths{RuntimeDir: "/r", DataDir: "/d"})
	bad.PortRange = "9-1"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "__engine needs --config"},
		{[]string{"--config", bad.Encode()}, `invalid --port-range "9-1": want START-END such as 49153-65535`},
	} {
		if err := Main(tt.args); err == nil || err.Error() != tt.want {
			t.Errorf("Main(%q) = %v, want %s", tt.args, err, tt.want)
		}
	}
}
