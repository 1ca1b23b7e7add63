package drive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

func bytesOf(s string) io.Reader { return strings.NewReader(s) }

// BenchmarkCommitInline measures durable commits of small inline records
// (each one a bbolt transaction with fsync): ops/s is commits per second.
func BenchmarkCommitInline(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			d := drivetest.NewDrive(b, nil)
			inline := bytes.Repeat([]byte{'x'}, 4<<10)
			ctx := context.Background()
			b.SetParallelism(par)
			b.SetBytes(int64(len(inline)))
			var seq atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					fi := drive.FileInfo{Bucket: "bench", Key: fmt.Sprintf("obj/%09d", n), VersionID: "v", ModTime: n, Size: 4 << 10, Inline: inline}
					if err := d.CommitVersion(ctx, fi); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// BenchmarkWriteShard measures WriteShard throughput (write + fsync) of
// 8 MiB shards; MB/s is reported by SetBytes.
func BenchmarkWriteShard(b *testing.B) {
	d := drivetest.NewDrive(b, nil)
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		dd := fmt.Sprintf("bench%d", i)
		if _, err := d.WriteShard(ctx, dd, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := d.AbortShard(ctx, dd); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
