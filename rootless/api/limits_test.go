package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// onlyReader hides bytes.Reader's Len, so the client sends the body chunked
// and the server cannot know its size up front.
type onlyReader struct{ io.Reader }

// A JSON body over MaxJSONBody is refused with 413 whether its length is
// declared or not, and nothing reaches the backend.
func TestJSONBodyLimit(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	big := `{"Image":"busybox","Env":["X=` + strings.Repeat("a", MaxJSONBody) + `"]}`
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"declared", strings.NewReader(big)},
		{"chunked", onlyReader{strings.NewReader(big)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawRequest(t, sock, http.MethodPost, "/v1.51/containers/create?name=big", tc.body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
			var e struct{ Message string }
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if want := "request body too large: a JSON body may be at most 4 MiB"; e.Message != want {
				t.Errorf("message %q, want %q", e.Message, want)
			}
			if _, err := fake.get("big"); err == nil {
				t.Error("the backend created the container")
			}
		})
	}

	// Just under the limit is still served.
	pad := MaxJSONBody - len(`{"Image":"busybox","Env":["X="]}`) - 1
	ok := `{"Image":"busybox","Env":["X=` + strings.Repeat("a", pad) + `"]}`
	resp := rawRequest(t, sock, http.MethodPost, "/containers/create?name=fits", onlyReader{strings.NewReader(ok)})
	if resp.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(resp.Body)
		t.Errorf("a body of %d bytes: status %d: %s", len(ok), resp.StatusCode, body)
	}
}

// A form content type does not make the server read a stream's body as a
// form: load gets every byte.
func TestFormBodyIsNotParsed(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequest(http.MethodPost, "http://x/images/load?quiet=1", bytes.NewReader([]byte("a=b&TARBALL")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if string(fake.loaded) != "a=b&TARBALL" {
		t.Errorf("load read %q", fake.loaded)
	}
}

// decodeJSON follows Docker's ReadJSON: one value, JSON only.
func TestDecodeJSONShape(t *testing.T) {
	fake := newFakeBackend()
	sock := serve(t, fake)
	for _, tc := range []struct {
		body, contentType, want string
	}{
		{`{"Image":"busybox"} {"Image":"x"}`, "application/json", "unexpected content after JSON"},
		{`{"Image":"busybox"}garbage`, "application/json", "unexpected content after JSON"},
		{`{"Image":"busybox"}`, "text/plain", "unsupported Content-Type header (text/plain): must be 'application/json'"},
		{`{"Image":"busybox"}`, "application/", "malformed Content-Type header (application/): mime: expected token after slash"},
		{`{"Image":1}`, "application/json; charset=utf-8", "invalid JSON: json: cannot unmarshal number into Go struct field CreateRequest.Config.Image of type string"},
	} {
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		resp, err := hc.Post("http://x/containers/create?name=shape", tc.contentType, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Message != tc.want {
			t.Errorf("%q as %s: %d %q, want 400 %q", tc.body, tc.contentType, resp.StatusCode, e.Message, tc.want)
		}
	}
	if _, err := fake.get("shape"); err == nil {
		t.Error("a refused body created the container")
	}
}

// Image names that are no reference are invalid input before any lookup.
func TestImageNameChecked(t *testing.T) {
	sock := serve(t, newFakeBackend())
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/images/..%2F..%2Fetc/json"},
		{http.MethodDelete, "/images/..%2F..%2Fetc"},
		{http.MethodGet, "/images/get?names=busybox&names=..%2F..%2Fetc"},
	} {
		method, path := req.method, req.path
		resp := rawRequest(t, sock, method, path, nil)
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusBadRequest || e.Message != "invalid reference format" {
			t.Errorf("%s %s: %d %q, want 400 invalid reference format", method, path, resp.StatusCode, e.Message)
		}
	}
}

// A load body reaches the backend as it arrives: the client sends its first
// bytes and waits until the backend has read them before it ends the body,
// which a handler buffering the stream would never let happen.
func TestLoadIsStreamed(t *testing.T) {
	fake := newFakeBackend()
	got := make(chan []byte, 1)
	fake.loadFrom = func(r io.Reader) error {
		head := make([]byte, 4)
		if _, err := io.ReadFull(r, head); err != nil {
			return err
		}
		got <- head
		_, err := io.Copy(io.Discard, r)
		return err
	}
	c := newClient(t, serve(t, fake))
	ctx := testContext(t)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("HEAD"))
		select {
		case <-got:
			pw.Close()
		case <-ctx.Done():
			pw.CloseWithError(ctx.Err())
		}
	}()
	res, err := c.ImageLoad(ctx, pr)
	if err != nil {
		t.Fatalf("load: %v (the handler read the whole body before the backend)", err)
	}
	io.Copy(io.Discard, res)
	res.Close()
	if ctx.Err() != nil {
		t.Fatal("the backend never saw the first bytes before the body ended")
	}
}
