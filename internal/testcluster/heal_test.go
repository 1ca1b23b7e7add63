package testcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-io/strata/internal/testcluster"
)

// countShardFiles counts the committed shard files of a drive folder.
func countShardFiles(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dir, "shards"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, bytes
}

// TestHealRefillWipedDrive: a drive folder wiped while its node is down
// comes back empty with its old id when the node restarts, and is refilled
// from the other shards of its PGs while every object stays readable; the
// refilled drive then holds the same shard files, and every object reads
// with two of the four nodes down (so from the refilled shards wherever
// they are needed).
//
// STRATA_HEAL_MIB sets the data stored (default 64 MiB; about a quarter of
// it lands on each drive with EC 2+2 over 8 drives); the test logs the
// refill time and throughput.
func TestHealRefillWipedDrive(t *testing.T) {
	// The second folder, and the first: it holds the Raft state too, and
	// the drive map has a copy in every folder.
	for _, which := range []int{1, 0} {
		t.Run(fmt.Sprintf("data%d", which), func(t *testing.T) { testRefillWiped(t, which) })
	}
}

func testRefillWiped(t *testing.T, which int) {
	total := 64
	if v := os.Getenv("STRATA_HEAL_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("STRATA_HEAL_MIB=%q", v)
		}
		total = n
	}
	c := testcluster.Start(t, testcluster.Options{Nodes: 4})
	ctx := context.Background()
	cl := c.S3Client(0)
	mustCreateBucket(t, cl, "heal")

	objs := map[string][]byte{}
	var keys []string
	add := func(key string, data []byte) {
		put(t, cl, "heal", key, data)
		objs[key] = data
		keys = append(keys, key)
	}
	for i := range 20 {
		add(fmt.Sprintf("small/%02d", i), payload(1000+i*5000, int64(i)))
	}
	const big = 4 << 20
	for i := range total * (1 << 20) / big {
		add(fmt.Sprintf("big/%03d", i), payload(big+i, int64(1000+i)))
	}

	victim := c.Instance(1)
	dir := victim.Config.Data[which]
	wantFiles, wantBytes := countShardFiles(t, dir)
	if wantFiles == 0 {
		t.Fatal("the victim drive holds no shard files")
	}
	c.Stop(1)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	// Readers verify every byte through the other nodes during the refill.
	stop := make(chan struct{})
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopReaders := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	defer stopReaders()
	for r := range 2 {
		client := c.S3Client(2 + r)
		wg.Go(func() {
			for i := r; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := keys[i%len(keys)]
				out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("heal"), Key: aws.String(key)})
				if err == nil {
					var got []byte
					got, err = io.ReadAll(out.Body)
					out.Body.Close()
					if err == nil && !bytes.Equal(got, objs[key]) {
						err = fmt.Errorf("%d bytes, want %d (content differs)", len(got), len(objs[key]))
					}
				}
				reads.Add(1)
				if err != nil {
					failures.Add(1)
					t.Errorf("GET %s during refill: %v", key, err)
				}
			}
		})
	}

	repaired := func() (n int64) {
		for i := range c.N() {
			if nd := c.Instance(i).Node(); nd != nil {
				n += nd.HealStatus().BytesRepaired
			}
		}
		return n
	}
	before := repaired()
	start := time.Now()
	c.Restart(1)
	n := c.Instance(1).Node()
	// The refill is queued when the node is built: Refilling empties when
	// it is done. Reads through the other nodes repair some of the drive
	// concurrently (read repair), so every node's repairs count.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st := n.HealStatus()
		if len(st.Refilling) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refill not done: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(start)
	stopReaders()
	st := n.HealStatus()
	written := repaired() - before
	gotFiles, gotBytes := countShardFiles(t, dir)
	t.Logf("refill of %.1f MiB in %d shard files (%d data versions stored): %v, %.1f MiB/s of shard bytes written; %d verified GETs during it, %d failed; status %+v",
		float64(gotBytes)/(1<<20), gotFiles, len(objs), took.Round(time.Millisecond), float64(written)/(1<<20)/took.Seconds(), reads.Load(), failures.Load(), st)
	if gotFiles != wantFiles || gotBytes != wantBytes {
		t.Fatalf("refilled drive: %d files, %d bytes; before the wipe %d files, %d bytes", gotFiles, gotBytes, wantFiles, wantBytes)
	}
	if st.Errors != 0 || written < gotBytes {
		t.Fatalf("refill errors, or fewer bytes written (%d) than the drive holds: %+v", written, st)
	}

	// Two nodes down: every object needs the shards of the remaining two,
	// the refilled node's among them.
	c.Stop(2)
	c.Stop(3)
	for _, key := range keys {
		if got := get(t, cl, "heal", key, ""); !bytes.Equal(got, objs[key]) {
			t.Fatalf("GET %s with two nodes down: %d bytes, want %d", key, len(got), len(objs[key]))
		}
	}
}
