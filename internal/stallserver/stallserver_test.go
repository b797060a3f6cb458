package stallserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The silent server takes the connection and never answers: a read ends
// only by the client's own deadline.
func TestSilent(t *testing.T) {
	c, err := net.Dial("tcp", Silent(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); n != 0 || !ok || !ne.Timeout() {
		t.Fatalf("read %d bytes, %v; want nothing until the deadline", n, err)
	}
}

// The stalling registry answers its API, serves the kept blob (here a
// missing one, so 404), and sends any other blob's first bytes then
// stalls until the client cancels.
func TestStalling(t *testing.T) {
	keep := "sha256:" + strings.Repeat("a", 64)
	other := "sha256:" + strings.Repeat("b", 64)
	host := Stalling(t, keep)
	get := func(ctx context.Context, path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return http.DefaultClient.Do(req)
	}
	for path, want := range map[string]int{"/v2/": http.StatusOK, "/v2/x/blobs/" + keep: http.StatusNotFound} {
		resp, err := get(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := get(ctx, "/v2/x/blobs/"+other)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 2)
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.StatusCode != http.StatusOK || string(first) != "\x1f\x8b" {
		t.Fatalf("stalled blob: %d %q %v; want 200 and the gzip magic", resp.StatusCode, first, err)
	}
	time.AfterFunc(200*time.Millisecond, cancel)
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("read after the first bytes: %d, %v; want nothing until cancelled", n, err)
	}
}
