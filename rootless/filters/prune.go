package filters

import (
	"time"
)

// Prune is a parsed set of prune filters.
type Prune struct {
	args  Args
	until time.Time // zero: not given
	// Dangling is image prune's default: only untagged images go, unless
	// dangling=false (the CLI's -a).
	Dangling bool
}

// ParseContainerPrune checks the filters of POST /containers/prune.
func ParseContainerPrune(args Args, now time.Time) (*Prune, error) {
	return parsePrune(args, now, "label", "label!", "until")
}

// ParseImagePrune checks the filters of POST /images/prune.
func ParseImagePrune(args Args, now time.Time) (*Prune, error) {
	p, err := parsePrune(args, now, "dangling", "label", "label!", "until")
	if err != nil {
		return nil, err
	}
	if p.Dangling, err = args.boolOr("dangling", true); err != nil {
		return nil, err
	}
	return p, nil
}

func parsePrune(args Args, now time.Time, accepted ...string) (*Prune, error) {
	if err := args.validate(accepted...); err != nil {
		return nil, err
	}
	p := &Prune{args: args}
	if values, ok := args["until"]; ok {
		if len(values) > 1 {
			return nil, invalid("more than one until filter specified")
		}
		if len(values) == 1 {
			t, err := ParseTime(values[0], now)
			if err != nil {
				return nil, err
			}
			p.until = t
		}
	}
	return p, nil
}

// Match reports whether an object created at created with labels is
// pruned (stopped containers and unused images only: the caller checks).
// label values must all hold; label! excludes an object only when all its
// values hold, as Docker's prune does.
func (p *Prune) Match(created time.Time, labels map[string]string) bool {
	if !p.until.IsZero() && created.After(p.until) {
		return false
	}
	if !matchAllLabels(p.args["label"], labels) {
		return false
	}
	if p.args.has("label!") && matchAllLabels(p.args["label!"], labels) {
		return false
	}
	return true
}
