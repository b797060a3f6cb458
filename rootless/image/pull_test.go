package image

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"warren/internal/stallserver"
)

// shortTimeouts make the tests fail fast; what they check is which error.
var shortTimeouts = PullTimeouts{Dial: 5 * time.Second, TLSHandshake: 300 * time.Millisecond, ResponseHeader: 300 * time.Millisecond, Stall: 300 * time.Millisecond}

// A registry that accepts the connection and never answers fails the
// pull with the header timeout.
func TestPullSilentRegistry(t *testing.T) {
	addr := stallserver.Silent(t)
	s := openStore(t)
	s.SetPullTimeouts(shortTimeouts)
	_, err := s.Pull(context.Background(), addr+"/x", nil)
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("got %v, want a response header timeout", err)
	}
	t.Log(err)
	assertTmpEmpty(t, s)
}

// A registry that sends a layer's headers and a few bytes, then nothing,
// fails the pull as stalled, leaving nothing behind.
func TestPullStalledLayer(t *testing.T) {
	img := randomImage(t, 1)
	host := stallserver.Stalling(t, configName(t, img))
	if err := remote.Write(mustRef(t, host+"/stall:latest"), img); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	s.SetPullTimeouts(shortTimeouts)
	_, err := s.Pull(context.Background(), host+"/stall", nil)
	if err == nil || !strings.Contains(err.Error(), "download stalled") {
		t.Fatalf("got %v, want a stalled download", err)
	}
	t.Log(err)
	assertTmpEmpty(t, s)
	if len(s.List()) != 0 {
		t.Errorf("images stored: %v", s.List())
	}
}
