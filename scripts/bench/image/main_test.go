package main

import (
	"reflect"
	"testing"
)

func TestParseLdd(t *testing.T) {
	tests := []struct {
		name, out string
		want      []string
	}{
		{
			name: "debian iperf3",
			out: "\tlinux-vdso.so.1 (0x00007ffc5a1f2000)\n" +
				"\tlibiperf.so.0 => /lib/x86_64-linux-gnu/libiperf.so.0 (0x00007f1c)\n" +
				"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1b)\n" +
				"\t/lib64/ld-linux-x86-64.so.2 (0x00007f1d)\n",
			want: []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libiperf.so.0", "/lib64/ld-linux-x86-64.so.2"},
		},
		{name: "static", out: "\tnot a dynamic executable\n", want: []string{}},
		{name: "duplicates", out: "a.so => /l/a.so (0x1)\nb.so => /l/a.so (0x2)\n", want: []string{"/l/a.so"}},
		{name: "not found", out: "x.so => not found\n", want: []string{}},
	}
	for _, tc := range tests {
		if got := parseLdd(tc.out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: parseLdd = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParents(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"lib64/ld.so", []string{"lib64"}},
		{"usr/lib/x86_64-linux-gnu/libc.so.6", []string{"usr", "usr/lib", "usr/lib/x86_64-linux-gnu"}},
		{"top.so", nil},
	}
	for _, tc := range tests {
		if got := parents(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parents(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
