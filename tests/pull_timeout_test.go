package tests

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"warren/internal/stallserver"
)

// A registry that accepts connections and never answers fails pull and
// run with the daemon's response header timeout, instead of hanging.
func TestPullSilentRegistry(t *testing.T) {
	t.Parallel()
	image := stallserver.Silent(t) + "/silent"
	bothCLIs(t, func(t *testing.T, c cli) {
		for _, args := range [][]string{{"pull", image}, {"run", "--rm", image, "true"}} {
			_, stderr, code := c.run(t, args...)
			if code == 0 || !strings.Contains(stderr, "timeout awaiting response headers") {
				t.Errorf("%s %s: exit %d, %q; want a response header timeout", c.name, args[0], code, stderr)
			}
		}
	})
}

// A registry that sends a layer's headers and first bytes, then nothing,
// fails the pull as stalled and leaves no image.
func TestPullStalledLayer(t *testing.T) {
	t.Parallel()
	img, err := random.Image(4096, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	host := stallserver.Stalling(t, cfg.String())
	if err := pushTo(host+"/stall:latest", img); err != nil {
		t.Fatal(err)
	}
	bothCLIs(t, func(t *testing.T, c cli) {
		_, stderr, code := c.run(t, "pull", host+"/stall")
		if code == 0 || !strings.Contains(stderr, "download stalled") {
			t.Errorf("pull: exit %d, %q; want a stalled download", code, stderr)
		}
		if _, _, code := c.run(t, "image", "inspect", cfg.String()); code == 0 {
			t.Error("the stalled image was stored")
		}
	})
}
