package drive

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFolderSyncCoversEveryCaller: many writers create an entry and ask
// for a folder fsync at once. The model folder makes durable what was
// created before an fsync started; every caller that gets nil must find
// its entry durable, every caller gets the error of the fsync that covered
// it, and the fsyncs are shared.
func TestFolderSyncCoversEveryCaller(t *testing.T) {
	var s folderSyncs
	var mu sync.Mutex
	created := map[int]bool{} // entries created, not yet durable
	durable := map[int]bool{}
	var calls atomic.Int32
	errInjected := errors.New("injected")
	fsync := func() error {
		n := calls.Add(1)
		mu.Lock()
		covered := make([]int, 0, len(created))
		for id := range created {
			covered = append(covered, id)
		}
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		if n == 3 {
			return errInjected // these entries are not durable
		}
		mu.Lock()
		for _, id := range covered {
			durable[id] = true
			delete(created, id)
		}
		mu.Unlock()
		return nil
	}
	const writers = 64
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i%8) * time.Millisecond)
			mu.Lock()
			created[i] = true
			mu.Unlock()
			errs[i] = s.sync("f", fsync)
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		mu.Lock()
		ok := durable[i]
		mu.Unlock()
		switch {
		case errors.Is(err, errInjected):
			failed++
		case err != nil:
			t.Fatalf("writer %d: %v", i, err)
		case !ok:
			t.Fatalf("writer %d got nil but its entry is not durable", i)
		}
	}
	if n := calls.Load(); n < 3 || n >= writers || failed == 0 {
		t.Fatalf("%d fsyncs for %d writers, %d writers saw the failed one", n, writers, failed)
	}
}

// TestFolderSyncSeparateFolders: folders do not share fsyncs.
func TestFolderSyncSeparateFolders(t *testing.T) {
	var s folderSyncs
	var a, b atomic.Int32
	if err := s.sync("a", func() error { a.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.sync("b", func() error { b.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if a.Load() != 1 || b.Load() != 1 {
		t.Fatalf("fsyncs: a %d, b %d", a.Load(), b.Load())
	}
}
