package filters

import (
	"testing"
	"time"
)

func TestPruneFilters(t *testing.T) {
	now := time.Date(2017, 1, 4, 13, 24, 0, 0, time.FixedZone("PST", -8*3600))
	// Docker's container prune examples (container_prune.md): containers
	// created at 13:23:33, 13:11:59 and 13:09:53 PST.
	newest := time.Date(2017, 1, 4, 13, 23, 33, 0, now.Location())
	middle := time.Date(2017, 1, 4, 13, 11, 59, 0, now.Location())
	oldest := time.Date(2017, 1, 4, 13, 9, 53, 0, now.Location())
	labels := map[string]string{"a": "1", "b": "2"}
	tests := []struct {
		doc     string
		args    Args
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{`docker container prune --force --filter "until=5m" (41 s old)`, Args{"until": {"5m"}}, newest, nil, false},
		{`docker container prune --force --filter "until=5m" (12 min old)`, Args{"until": {"5m"}}, middle, nil, true},
		{`--filter "until=2017-01-04T13:10:00" (13:11:59)`, Args{"until": {"2017-01-04T13:10:00"}}, middle, nil, false},
		{`--filter "until=2017-01-04T13:10:00" (13:09:53)`, Args{"until": {"2017-01-04T13:10:00"}}, oldest, nil, true},
		{`no filter prunes everything stopped`, Args{}, newest, nil, true},
		{`label=a`, Args{"label": {"a"}}, newest, labels, true},
		{`label=a=2`, Args{"label": {"a=2"}}, newest, labels, false},
		// Docker's page says several label= are ORed; its daemon requires
		// all of them (MatchKVList), as here.
		{`label=a=1 and label=b=2`, Args{"label": {"a=1", "b=2"}}, newest, labels, true},
		{`label=a=1 and label=c`, Args{"label": {"a=1", "c"}}, newest, labels, false},
		{`label= never matches no labels`, Args{"label": {"a"}}, newest, nil, false},
		{`label!=a removes those without a`, Args{"label!": {"a"}}, newest, labels, false},
		{`label!=a on a container without labels`, Args{"label!": {"a"}}, newest, nil, true},
		{`label!=a=2 keeps only a=2`, Args{"label!": {"a=2"}}, newest, labels, true},
		// Docker excludes only when every label! value holds.
		{`label!=a and label!=c`, Args{"label!": {"a", "c"}}, newest, labels, true},
		{`label!=a and label!=b`, Args{"label!": {"a", "b"}}, newest, labels, false},
		{`label and until ANDed`, Args{"label": {"a"}, "until": {"5m"}}, newest, labels, false},
	}
	for _, tt := range tests {
		p, err := ParseContainerPrune(tt.args, now)
		if err != nil {
			t.Errorf("%s: %v", tt.doc, err)
			continue
		}
		if got := p.Match(tt.created, tt.labels); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.doc, got, tt.want)
		}
	}
}

func TestPruneFilterErrors(t *testing.T) {
	now := time.Now()
	tests := []struct {
		images bool
		args   Args
		want   string
	}{
		{false, Args{"dangling": {"true"}}, "invalid filter 'dangling'"},
		{false, Args{"name": {"x"}}, "invalid filter 'name'"},
		{true, Args{"reference": {"x"}}, "invalid filter 'reference'"},
		{true, Args{"dangling": {"false", "true"}}, "invalid filter 'dangling=[false true]'"},
		{false, Args{"until": {"1h", "2h"}}, "more than one until filter specified"},
		{false, Args{"until": {"soon"}}, `failed to parse value as time or duration: "soon"`},
		{true, Args{"until": {"2017-13-01"}}, `parsing time "2017-13-01": month out of range`},
	}
	for _, tt := range tests {
		parse := ParseContainerPrune
		if tt.images {
			parse = ParseImagePrune
		}
		if _, err := parse(tt.args, now); err == nil || err.Error() != tt.want {
			t.Errorf("prune %v = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestImagePruneDangling(t *testing.T) {
	for _, tt := range []struct {
		args Args
		want bool
	}{
		{Args{}, true},
		{Args{"dangling": {"true"}}, true},
		{Args{"dangling": {"false"}}, false}, // the CLI's -a
		{Args{"dangling": {"0"}}, false},
	} {
		p, err := ParseImagePrune(tt.args, time.Now())
		if err != nil || p.Dangling != tt.want {
			t.Errorf("ParseImagePrune(%v).Dangling = %v, %v; want %v", tt.args, p.Dangling, err, tt.want)
		}
	}
}
