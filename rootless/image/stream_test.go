package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// streamSize is far more than the heap the stream tests allow.
const (
	streamSize = 256 << 20
	heapLimit  = 64 << 20
)

// pattern is an endless, non-zero, incompressible-enough byte source.
type pattern struct{ n uint64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		p.n++
		b[i] = byte(p.n*2654435761>>24) | 1
	}
	return len(b), nil
}

// layerStream writes a layer tar holding one file of size bytes.
func layerStream(w io.Writer, size int64) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, &pattern{}, size); err != nil {
		return err
	}
	return tw.Close()
}

// heapWatch passes a stream through, sampling the heap every 8 MiB.
type heapWatch struct {
	r        io.Reader
	n, next  int64
	peakHeap uint64
}

func (h *heapWatch) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.n += int64(n)
	if h.n >= h.next {
		h.next = h.n + 8<<20
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peakHeap = max(h.peakHeap, ms.HeapAlloc)
	}
	return n, err
}

// pipe runs write into a pipe and returns its reading end.
func pipe(write func(io.Writer) error) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(write(pw)) }()
	return pr
}

// Load and Import read their bodies as streams: the heap stays far below
// the size of the archive.
func TestLoadAndImportStream(t *testing.T) {
	h := sha256.New()
	if err := layerStream(h, streamSize); err != nil {
		t.Fatal(err)
	}
	diffID := fmt.Sprintf("sha256:%x", h.Sum(nil))
	config := fmt.Sprintf(`{"architecture":%q,"os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%q]}}`, runtime.GOARCH, diffID)
	manifest := `[{"Config":"config.json","RepoTags":["big:1"],"Layers":["layer.tar"]}]`
	archive := func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for _, f := range []struct{ name, data string }{{"config.json", config}, {"manifest.json", manifest}} {
			if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := io.WriteString(tw, f.data); err != nil {
				return err
			}
		}
		// The layer's size is known from the generator: a tar header,
		// the file rounded to 512, two end blocks.
		size := int64(512) + (streamSize+511)/512*512 + 1024
		if err := tw.WriteHeader(&tar.Header{Name: "layer.tar", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if err := layerStream(tw, streamSize); err != nil {
			return err
		}
		return tw.Close()
	}
	tests := []struct {
		name string
		run  func(s *Store, r io.Reader) error
		body func(io.Writer) error
	}{
		{"load", func(s *Store, r io.Reader) error { _, err := s.Load(context.Background(), r); return err }, archive},
		{"import", func(s *Store, r io.Reader) error {
			_, err := s.Import(context.Background(), r, "big:2", nil)
			return err
		}, func(w io.Writer) error { return layerStream(w, streamSize) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			runtime.GC()
			watch := &heapWatch{r: pipe(tt.body)}
			if err := tt.run(s, watch); err != nil {
				t.Fatal(err)
			}
			if watch.n < streamSize {
				t.Fatalf("read %d bytes, less than the %d of the file", watch.n, streamSize)
			}
			if watch.peakHeap > heapLimit {
				t.Errorf("heap reached %d MiB while reading %d MiB", watch.peakHeap>>20, watch.n>>20)
			}
			t.Logf("%s: read %d MiB, peak heap %d KiB", tt.name, watch.n>>20, watch.peakHeap>>10)
		})
	}
}
