package dataplane

import (
	"bytes"
	"context"
	"io"
	"testing"
)

const benchSize = 64 << 20

// BenchmarkPutObject writes a 64 MiB object to 4 local drives (EC 2+2).
func BenchmarkPutObject(b *testing.B) {
	e := newEnv(b, 2, 2)
	data := randBytes(1, benchSize)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data), benchSize, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetObject reads a 64 MiB object from 4 local drives (EC 2+2).
func BenchmarkGetObject(b *testing.B) {
	e := newEnv(b, 2, 2)
	data := randBytes(1, benchSize)
	e.put("b", "k", data)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		o, err := e.store.GetObject(context.Background(), "b", "k")
		if err != nil {
			b.Fatal(err)
		}
		r, err := o.NewReader(context.Background(), 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
		_ = r.Close()
	}
}

// BenchmarkGetObjectDegraded reads with a data shard's drive down, so every
// block is reconstructed.
func BenchmarkGetObjectDegraded(b *testing.B) {
	e := newEnv(b, 2, 2)
	data := randBytes(1, benchSize)
	e.put("b", "k", data)
	e.pgDrives("b", "k")[0].down.Store(true)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		o, err := e.store.GetObject(context.Background(), "b", "k")
		if err != nil {
			b.Fatal(err)
		}
		r, err := o.NewReader(context.Background(), 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
		_ = r.Close()
	}
}

// BenchmarkEncode measures block reading, MD5 and erasure coding of 64 MiB
// without any drive (EC 2+2, 1 MiB blocks).
func BenchmarkEncode(b *testing.B) {
	var cs codecs
	cd, err := cs.get(2, 2, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	data := randBytes(1, benchSize)
	lay := layout{size: benchSize, blockSize: 1 << 20, k: 2, m: 2}
	bb := cd.newBlockBuf()
	defer cd.release(bb)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		body := &bodyReader{r: bytes.NewReader(data), h: newMD5(), size: benchSize}
		for blk := range lay.blocks() {
			if err := body.fillBlock(cd, bb, lay.blockLen(blk)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
