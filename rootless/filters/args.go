package filters

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
)

// Args are a request's filters, key → values, as the API's filters query
// decodes: {"label":{"a=1":true,"b":true}} is {"label":["a=1","b"]}.
type Args map[string][]string

// validate is Docker's Args.Validate: a key the endpoint does not know is
// "invalid filter 'x'" (400). Keys are checked in order, so the error is
// the same on every run.
func (a Args) validate(accepted ...string) error {
	for _, k := range a.keys() {
		if !slices.Contains(accepted, k) {
			return invalid("invalid filter '" + k + "'")
		}
	}
	return nil
}

func (a Args) keys() []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// has is Docker's Args.Contains: the key was given, even with no values.
func (a Args) has(key string) bool {
	_, ok := a[key]
	return ok
}

// boolOr is Docker's GetBoolOrDefault: "1"/"true" or "0"/"false"; both, or
// anything else, is "invalid filter 'key=[v…]'".
func (a Args) boolOr(key string, def bool) (bool, error) {
	values, ok := a[key]
	if !ok {
		return def, nil
	}
	isTrue := slices.Contains(values, "1") || slices.Contains(values, "true")
	isFalse := slices.Contains(values, "0") || slices.Contains(values, "false")
	if isTrue == isFalse {
		sorted := slices.Clone(values)
		sort.Strings(sorted)
		return def, invalid(fmt.Sprintf("invalid filter '%s=%s'", key, sorted))
	}
	return isTrue, nil
}

// matchAllLabels is Docker's MatchKVList: every value ("k" or "k=v") must
// hold on labels. No values always holds; no labels never does.
func matchAllLabels(values []string, labels map[string]string) bool {
	if len(values) == 0 {
		return true
	}
	if len(labels) == 0 {
		return false
	}
	for _, v := range values {
		if !hasLabel(labels, v) {
			return false
		}
	}
	return true
}

// hasLabel is one label filter value: "k" needs the key, "k=v" the value
// too (the value may itself hold "=").
func hasLabel(labels map[string]string, value string) bool {
	k, want, withValue := strings.Cut(value, "=")
	got, ok := labels[k]
	return ok && (!withValue || got == want)
}

func invalid(msg string) error { return errdefs.ErrInvalidArgument.WithMessage(msg) }
