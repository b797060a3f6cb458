package main

import (
	"net/http"
	"net/url"
	"testing"
)

// The prunes send Docker's requests and print Docker's report; a declined
// prompt sends nothing and exits 0.
func TestPruneFlows(t *testing.T) {
	f := &fakeEngine{handlers: map[string]http.HandlerFunc{
		"POST /containers/prune": jsonReply(200, `{"ContainersDeleted":["`+fakeID+`"],"SpaceReclaimed":212}`),
		"POST /images/prune":     jsonReply(200, `{"ImagesDeleted":[{"Untagged":"busybox:old"},{"Deleted":"sha256:`+fakeID+`"}],"SpaceReclaimed":2048}`),
	}}
	dir := f.start(t)
	filters := func(json string) string { return "filters=" + url.QueryEscape(json) }
	tests := []struct {
		stdin   string
		args    []string
		out     string
		request string // "" when nothing may be sent
	}{
		{"y\n", []string{"container", "prune", "--filter", "label=a=1", "--filter", "label=b"},
			"WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] " +
				"Deleted Containers:\n" + fakeID + "\n\nTotal reclaimed space: 212B\n",
			"POST /containers/prune?" + filters(`{"label":{"a=1":true,"b":true}}`)},
		{"n\n", []string{"container", "prune"},
			"WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ", ""},
		{"", []string{"container", "prune"},
			"WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ", ""},
		{"", []string{"image", "prune", "-f"},
			"Deleted Images:\nuntagged: busybox:old\ndeleted: sha256:" + fakeID + "\n\nTotal reclaimed space: 2.048kB\n",
			"POST /images/prune?" + filters(`{"dangling":{"true":true}}`)},
		{"Y\n", []string{"image", "prune", "-a", "--filter", "until=24h"},
			"WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] " +
				"Deleted Images:\nuntagged: busybox:old\ndeleted: sha256:" + fakeID + "\n\nTotal reclaimed space: 2.048kB\n",
			"POST /images/prune?" + filters(`{"dangling":{"false":true},"until":{"24h":true}}`)},
		{"", []string{"image", "prune"},
			"WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ", ""},
	}
	for _, tt := range tests {
		before := len(f.apiCalls())
		status, out, errOut := runWarren(t, dir, tt.stdin, tt.args...)
		if status != 0 || out != tt.out || errOut != "" {
			t.Errorf("%v: status %d\nstdout %q\nwant   %q\nstderr %q", tt.args, status, out, tt.out, errOut)
		}
		calls := f.apiCalls()[before:]
		if tt.request == "" && len(calls) != 0 || tt.request != "" && (len(calls) != 1 || calls[0] != tt.request) {
			t.Errorf("%v: calls %v, want %q", tt.args, calls, tt.request)
		}
	}
	status, _, errOut := runWarren(t, dir, "", "container", "prune", "-f", "extra")
	if status != 1 || errOut == "" {
		t.Errorf("container prune with an argument: status %d stderr %q", status, errOut)
	}
}
