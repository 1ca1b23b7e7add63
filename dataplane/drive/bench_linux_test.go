package drive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

// processCPU is the CPU time (user + system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteShardCPU writes the shards of 1 MiB objects on EC 6+2
// (174,767 bytes) from 16 writers at once, with direct I/O and through the
// page cache, and reports the process CPU per shard (cpu-us/shard): what
// a PUT pays per drive for its shard file (create, write, fsync, close).
// Files are not removed during the run (a delete makes the next creates
// dearer on ext4 without a journal, docs/benchmarks.md).
func BenchmarkWriteShardCPU(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdefg"), 174767/17+1)[:174767]
	for _, direct := range []bool{true, false} {
		b.Run(fmt.Sprintf("direct=%v", direct), func(b *testing.B) {
			ffs := drivetest.NewFaultFS(nil)
			if !direct {
				ffs.RefuseDirect()
			}
			d := drivetest.NewDrive(b, ffs)
			ctx := context.Background()
			var seq atomic.Int64
			shardCPU(b, 16, len(data), func() error {
				id := fmt.Sprintf("shard%09d", seq.Add(1))
				_, err := d.WriteShard(ctx, id, bytes.NewReader(data))
				return err
			})
		})
	}
}

// BenchmarkPutShardCPU writes and commits the shards of 1 MiB objects on
// EC 6+2 (174,767 bytes; one key per shard) from 8 writers at once, with
// ids of the data plane's form (one time slot: one fan-out folder), and
// reports the process CPU per shard: what a PUT pays per drive (create,
// write, fsync, folder fsync shared, touch, bbolt commit). Run it on a
// fresh file system for comparable figures (docs/benchmarks.md).
func BenchmarkPutShardCPU(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdefg"), 174767/17+1)[:174767]
	d := drivetest.NewDrive(b, nil)
	ctx := context.Background()
	shardCPU(b, 4, len(data), func() error {
		var r [16]byte
		_, _ = rand.Read(r[:])
		r[0] = 0xaa
		id := hex.EncodeToString(r[:])
		if _, err := d.WriteShard(ctx, id, bytes.NewReader(data)); err != nil {
			return err
		}
		return d.CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: id, VersionID: "v", ModTime: 1, DataDir: id})
	})
}

// shardCPU runs one b.N loop of shard (of size bytes) from parallelism
// writers per core and reports the process CPU per call (cpu-us/shard).
func shardCPU(b *testing.B, parallelism, size int, shard func() error) {
	b.SetParallelism(parallelism)
	b.SetBytes(int64(size))
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := shard(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/shard")
}
