package tests

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// A registry that accepts connections and never answers fails pull and
// run with the daemon's response header timeout, instead of hanging.
func TestPullSilentRegistry(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		var held []net.Conn // kept open, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	image := ln.Addr().String() + "/silent"
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
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") && !strings.HasSuffix(r.URL.Path, cfg.String()) {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte{0x1f, 0x8b})
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
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
