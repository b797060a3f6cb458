package filters

import (
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func TestParseTime(t *testing.T) {
	pst := time.FixedZone("PST", -8*3600)
	now := time.Date(2017, 1, 4, 13, 24, 0, 0, pst)
	tests := []struct {
		in   string
		want time.Time
	}{
		// The formats `docker container prune` documents.
		{"10m", now.Add(-10 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"2017-01-04T13:10:00", time.Date(2017, 1, 4, 13, 10, 0, 0, pst)},
		{"2017-01-04T13:10:00.5", time.Date(2017, 1, 4, 13, 10, 0, 5e8, pst)},
		{"2017-01-04T13:10", time.Date(2017, 1, 4, 13, 10, 0, 0, pst)},
		{"2017-01-04T13", time.Date(2017, 1, 4, 13, 0, 0, 0, pst)},
		{"2017-01-04", time.Date(2017, 1, 4, 0, 0, 0, 0, pst)},
		{"2017-01-04T13:10:00Z", time.Date(2017, 1, 4, 13, 10, 0, 0, time.UTC)},
		{"2017-01-04T13:10:00+01:00", time.Date(2017, 1, 4, 12, 10, 0, 0, time.UTC)},
		{"2017-01-04T13:10:00.123456789Z", time.Date(2017, 1, 4, 13, 10, 0, 123456789, time.UTC)},
		{"1483563600", time.Unix(1483563600, 0)},
		{"1483563600.5", time.Unix(1483563600, 5e8)},
		{"0", time.Unix(0, 0)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "soon", "2017-01-04T25:00:00", "1.x"} {
		if got, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", bad, got)
		}
	}
}

// FuzzParseTime: no input panics, and every refusal is one line of a
// 400 (invalid argument) error, as the API returns it.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"10m", "2017-01-04T13:10:00", "2017-01-04T13:10:00.5+01:00", "1483563600.5", "0", "-1", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2017, 1, 4, 13, 24, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseTime(s, now)
		if err != nil && (err.Error() == "" || strings.Contains(err.Error(), "\n") || !errdefs.IsInvalidArgument(err)) {
			t.Errorf("ParseTime(%q) error %q is not a one-line invalid argument", s, err)
		}
	})
}
