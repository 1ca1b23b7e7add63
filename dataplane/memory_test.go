package dataplane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"runtime"
	"testing"
)

// sampler is a reader that samples the heap in use while it is consumed.
type sampler struct {
	r        io.Reader
	n, every int64
	peak     uint64
}

func (s *sampler) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	before := s.n / s.every
	s.n += int64(n)
	if s.n/s.every != before {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peak = max(s.peak, ms.HeapInuse)
	}
	return n, err
}

// TestPutMemoryBounded: a 256 MiB PUT holds a few blocks, not the object.
func TestPutMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 512 MiB")
	}
	e := newEnv(t, 2, 2)
	const size = 256 << 20
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	src := &sampler{r: genReader(42, size), every: 8 << 20}
	if _, err := e.store.PutObject(context.Background(), "b", "big", src, size, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	growth := int64(src.peak) - int64(base)
	t.Logf("heap in use: base %d MiB, peak %d MiB during the PUT", base>>20, src.peak>>20)
	if growth > 64<<20 {
		t.Fatalf("heap grew by %d MiB during a 256 MiB PUT", growth>>20)
	}
	// And the stored object reads back (streamed, hashed).
	o, err := e.store.GetObject(context.Background(), "b", "big", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.NewReader(context.Background(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	_, _ = io.Copy(want, genReader(42, size))
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatal("256 MiB object read back differs")
	}
}
