package userunit

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/warren", "/usr/bin/warren"},
		{"/home/a b/warren", `"/home/a b/warren"`},
		{"/x/100%", "/x/100%%"},
		{"/x/$HOME", "/x/$$HOME"},
		{`/x/a"b c`, `"/x/a\"b c"`},
		{`/x/a\b`, `/x/a\\b`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFiles(t *testing.T) {
	files := Files("/opt/my bin/warren", "/run/user/1000/warren/warren.sock",
		[]string{"WARREN_RUNTIME_DIR=/run/user/1000/warren", "WARREN_DATA_DIR=/home/u/.local/share/warren"})
	for name, want := range map[string][]string{
		Socket: {"ListenStream=/run/user/1000/warren/warren.sock\n", "SocketMode=0600\n", "WantedBy=sockets.target\n"},
		Service: {
			`ExecStart="/opt/my bin/warren" daemon` + "\n",
			"Environment=WARREN_RUNTIME_DIR=/run/user/1000/warren WARREN_DATA_DIR=/home/u/.local/share/warren\n",
			"Restart=on-failure\n", "Requires=warren.socket\n", "WantedBy=default.target\n",
		},
	} {
		for _, line := range want {
			if !strings.Contains(files[name], line) {
				t.Errorf("%s lacks %q:\n%s", name, line, files[name])
			}
		}
	}
}
