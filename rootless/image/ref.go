package image

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
	distref "github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is how Docker spells the default registry in stored and
// printed references; go-containerregistry says "index.docker.io".
const dockerHub = "docker.io"

var (
	fullID    = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)
	hexPrefix = regexp.MustCompile(`^[0-9a-f]{1,64}$`)
)

// reference is a normalised image name: repo is always fully qualified
// ("docker.io/library/busybox"), and exactly one of tag and digest is set.
type reference struct {
	repo   string
	tag    string
	digest string
}

// parseReference normalises s the way Docker does: "busybox" is
// docker.io/library/busybox:latest, a registry host ("127.0.0.1:5000/x",
// "localhost/x") is kept, and name@digest keeps the digest.
func parseReference(s string) (reference, error) {
	if fullID.MatchString(s) && !strings.HasPrefix(s, "sha256:") {
		// Docker refuses a 64-hex name: it would be ambiguous with an ID.
		return reference{}, errdefs.ErrInvalidArgument.WithMessage(
			"invalid repository name (" + s + "), cannot specify 64-byte hexadecimal strings")
	}
	r, err := name.ParseReference(s, name.WeakValidation)
	if err != nil {
		return reference{}, invalidReference(s)
	}
	ctx := r.Context()
	registry := ctx.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = dockerHub
	}
	ref := reference{repo: registry + "/" + ctx.RepositoryStr()}
	switch v := r.(type) {
	case name.Digest:
		ref.digest = v.DigestStr()
	case name.Tag:
		ref.tag = v.TagStr()
	}
	return ref, nil
}

// checkReference applies Docker's reference grammar, stricter than
// go-containerregistry's weak validation (which takes "../../x" for a
// registry ".." and a repository "../x"). The errors are Docker's: a
// valid name with a bad tag is "invalid tag format", as the daemon says
// for POST /images/{name}/tag?repo=x&tag=..bad.
func checkReference(s string) error {
	_, err := distref.ParseNormalizedNamed(s)
	if err == nil {
		return nil
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		if _, nerr := distref.ParseNormalizedNamed(s[:i]); nerr == nil {
			return errdefs.ErrInvalidArgument.WithMessage(distref.ErrTagInvalidFormat.Error())
		}
	}
	return errdefs.ErrInvalidArgument.WithMessage(err.Error())
}

// invalidReference is Docker's error for an unparseable name, with its
// special case for upper-case repositories.
func invalidReference(s string) error {
	repo := s
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	if repo != "" && strings.ToLower(repo) != repo {
		return errdefs.ErrInvalidArgument.WithMessage(
			fmt.Sprintf("invalid reference format: repository name (%s) must be lowercase", remoteName(repo)))
	}
	return errdefs.ErrInvalidArgument.WithMessage("invalid reference format")
}

// remoteName is Docker's path of repo within its registry: the domain
// dropped, Docker Hub's "library/" added to one-component names.
func remoteName(repo string) string {
	first, rest, ok := strings.Cut(repo, "/")
	if !ok {
		return "library/" + repo
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return rest
	}
	return repo
}

// String is the fully qualified form, the key in the store's index.
func (r reference) String() string {
	if r.digest != "" {
		return r.repo + "@" + r.digest
	}
	return r.repo + ":" + r.tag
}

// Familiar is the form Docker prints: "busybox:latest",
// "user/app:1", "127.0.0.1:5000/busybox@sha256:…".
func (r reference) Familiar() string {
	if r.digest != "" {
		return familiarRepo(r.repo) + "@" + r.digest
	}
	return familiarRepo(r.repo) + ":" + r.tag
}

// isDigest reports whether r names a manifest digest rather than a tag.
func (r reference) isDigest() bool { return r.digest != "" }

// familiarRepo strips Docker Hub's registry and "library/" namespace.
func familiarRepo(repo string) string {
	rest, ok := strings.CutPrefix(repo, dockerHub+"/")
	if !ok {
		rest, ok = strings.CutPrefix(repo, name.DefaultRegistry+"/")
	}
	if !ok {
		return repo
	}
	if short, ok := strings.CutPrefix(rest, "library/"); ok && !strings.Contains(short, "/") {
		return short
	}
	return rest
}

// familiarString is how Docker prints any stored key.
func familiarString(key string) string {
	ref, err := parseReference(key)
	if err != nil {
		return key
	}
	return ref.Familiar()
}

// registryHost returns the registry part of a normalised repository.
func (r reference) registryHost() string {
	host, _, _ := strings.Cut(r.repo, "/")
	return host
}

// remoteName is the reference go-containerregistry pulls. Docker treats
// registries on loopback addresses as insecure (plain HTTP allowed).
func (r reference) remoteName() (name.Reference, error) {
	var opts []name.Option
	if isLoopbackRegistry(r.registryHost()) {
		opts = append(opts, name.Insecure)
	}
	return name.ParseReference(r.String(), opts...)
}

// isLoopbackRegistry reports whether host[:port] is localhost or in
// 127.0.0.0/8 or ::1, which Docker always treats as insecure.
func isLoopbackRegistry(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// notFound is Docker's error for a missing image: names are shown with
// their implied tag ("No such image: busybox:latest").
func notFound(ref string) error {
	shown := ref
	switch r, err := parseReference(ref); {
	case fullID.MatchString(ref):
		shown = "sha256:" + strings.TrimPrefix(ref, "sha256:")
	case err == nil:
		shown = r.Familiar()
	}
	return errdefs.ErrNotFound.WithMessage("No such image: " + shown)
}
