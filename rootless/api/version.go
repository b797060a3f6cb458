package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

const (
	// DefaultVersion is the API version warren advertises on every response
	// and assumes for unversioned paths. The docker 28.2.2 CLI speaks
	// min(its 1.50, advertised), so 1.50 keeps it on its native dialect.
	DefaultVersion = "1.50"
	// MinVersion is the oldest API version Docker 28 still accepts.
	MinVersion = "1.24"
	// MaxVersion is the newest version whose response shapes warren can
	// produce: the moby api types it encodes are those of API 1.56, and
	// older shapes are derived from them.
	MaxVersion = "1.56"
)

// compareVersions compares dotted versions numerically ("1.9" < "1.10"); a
// missing or non-numeric part counts as 0, as in Docker's versions package.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionLess(a, b string) bool { return compareVersions(a, b) < 0 }

// splitVersion takes the "/v1.50" prefix off a request path. Unversioned
// paths get DefaultVersion; versions Docker would refuse get its 400 texts.
func splitVersion(path string) (version, rest string, err error) {
	if !strings.HasPrefix(path, "/v") {
		return DefaultVersion, path, nil
	}
	end := strings.IndexByte(path[1:], '/') + 1
	if end == 0 {
		end = len(path)
	}
	v := path[2:end]
	if !isVersion(v) {
		// Not a version segment after all: let routing answer 404.
		return DefaultVersion, path, nil
	}
	rest = path[end:]
	if rest == "" {
		rest = "/"
	}
	switch {
	case versionLess(v, MinVersion):
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinVersion))
	case versionLess(MaxVersion, v):
		return "", "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(
			"client version %s is too new. Maximum supported API version is %s", v, MaxVersion))
	}
	return v, rest, nil
}

// isVersion accepts "1", "1.50", "1.50.1": digits separated by single dots.
func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

type versionKey struct{}

// apiVersion is the API version the request was made with.
func apiVersion(ctx context.Context) string {
	if v, ok := ctx.Value(versionKey{}).(string); ok {
		return v
	}
	return DefaultVersion
}
