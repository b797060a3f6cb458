package image

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// shortTimeouts make the tests fail fast; what they check is which error.
var shortTimeouts = PullTimeouts{Dial: 5 * time.Second, TLSHandshake: 300 * time.Millisecond, ResponseHeader: 300 * time.Millisecond, Stall: 300 * time.Millisecond}

// A registry that accepts the connection and never answers fails the
// pull with the header timeout.
func TestPullSilentRegistry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	s := openStore(t)
	s.SetPullTimeouts(shortTimeouts)
	_, err = s.Pull(context.Background(), ln.Addr().String()+"/x", nil)
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("got %v, want a response header timeout", err)
	}
	t.Log(err)
	assertTmpEmpty(t, s)
}

// A registry that sends a layer's headers and a few bytes, then nothing,
// fails the pull as stalled, leaving nothing behind.
func TestPullStalledLayer(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	img := randomImage(t, 1)
	configDigest := configName(t, img)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet && !strings.Contains(r.URL.Path, configDigest) {
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
