package filters

import (
	"path"
	"time"

	"github.com/distribution/reference"
)

// Image is what the images filters look at.
type Image struct {
	ID      string
	Tags    []string // familiar: "busybox:latest"
	Digests []string // familiar: "busybox@sha256:…"
	Labels  map[string]string
	Created time.Time
}

// imageKeys are the keys GET /images/json accepts. label! is the
// containerd image store's (Docker 29's default); Docker 28's graph
// driver store refused it.
var imageKeys = []string{"before", "dangling", "label", "label!", "reference", "since", "until"}

// Images is a parsed set of images filters.
type Images struct {
	args          Args
	dangling      *bool
	before, since time.Time // zero: not given
}

// ParseImages checks args as Docker's image list does. image resolves
// before= and since= references; its error goes to the client as it is
// ("No such image: x", 404).
func ParseImages(args Args, image func(ref string) (Image, error), now time.Time) (*Images, error) {
	if err := args.validate(imageKeys...); err != nil {
		return nil, err
	}
	q := &Images{args: args}
	if args.has("dangling") {
		d, err := args.boolOr("dangling", false)
		if err != nil {
			return nil, err
		}
		q.dangling = &d
	}
	// Several before= keep the oldest, several since= the newest: all must
	// hold.
	for _, v := range args["before"] {
		img, err := image(v)
		if err != nil {
			return nil, err
		}
		if q.before.IsZero() || img.Created.Before(q.before) {
			q.before = img.Created
		}
	}
	for _, v := range args["until"] {
		t, err := ParseTime(v, now)
		if err != nil {
			return nil, err
		}
		if q.before.IsZero() || t.Before(q.before) {
			q.before = t
		}
	}
	for _, v := range args["since"] {
		img, err := image(v)
		if err != nil {
			return nil, err
		}
		if img.Created.After(q.since) {
			q.since = img.Created
		}
	}
	return q, nil
}

// Match reports whether the list shows img, and with which tags and
// digests: a reference filter keeps only the references it matched.
func (q *Images) Match(img Image) (tags, digests []string, ok bool) {
	if !q.before.IsZero() && !img.Created.Before(q.before) ||
		!q.since.IsZero() && !img.Created.After(q.since) ||
		q.args.has("label") && !matchAllLabels(q.args["label"], img.Labels) ||
		!noneOfLabels(q.args["label!"], img.Labels) {
		return nil, nil, false
	}
	tags, digests = img.Tags, img.Digests
	if patterns, filtered := q.args["reference"]; filtered {
		tags = matchingRefs(tags, patterns)
		digests = matchingRefs(digests, patterns)
		if len(tags) == 0 && len(digests) == 0 {
			return nil, nil, false
		}
	}
	// As in Docker's graph driver store, dangling=true lists images
	// without tags (one known by digest only is one) and dangling=false
	// those with any reference left.
	if q.dangling != nil {
		if *q.dangling && len(tags) > 0 || !*q.dangling && len(tags)+len(digests) == 0 {
			return nil, nil, false
		}
	}
	return tags, digests, true
}

// noneOfLabels is label! on images: no value may hold ("k": the key is
// absent; "k=v": the key is absent or has another value).
func noneOfLabels(values []string, labels map[string]string) bool {
	for _, v := range values {
		if hasLabel(labels, v) {
			return false
		}
	}
	return true
}

// matchingRefs keeps the references a reference= pattern (a path.Match
// glob) matches in any of the forms Docker tries: "busybox:latest",
// "busybox", "docker.io/library/busybox:latest",
// "docker.io/library/busybox".
func matchingRefs(refs, patterns []string) []string {
	var out []string
	for _, r := range refs {
		named, err := reference.ParseNormalizedNamed(r)
		if err != nil {
			continue
		}
		targets := []string{reference.FamiliarString(named), reference.FamiliarName(named),
			reference.TagNameOnly(named).String(), named.Name()}
	patterns:
		for _, p := range patterns {
			for _, t := range targets {
				if ok, _ := path.Match(p, t); ok {
					out = append(out, r)
					break patterns
				}
			}
		}
	}
	return out
}
