package bootstrap

import (
	"reflect"
	"testing"
)

func TestWithoutID(t *testing.T) {
	tests := []struct {
		r    idRange
		id   int
		want []idRange
	}{
		{idRange{Start: 100000, Length: 65536}, 1000, []idRange{{Start: 100000, Length: 65536}}},
		{idRange{Start: 1000, Length: 10}, 1000, []idRange{{Start: 1001, Length: 9}}},
		{idRange{Start: 990, Length: 11}, 1000, []idRange{{Start: 990, Length: 10}}},
		{idRange{Start: 995, Length: 10}, 1000, []idRange{{Start: 995, Length: 5}, {Start: 1001, Length: 4}}},
		{idRange{Start: 1000, Length: 1}, 1000, nil},
	}
	for _, tt := range tests {
		if got := withoutID(tt.r, tt.id); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("withoutID(%+v, %d) = %+v, want %+v", tt.r, tt.id, got, tt.want)
		}
	}
}
