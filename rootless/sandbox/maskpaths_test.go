package sandbox

import (
	"slices"
	"testing"
)

func TestPathsOr(t *testing.T) {
	def := []string{"/proc/kcore"}
	for _, tt := range []struct {
		own        []string
		privileged bool
		want       []string
	}{
		{nil, false, def},
		{nil, true, nil},
		{[]string{}, false, []string{}},
		{[]string{"/proc/x"}, true, []string{"/proc/x"}},
	} {
		if got := pathsOr(tt.own, def, tt.privileged); !slices.Equal(got, tt.want) {
			t.Errorf("pathsOr(%v, privileged=%v) = %v, want %v", tt.own, tt.privileged, got, tt.want)
		}
	}
}
