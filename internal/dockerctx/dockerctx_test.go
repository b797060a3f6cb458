package dockerctx

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The docker CLI reads its config folder once per process, so one test
// drives the whole life of a context in a folder of its own.
func TestEnsureAndRemove(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	for i, step := range []struct {
		host string
		want Change
	}{{"unix:///run/a.sock", Created}, {"unix:///run/a.sock", Unchanged}, {"unix:///run/b.sock", Updated}} {
		got, err := Ensure("warren", step.host, "desc")
		if err != nil || got != step.want {
			t.Fatalf("step %d: Ensure(%s) = %q, %v; want %q", i, step.host, got, err, step.want)
		}
	}
	// The docker CLI's layout: contexts/meta/<sha256 of the name>/meta.json.
	sum := sha256.Sum256([]byte("warren"))
	b, err := os.ReadFile(filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Name      string
		Metadata  struct{ Description string }
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Name != "warren" || meta.Metadata.Description != "desc" || meta.Endpoints["docker"].Host != "unix:///run/b.sock" {
		t.Fatalf("meta.json: %s", b)
	}

	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext":"warren","auths":{"r":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	removed, wasCurrent, err := Remove("warren")
	if err != nil || !removed || !wasCurrent {
		t.Fatalf("Remove = %v, %v, %v", removed, wasCurrent, err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cf map[string]json.RawMessage
	if err := json.Unmarshal(cfg, &cf); err != nil {
		t.Fatal(err)
	}
	if _, ok := cf["currentContext"]; ok {
		t.Errorf("config.json still names a current context: %s", cfg)
	}
	if _, ok := cf["auths"]; !ok {
		t.Errorf("config.json lost the rest of its settings: %s", cfg)
	}
	if removed, _, err := Remove("warren"); err != nil || removed {
		t.Fatalf("a second Remove = %v, %v", removed, err)
	}
}
