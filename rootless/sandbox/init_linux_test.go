package sandbox

import (
	"fmt"
	"strings"
	"testing"
)

func TestOverlayData(t *testing.T) {
	data, dir := overlayData([]string{"/d/l/b", "/d/l/a"}, "/d/c/upper", "/d/c/work")
	if want := "lowerdir=/d/l/b:/d/l/a,upperdir=/d/c/upper,workdir=/d/c/work,userxattr"; data != want || dir != "" {
		t.Errorf("overlayData = %q, %q", data, dir)
	}
	// Many long layer paths do not fit in a page: they become relative.
	var lowers []string
	for i := 0; i < 60; i++ {
		lowers = append(lowers, fmt.Sprintf("/home/u/.local/share/warren/layers/%064d/fs", i))
	}
	data, dir = overlayData(lowers, "/home/u/.local/share/warren/containers/c1/upper", "/home/u/.local/share/warren/containers/c1/work")
	if dir != "/home/u/.local/share/warren" {
		t.Errorf("dir = %q", dir)
	}
	if !strings.HasPrefix(data, "lowerdir=layers/"+fmt.Sprintf("%064d", 0)+"/fs:") || !strings.HasSuffix(data, ",upperdir=containers/c1/upper,workdir=containers/c1/work,userxattr") {
		t.Errorf("data = %q", data)
	}
}
