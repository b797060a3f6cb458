package filters

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// imagesFixture is Docker's `docker images` filtering examples (docs
// reference/commandline/image_ls.md) in one store, newest first.
var imagesFixture = []Image{
	{ID: "sha256:eeae25ada2aa", Tags: []string{"image1:latest", "match-me-1:latest"}, Created: t0.Add(21 * time.Minute),
		Labels: map[string]string{"com.example.version": "2.0"}},
	{ID: "sha256:dea752e4e117", Tags: []string{"image2:latest", "match-me-2:latest"}, Created: t0.Add(16 * time.Minute),
		Labels: map[string]string{"com.example.version": "1.5"}},
	{ID: "sha256:511136ea3c5a", Tags: []string{"image3:latest", "match-me:latest"}, Created: t0.Add(time.Minute),
		Labels: map[string]string{"com.example.version": "1.0"}},
	{ID: "sha256:e02e811dd08f", Tags: []string{"busybox:latest", "busybox:uclibc"}, Created: t0},
	{ID: "sha256:733eb3059dce", Tags: []string{"busybox:musl"}, Created: t0},
	{ID: "sha256:21c16b6787c6", Tags: []string{"busybox:glibc"}, Digests: []string{"busybox@sha256:21c16b6787c6" + strings.Repeat("0", 52)}, Created: t0},
	{ID: "sha256:8abc22fbb042", Created: t0.Add(-time.Hour)},
	{ID: "sha256:48e5f45168b9", Digests: []string{"busybox@sha256:48e5f45168b9" + strings.Repeat("0", 52)}, Created: t0.Add(-time.Hour)},
}

func imageByRef(ref string) (Image, error) {
	for _, img := range imagesFixture {
		if img.ID == ref || slices.Contains(img.Tags, ref) || slices.Contains(img.Tags, ref+":latest") {
			return img, nil
		}
	}
	return Image{}, errdefs.ErrNotFound.WithMessage("No such image: " + ref)
}

// imageRows is what `docker images` prints for args: "repo:tag" per tag,
// "<none>" for an image without one.
func imageRows(t *testing.T, args Args) []string {
	t.Helper()
	q, err := ParseImages(args, imageByRef, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("ParseImages(%v): %v", args, err)
	}
	var rows []string
	for _, img := range imagesFixture {
		tags, _, ok := q.Match(img)
		if !ok {
			continue
		}
		if len(tags) == 0 {
			rows = append(rows, "<none>")
		}
		rows = append(rows, tags...)
	}
	return rows
}

func TestImageFilters(t *testing.T) {
	tests := []struct {
		doc  string
		args Args
		want string
	}{
		{`docker images --filter "dangling=true"`, Args{"dangling": {"true"}}, "<none> <none>"},
		{`dangling=false: images with a reference`, Args{"dangling": {"false"}, "label": {"com.example.version"}},
			"image1:latest match-me-1:latest image2:latest match-me-2:latest image3:latest match-me:latest"},
		{`docker images --filter "label=com.example.version"`, Args{"label": {"com.example.version"}},
			"image1:latest match-me-1:latest image2:latest match-me-2:latest image3:latest match-me:latest"},
		{`docker images --filter "label=com.example.version=1.0"`, Args{"label": {"com.example.version=1.0"}},
			"image3:latest match-me:latest"},
		{`docker images --filter "label=com.example.version=0.1"`, Args{"label": {"com.example.version=0.1"}}, ""},
		{`label values are ANDed`, Args{"label": {"com.example.version=1.0", "com.example.version=1.5"}}, ""},
		{`label! (containerd store): without the value`, Args{"label!": {"com.example.version=1.0"}, "reference": {"image*"}},
			"image1:latest image2:latest"},
		{`label! without a value: without the key`, Args{"label!": {"com.example.version"}, "dangling": {"false"}},
			"busybox:latest busybox:uclibc busybox:musl busybox:glibc <none>"},
		{`docker images --filter "before=image1"`, Args{"before": {"image1"}, "reference": {"image*"}},
			"image2:latest image3:latest"},
		{`docker images --filter "since=image3"`, Args{"since": {"image3"}, "reference": {"image*"}},
			"image1:latest image2:latest"},
		{`until keeps images created before it`, Args{"until": {"2026-01-04T13:10:00Z"}, "reference": {"image*"}},
			"image3:latest"},
		{`docker images --filter=reference='busy*:*libc'`, Args{"reference": {"busy*:*libc"}},
			"busybox:uclibc busybox:glibc"},
		{`docker images --filter=reference='busy*:uclibc' --filter=reference='busy*:glibc'`,
			Args{"reference": {"busy*:uclibc", "busy*:glibc"}}, "busybox:uclibc busybox:glibc"},
		{`reference without a tag matches every tag of the repository`, Args{"reference": {"busybox"}},
			"busybox:latest busybox:uclibc busybox:musl busybox:glibc <none>"},
		{`reference in the canonical form`, Args{"reference": {"docker.io/library/busybox:musl"}}, "busybox:musl"},
		{`keys are ANDed`, Args{"reference": {"busybox"}, "dangling": {"true"}}, "<none>"},
	}
	for _, tt := range tests {
		if got := strings.Join(imageRows(t, tt.args), " "); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.doc, got, tt.want)
		}
	}
}

func TestImageFilterErrors(t *testing.T) {
	tests := []struct {
		args     Args
		want     string
		notFound bool
	}{
		{Args{"x": {"1"}}, "invalid filter 'x'", false},
		{Args{"dangling": {"maybe"}}, "invalid filter 'dangling=[maybe]'", false},
		{Args{"before": {"nosuch"}}, "No such image: nosuch", true},
		{Args{"until": {"yesterday"}}, `failed to parse value as time or duration: "yesterday"`, false},
	}
	for _, tt := range tests {
		_, err := ParseImages(tt.args, imageByRef, t0)
		if err == nil || err.Error() != tt.want || errdefs.IsNotFound(err) != tt.notFound {
			t.Errorf("ParseImages(%v) = %v, want %q", tt.args, err, tt.want)
		}
	}
}
