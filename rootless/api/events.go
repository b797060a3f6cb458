package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// events is GET /events: the kept events between since and until (only
// when one is given), then live ones until until, or until the client
// goes. An until already past ends the stream after the replay.
func (s *server) events(w http.ResponseWriter, r *http.Request, _ string) error {
	since, err := eventTime("since", r.Form.Get("since"))
	if err != nil {
		return err
	}
	until, err := eventTime("until", r.Form.Get("until"))
	if err != nil {
		return err
	}
	var timeout <-chan time.Time
	onlyPast := false
	if !until.IsZero() {
		if until.Before(since) {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("`since` time (%s) cannot be after `until` time (%s)",
				r.Form.Get("since"), r.Form.Get("until")))
		}
		now := time.Now()
		onlyPast = until.Before(now)
		if !onlyPast {
			t := time.NewTimer(until.Sub(now))
			defer t.Stop()
			timeout = t.C
		}
	}
	filters, err := parseFilters(r.Form.Get("filters"))
	if err != nil {
		return err
	}
	past, sub, err := s.b.SubscribeEvents(r.Context(), since, until, filters)
	if err != nil {
		return err
	}
	defer sub.Close()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	enc := json.NewEncoder(w)
	for _, m := range past {
		if err := enc.Encode(m); err != nil {
			return nil // the client went: nothing more to say
		}
	}
	flush(w)
	if onlyPast {
		return nil
	}
	for {
		select {
		case m, ok := <-sub.C:
			if !ok {
				return nil // too slow to keep up: the bus let it go
			}
			if err := enc.Encode(m); err != nil {
				return nil
			}
			flush(w)
		case <-timeout:
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}

// eventTime reads since/until as Docker's API takes them: unix seconds
// with an optional fraction (the CLIs convert dates and durations). Empty
// is no bound.
func eventTime(key, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	bad := func(err error) error {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for '%s': %v", key, err))
	}
	secs, frac, hasFrac := strings.Cut(value, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, bad(err)
	}
	var nsec int64
	if hasFrac {
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return time.Time{}, bad(err)
		}
		nsec = int64(float64(n) * math.Pow10(9-len(frac)))
	}
	return time.Unix(sec, nsec), nil
}
