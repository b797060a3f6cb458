package names

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestListsAreDockers(t *testing.T) {
	// The counts Docker 28's lists have (docker-behavior.md, section 4).
	if len(left) != 108 || len(right) != 236 {
		t.Fatalf("lists have %d adjectives and %d surnames, want 108 and 236", len(left), len(right))
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"web", "/web", ""},
		{"/web", "/web", ""},
		{"my-app.v2_1", "/my-app.v2_1", ""},
		{"0a", "/0a", ""},
		{"x", "", "Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"/x", "", "Invalid container name (/x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"-web", "", "Invalid container name (-web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"web app", "", "Invalid container name (web app), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"//web", "", "Invalid container name (//web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"we/b", "", "Invalid container name (we/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
		{"", "", "Invalid container name (), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
				t.Errorf("Normalize(%q) error = %v, want 400 %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRandom(t *testing.T) {
	for i := 0; i < 2000; i++ {
		name := Random(0)
		if name == "boring_wozniak" {
			t.Fatal("boring_wozniak generated")
		}
		if _, err := Normalize(name); err != nil || strings.Count(name, "_") != 1 {
			t.Fatalf("Random(0) = %q", name)
		}
		if d := Random(1); d[len(d)-1] < '0' || d[len(d)-1] > '9' {
			t.Fatalf("Random(1) = %q, want a trailing digit", d)
		}
	}
}

func TestGenerate(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		freeAt  int // the try whose name is free; -1 = none
		want    string
		reserve int // reserve calls
	}{
		{"first try", 0, "/n0", 1},
		{"digit retry", 3, "/n3", 4},
		{"short id fallback", -1, "/0123456789ab", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got := generate(id, func(name string) bool {
				calls++
				return name == "/n"+string(rune('0'+tt.freeAt)) || strings.HasPrefix(name, "/0123")
			}, func(i int) string { return "n" + string(rune('0'+i)) })
			if got != tt.want || calls != tt.reserve {
				t.Errorf("generate = %q after %d reserves, want %q after %d", got, calls, tt.want, tt.reserve)
			}
		})
	}
}

func TestShortID(t *testing.T) {
	for in, want := range map[string]string{
		"sha256:0123456789abcdef": "0123456789ab",
		"0123456789abcdef":        "0123456789ab",
		"abc":                     "abc",
	} {
		if got := ShortID(in); got != want {
			t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
		}
	}
}
