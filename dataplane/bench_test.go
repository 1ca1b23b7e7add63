package dataplane

import (
	"bytes"
	"context"
	"crypto/md5"
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
		o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
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
		o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
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
		body := &bodyReader{r: bytes.NewReader(data), md5: md5.New(), sum: newChecksumHash(ChecksumCRC64NVME), size: benchSize}
		for blk := range lay.blocks() {
			if err := body.fillBlock(cd, bb, lay.blockLen(blk)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMultipartUpload uploads a 64 MiB object as 4 parts of 16 MiB to
// 4 local drives (EC 2+2) and completes it.
func BenchmarkMultipartUpload(b *testing.B) {
	e := newEnv(b, 2, 2)
	const partSize = benchSize / 4
	data := randBytes(1, benchSize)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		u, err := e.store.CreateMultipartUpload(context.Background(), "b", "k", UploadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var parts []CompletePart
		for i := range 4 {
			p, err := e.store.UploadPart(context.Background(), "b", "k", u.UploadID, i+1, bytes.NewReader(data[i*partSize:(i+1)*partSize]), partSize, PartOptions{})
			if err != nil {
				b.Fatal(err)
			}
			parts = append(parts, CompletePart{Number: p.Number, ETag: p.ETag})
		}
		if _, err := e.store.CompleteMultipartUpload(context.Background(), "b", "k", u.UploadID, parts, CompleteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMultipart reads a 64 MiB object of 4 parts (EC 2+2).
func BenchmarkGetMultipart(b *testing.B) {
	e := newEnv(b, 2, 2)
	const partSize = benchSize / 4
	data := randBytes(1, benchSize)
	u, err := e.store.CreateMultipartUpload(context.Background(), "b", "k", UploadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var parts []CompletePart
	for i := range 4 {
		p, err := e.store.UploadPart(context.Background(), "b", "k", u.UploadID, i+1, bytes.NewReader(data[i*partSize:(i+1)*partSize]), partSize, PartOptions{})
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, CompletePart{Number: p.Number, ETag: p.ETag})
	}
	if _, err := e.store.CompleteMultipartUpload(context.Background(), "b", "k", u.UploadID, parts, CompleteOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
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
