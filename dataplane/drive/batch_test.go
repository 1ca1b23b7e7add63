package drive

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBatch: concurrent Batch calls share transactions; a call that fails
// gets its own error and changes nothing, every other call is committed,
// and functions that run again (after a failed neighbour) do no harm.
func TestBatch(t *testing.T) {
	d, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	errOdd := errors.New("odd calls fail")
	const n = 200
	runs := make([]int, n)
	var runsMu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = d.db.Batch(func(tx *bolt.Tx) error {
				runsMu.Lock()
				runs[i]++
				runsMu.Unlock()
				b, err := tx.CreateBucketIfNotExists([]byte("batch-test"))
				if err != nil {
					return err
				}
				if err := b.Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
					return err
				}
				if i%7 == 3 {
					return errOdd
				}
				return nil
			})
		})
	}
	wg.Wait()
	reran := 0
	for i, err := range errs {
		if want := i%7 == 3; want != errors.Is(err, errOdd) || !want && err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if runs[i] > 1 {
			reran++
		}
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("batch-test"))
		for i := range n {
			got := b.Get(fmt.Appendf(nil, "k%03d", i)) != nil
			if got != (i%7 != 3) {
				return fmt.Errorf("key %d present %v", i, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls, %d ran more than once", n, reran)
}
