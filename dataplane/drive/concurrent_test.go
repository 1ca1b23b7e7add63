package drive_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

// TestConcurrentCommits races writers of one key and of distinct keys: the
// newest record wins whatever the order, and exactly the shards of current
// records remain on disk.
func TestConcurrentCommits(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	const writers = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Go(func() {
			for _, key := range []string{"hot", fmt.Sprintf("own-%02d", i)} {
				dd := fmt.Sprintf("%s-%02d", key, i)
				if _, err := d.WriteShard(ctx, dd, bytesOf(dd)); err != nil {
					errs <- err
					return
				}
				fi := drive.FileInfo{Bucket: "b", Key: key, VersionID: dd, Null: true, ModTime: int64(i), DataDir: dd}
				if err := d.CommitVersion(ctx, fi); err != nil {
					errs <- err
				}
				if _, _, err := d.List(ctx, "b", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 5}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cur, err := d.ReadVersion(ctx, "b", "hot", drive.Ref{})
	if err != nil || cur.ModTime != writers-1 {
		t.Fatalf("hot key = %+v, %v; want ModTime %d", cur, err, writers-1)
	}
	want := map[string]bool{cur.DataDir: true}
	for i := range writers {
		want[fmt.Sprintf("own-%02d-%02d", i, i)] = true
	}
	got := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(d.Path(), "shards"), func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			got[e.Name()] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("shard files %v, want %v", got, want)
	}
}
