package sandbox

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCapabilities(t *testing.T) {
	all := allCapabilities()
	without := func(list []string, drop ...string) []string {
		var out []string
		for _, c := range list {
			if !contains(drop, c) {
				out = append(out, c)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		wantErr    string
	}{
		{name: "default", want: DefaultCapabilities},
		{name: "privileged", privileged: true, drop: []string{"ALL"}, want: all},
		{name: "add without prefix", add: []string{"net_admin"}, want: append(DefaultCapabilities[:len(DefaultCapabilities):len(DefaultCapabilities)], "CAP_NET_ADMIN")},
		{name: "add present is no duplicate", add: []string{"CAP_CHOWN"}, want: DefaultCapabilities},
		{name: "drop", drop: []string{"chown", "CAP_KILL"}, want: without(DefaultCapabilities, "CAP_CHOWN", "CAP_KILL")},
		{name: "drop all add some", drop: []string{"all"}, add: []string{"NET_BIND_SERVICE"}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "drop all", drop: []string{"ALL"}, want: nil},
		{name: "add all drop some", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"}, want: without(all, "CAP_SYS_ADMIN")},
		{name: "unknown add", add: []string{"FOO"}, wantErr: `invalid CapAdd: unknown capability: "CAP_FOO"`},
		{name: "unknown drop", drop: []string{"cap_bar"}, wantErr: `invalid CapDrop: unknown capability: "CAP_BAR"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Capabilities(tc.add, tc.drop, tc.privileged)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCapMask(t *testing.T) {
	// Docker's default set is the CapBnd a container shows.
	if got := fmt.Sprintf("%08x%08x", capMask(DefaultCapabilities)[1], capMask(DefaultCapabilities)[0]); got != "00000000a80425fb" {
		t.Errorf("default mask = %s, want 00000000a80425fb", got)
	}
	if got := capMask([]string{"CAP_CHECKPOINT_RESTORE", "CAP_CHOWN"}); got != [2]uint32{1, 1 << 8} {
		t.Errorf("mask = %x", got)
	}
}
