package filters

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads an until= value as Docker 28 does (api/types/time
// GetTimestamp): a Go duration before now ("10m", "1h30m"), an RFC 3339
// date or date-time (local to now's zone without Z or an offset), or unix
// seconds with an optional fraction.
func ParseTime(value string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(value); value != "0" && err == nil {
		return time.Unix(now.Add(-d).Unix(), 0), nil
	}
	local := !strings.ContainsAny(value, "zZ+") && strings.Count(value, "-") != 3
	var layout string
	switch {
	case strings.Contains(value, "."):
		layout = map[bool]string{true: "2006-01-02T15:04:05.999999999", false: time.RFC3339Nano}[local]
	case strings.Contains(value, "T"):
		colons := strings.Count(value, ":")
		if !local && !strings.ContainsAny(value, "zZ") && colons > 0 {
			colons-- // the offset's colon
		}
		zone := map[bool]string{true: "", false: "Z07:00"}[local]
		switch colons {
		case 0:
			layout = "2006-01-02T15" + zone
		case 1:
			layout = "2006-01-02T15:04" + zone
		default:
			layout = "2006-01-02T15:04:05" + zone
		}
	default:
		layout = map[bool]string{true: "2006-01-02", false: "2006-01-02Z07:00"}[local]
	}
	var t time.Time
	var err error
	if local {
		t, err = time.ParseInLocation(layout, value, time.FixedZone(now.Zone()))
	} else {
		t, err = time.Parse(layout, value)
	}
	if err == nil {
		return t, nil
	}
	if strings.Contains(value, "-") {
		return time.Time{}, invalid(err.Error())
	}
	if t, ok := unixTime(value); ok {
		return t, nil
	}
	return time.Time{}, invalid(fmt.Sprintf("failed to parse value as time or duration: %q", value))
}

// unixTime reads "seconds[.fraction]".
func unixTime(value string) (time.Time, bool) {
	s, frac, hasFrac := strings.Cut(value, ".")
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	if !hasFrac {
		return time.Unix(sec, 0), true
	}
	n, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(float64(n)*math.Pow10(9-len(frac)))), true
}
