package api

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestRoute(t *testing.T) {
	s := NewHandler(newFakeBackend()).(*server)
	tests := []struct {
		method, path string
		handler      string // the handler's method name; "" = no route
		name         string
	}{
		{"HEAD", "/_ping", "ping", ""},
		{"GET", "/containers/json", "containerList", ""},
		{"GET", "/containers/web/json", "containerInspect", "web"},
		{"DELETE", "/containers/web/db", "containerRemove", "web/db"},
		{"DELETE", "/containers/web", "containerRemove", "web"},
		{"POST", "/containers/abc/wait", "containerWait", "abc"},
		{"POST", "/containers/abc/exec", "execCreate", "abc"},
		{"POST", "/exec/e1/start", "execStart", "e1"},
		{"GET", "/exec/e1/json", "execInspect", "e1"},
		{"GET", "/images/127.0.0.1:5000/busybox/json", "imageInspect", "127.0.0.1:5000/busybox"},
		{"GET", "/images/127.0.0.1:5000/busybox:1.36/get", "imageSave", "127.0.0.1:5000/busybox:1.36"},
		{"POST", "/images/busybox:latest/tag", "imageTag", "busybox:latest"},
		{"DELETE", "/images/127.0.0.1:5000/busybox:latest", "imageRemove", "127.0.0.1:5000/busybox:latest"},
		{"GET", "/images/get", "imageSave", ""},
		{"POST", "/images/load", "imageLoad", ""},
		// Unknown actions and methods are no route (404 page not found).
		{"POST", "/containers/web/frobnicate", "", ""},
		{"GET", "/containers/web", "", ""},
		{"GET", "/containers/", "", ""},
		{"GET", "/nothing", "", ""},
		{"PUT", "/containers/web/start", "", ""},
	}
	for _, tt := range tests {
		fn, name := s.route(tt.method, tt.path)
		got := ""
		if fn != nil {
			got = funcName(fn)
		}
		if !strings.HasSuffix(got, "."+tt.handler+"-fm") && !(tt.handler == "" && got == "") {
			t.Errorf("route(%s %s) handler = %q, want %q", tt.method, tt.path, got, tt.handler)
		}
		if name != tt.name {
			t.Errorf("route(%s %s) name = %q, want %q", tt.method, tt.path, name, tt.name)
		}
	}
}

func funcName(fn handlerFunc) string {
	return runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
}
