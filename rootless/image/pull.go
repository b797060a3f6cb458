package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Pull fetches ref from its registry, reporting Docker's messages:
// "<tag>: Pulling from <path>", per layer "Pulling fs layer" (or
// "Already exists"), "Downloading", "Download complete", "Extracting",
// "Pull complete", then "Digest: sha256:…" and "Status: Downloaded newer
// image for <ref>" (or "Status: Image is up to date for <ref>").
func (s *Store) Pull(ctx context.Context, ref string, progress PullProgress) (*Image, error) {
	if progress == nil {
		progress = func(string, string, int64, int64) {}
	}
	parsed, err := parseReference(ref)
	if err != nil {
		return nil, err
	}
	remoteRef, err := parsed.remoteName()
	if err != nil {
		return nil, invalidReference(ref)
	}
	tr := s.transport()
	defer tr.base.CloseIdleConnections()
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(defaultPlatform()),
		remote.WithTransport(tr), remote.WithRetryPredicate(retryable)}
	desc, err := remote.Get(remoteRef, opts...)
	if err != nil {
		return nil, pullError(parsed, err)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, pullError(parsed, err)
	}
	src, err := sourceOf(img)
	if err != nil {
		return nil, pullError(parsed, err)
	}

	progress(remoteRef.Identifier(), "Pulling from "+remoteRef.Context().RepositoryStr(), 0, 0)
	before := s.refTarget(parsed)
	id, err := s.ingest(ctx, src, func(l *layerSource, status string, cur, total int64) {
		progress(l.shortID(), status, cur, total)
	})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", parsed.Familiar(), err)
	}
	refs := []reference{{repo: parsed.repo, digest: desc.Digest.String()}}
	if !parsed.isDigest() {
		refs = append(refs, parsed)
	}
	s.mu.Lock()
	_, err = s.setRefs(id, refs, time.Time{})
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}

	progress("", "Digest: "+desc.Digest.String(), 0, 0)
	if before == id {
		progress("", "Status: Image is up to date for "+parsed.Familiar(), 0, 0)
	} else {
		progress("", "Status: Downloaded newer image for "+parsed.Familiar(), 0, 0)
	}
	return s.Get(id)
}

// refTarget is the image ref points to now, "" if none.
func (s *Store) refTarget(ref reference) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.Refs[ref.String()]
}

// pullError turns a registry answer into Docker's texts: a missing
// manifest or repository is a 404 the CLI shows verbatim.
func pullError(ref reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode):
			return errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
				"manifest for %s not found: manifest unknown: manifest unknown", ref.Familiar()))
		case terr.StatusCode == http.StatusUnauthorized || hasCode(terr, transport.NameUnknownErrorCode):
			return errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
				"pull access denied for %s, repository does not exist or may require 'docker login'", familiarRepo(ref.repo)))
		}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("pull %s: %w", ref.Familiar(), err)
}

func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// PullTimeouts bound each step of talking to a registry, so that one that
// accepts a connection and never answers, or stops sending mid-layer,
// fails the pull instead of hanging it.
type PullTimeouts struct {
	Dial           time.Duration // connecting
	TLSHandshake   time.Duration
	ResponseHeader time.Duration // from the request sent to the response's headers
	Stall          time.Duration // a response body delivering no byte
}

// DefaultPullTimeouts: Docker's registry client dials for 30s and gives
// TLS 10s (daemon/internal/distribution/registry.go) and its ping 15s in
// all (daemon/pkg/registry/auth.go); every request gets that 15s for its
// headers here. A body silent for 30s is stalled.
var DefaultPullTimeouts = PullTimeouts{
	Dial:           30 * time.Second,
	TLSHandshake:   10 * time.Second,
	ResponseHeader: 15 * time.Second,
	Stall:          30 * time.Second,
}

// SetPullTimeouts changes the timeouts of later pulls (tests shorten them).
func (s *Store) SetPullTimeouts(t PullTimeouts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeouts = t
}

// transport is the HTTP transport of one pull: remote's default with the
// timeouts, loopback registries dialled on the host's loopback (see
// SetLoopbackDialer), and stalled bodies failed.
func (s *Store) transport() *stallTransport {
	s.mu.Lock()
	dial, to := s.loopbackDial, s.timeouts
	s.mu.Unlock()
	base := remote.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: to.Dial, KeepAlive: 30 * time.Second}
	base.DialContext = d.DialContext
	if dial != nil {
		base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			lo, ok := onLoopback(addr)
			if !ok {
				return d.DialContext(ctx, network, addr)
			}
			if to.Dial > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, to.Dial)
				defer cancel()
			}
			return dial(ctx, network, lo)
		}
	}
	base.TLSHandshakeTimeout = to.TLSHandshake
	base.ResponseHeaderTimeout = to.ResponseHeader
	return &stallTransport{base: base, stall: to.Stall}
}

// retryable is go-containerregistry's default retry predicate, except
// that a timeout is final: retrying a registry that does not answer would
// triple the wait before the pull fails.
func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errStalled) {
		return false
	}
	var temp interface{ Temporary() bool }
	return errors.As(err, &temp) && temp.Temporary() ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// errStalled is a response body that delivered nothing for too long.
var errStalled = errors.New("download stalled")

// stallTransport fails a response body that delivers no byte for stall
// while it is being read.
type stallTransport struct {
	base  *http.Transport
	stall time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &stallReader{body: resp.Body, stall: t.stall, cancel: cancel, url: req.URL.Redacted()}
	return resp, nil
}

// stallReader cancels its request when a Read waits longer than stall.
type stallReader struct {
	body    io.ReadCloser
	stall   time.Duration
	cancel  context.CancelFunc
	url     string
	stalled atomic.Bool
}

func (r *stallReader) Read(p []byte) (int, error) {
	timer := time.AfterFunc(r.stall, func() {
		r.stalled.Store(true)
		r.cancel()
	})
	n, err := r.body.Read(p)
	timer.Stop()
	if err != nil && r.stalled.Load() {
		err = fmt.Errorf("read %s: %w: no data for %s", r.url, errStalled, r.stall)
	}
	return n, err
}

func (r *stallReader) Close() error {
	r.cancel()
	return r.body.Close()
}
