package api

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// checkPlatform is Docker's create-time check of ?platform= against the
// local image (daemon/images/image.go GetImage): an image of another
// platform is a 404 with this text, so the client may pull the right one.
// A missing image is left to the create's own lookup.
func (s *server) checkPlatform(ctx context.Context, image, platform string) error {
	if platform == "" || image == "" {
		return nil
	}
	want, err := parsePlatform(platform)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	img, err := s.b.ImageInspect(ctx, image)
	if err != nil {
		return nil
	}
	have := normalizePlatform(ociPlatform{OS: img.Os, Architecture: img.Architecture, Variant: img.Variant})
	if platformMatches(want, have) {
		return nil
	}
	name := image
	if ref, err := reference.ParseNamed(image); err == nil {
		name = reference.FamiliarString(ref)
	}
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf(
		"image with reference %s was found but its platform (%s) does not match the specified platform (%s)", name, have, want))
}

// ociPlatform is os/arch/variant, normalized the way containerd's
// platforms package does for the architectures Docker users name.
type ociPlatform struct{ OS, Architecture, Variant string }

func (p ociPlatform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parsePlatform reads "os[/arch[/variant]]" as containerd's platforms.Parse
// does for the forms the CLI sends.
func parsePlatform(s string) (ociPlatform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ociPlatform{}, fmt.Errorf("%q: unknown operating system or architecture: invalid argument", s)
	}
	p := ociPlatform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return normalizePlatform(p), nil
}

func normalizePlatform(p ociPlatform) ociPlatform {
	p.OS = strings.ToLower(p.OS)
	switch strings.ToLower(p.Architecture) {
	case "x86_64", "x86-64", "amd64":
		p.Architecture = "amd64"
		if p.Variant == "v1" {
			p.Variant = ""
		}
	case "aarch64", "arm64":
		p.Architecture = "arm64"
		if p.Variant == "8" || p.Variant == "v8" {
			p.Variant = ""
		}
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	case "i386", "386":
		p.Architecture = "386"
	default:
		p.Architecture = strings.ToLower(p.Architecture)
	}
	return p
}

// platformMatches: same OS, and the architecture and variant when given.
func platformMatches(want, have ociPlatform) bool {
	if want.OS != have.OS {
		return false
	}
	if want.Architecture != "" && want.Architecture != have.Architecture {
		return false
	}
	return want.Variant == "" || want.Variant == have.Variant
}

// nativePlatform is the only platform warren pulls and imports: it runs
// what it stores without emulation.
func nativePlatform() ociPlatform {
	return normalizePlatform(ociPlatform{OS: runtime.GOOS, Architecture: runtime.GOARCH})
}

// checkPullPlatform refuses ?platform= on a pull or import unless it names
// warren's own platform, rather than fetching another one than asked for.
func checkPullPlatform(platform string) error {
	if platform == "" {
		return nil
	}
	want, err := parsePlatform(platform)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if have := nativePlatform(); !platformMatches(want, have) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"warren pulls and imports images of its own platform (%s) only, not %s", have, want))
	}
	return nil
}
