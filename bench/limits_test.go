package bench

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/klauspost/reedsolomon"
)

// The machine's limits for the costs an object store cannot avoid, to set
// `make bench` figures against (docs/benchmarks.md, "What bounds each
// workload"). Run: go test -run XXX -bench Limit -benchtime 2s ./bench/
// Each reports MB/s (or ops/s) of one core.

func limitData(b *testing.B, n int) []byte {
	b.Helper()
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

// BenchmarkLimitMD5: the ETag of a single PUT.
func BenchmarkLimitMD5(b *testing.B) {
	buf := limitData(b, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		md5.Sum(buf)
	}
}

// BenchmarkLimitSHA256: a SigV4 signed payload's x-amz-content-sha256.
func BenchmarkLimitSHA256(b *testing.B) {
	buf := limitData(b, 1<<20)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sha256.Sum256(buf)
	}
}

// BenchmarkLimitCRC32C: the per-block shard checksum.
func BenchmarkLimitCRC32C(b *testing.B) {
	buf := limitData(b, 1<<20)
	tab := crc32.MakeTable(crc32.Castagnoli)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		crc32.Checksum(buf, tab)
	}
}

// BenchmarkLimitRSEncode: EC 6+2 parity of a 1 MiB block.
func BenchmarkLimitRSEncode(b *testing.B) {
	enc, err := reedsolomon.New(6, 2)
	if err != nil {
		b.Fatal(err)
	}
	shards, err := enc.Split(limitData(b, 1<<20))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(1 << 20)
	for b.Loop() {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLimitCopy: one memory copy of 1 MiB.
func BenchmarkLimitCopy(b *testing.B) {
	src, dst := limitData(b, 1<<20), make([]byte, 1<<20)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(dst, src)
	}
}

// BenchmarkLimitFsyncOverwrite: fdatasync after a 4 KiB overwrite (what
// one index commit costs, twice) in the test's temporary folder.
func BenchmarkLimitFsyncOverwrite(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "f"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := limitData(b, 4<<10)
	for b.Loop() {
		if _, err := f.WriteAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

// BenchmarkLimitCreateFile: create, write 4 KiB, fsync, close (what a
// shard file costs before its contents) in the test's temporary folder.
func BenchmarkLimitCreateFile(b *testing.B) {
	dir := b.TempDir()
	buf := limitData(b, 4<<10)
	names := 0
	for b.Loop() {
		names++
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(names)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
