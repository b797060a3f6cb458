package sandbox

import (
	"reflect"
	"strings"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
broken line
dup:x:33:99:dup:/dup:/bin/sh
`

const testGroup = `root:x:0:
wheel:x:10:root
daemon:x:1:
staff:x:50:www-data,daemon
www-data:x:33:
adm:x:4:www-data
`

func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    execUser
		wantErr string
	}{
		{"", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"root", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"0", execUser{UID: 0, GID: 0, Home: "/root", Sgids: []int{10}}, ""},
		{"www-data", execUser{UID: 33, GID: 33, Home: "/var/www", Sgids: []int{50, 4}}, ""},
		// The first passwd match wins for a numeric uid too.
		{"33", execUser{UID: 33, GID: 33, Home: "/var/www", Sgids: []int{50, 4}}, ""},
		// Numeric ids need not exist; Home stays "/".
		{"1234", execUser{UID: 1234, GID: 0, Home: "/"}, ""},
		{"1234:5678", execUser{UID: 1234, GID: 5678, Home: "/"}, ""},
		// An explicit group replaces the primary one and drops supplementary ones.
		{"www-data:staff", execUser{UID: 33, GID: 50, Home: "/var/www"}, ""},
		{"daemon:33", execUser{UID: 1, GID: 33, Home: "/usr/sbin"}, ""},
		{"1234:wheel", execUser{UID: 1234, GID: 10, Home: "/"}, ""},
		{"nosuch", execUser{}, "unable to find user nosuch: no matching entries in passwd file"},
		{"root:nosuch", execUser{}, "unable to find group nosuch: no matching entries in group file"},
	} {
		got, err := resolveUser(tc.spec, strings.NewReader(testPasswd), strings.NewReader(testGroup))
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("resolveUser(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveUser(%q): %v", tc.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("resolveUser(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
	}
}

func TestResolveUserWithoutFiles(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    execUser
		wantErr bool
	}{
		{"", execUser{Home: "/"}, false},
		{"1000:1000", execUser{UID: 1000, GID: 1000, Home: "/"}, false},
		{"root", execUser{}, true},
		{"0:wheel", execUser{}, true},
	} {
		got, err := resolveUser(tc.spec, nil, nil)
		if (err != nil) != tc.wantErr || (!tc.wantErr && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("resolveUser(%q) without files = %+v, %v", tc.spec, got, err)
		}
	}
}
