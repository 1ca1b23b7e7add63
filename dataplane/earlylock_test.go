package dataplane

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// asked returns how many leases the store's lock table was asked for.
func asked(s *Store) int {
	s.locks.mu.Lock()
	defer s.locks.mu.Unlock()
	return s.locks.asked
}

// waitNoLeases fails the test unless s holds no lease within a second
// (releases run in the background).
func waitNoLeases(t *testing.T, s *Store) {
	t.Helper()
	for range 100 {
		if s.locks.held() == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d leases left", s.locks.held())
}

// TestEarlyLock: a streamed PUT takes the key's lock at the end of its
// shard writes, once per drive (no LockKey round of its own), and
// releases it with the commits; an inline PUT locks as before.
func TestEarlyLock(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(7, 3<<20)
	before := asked(e.store)
	e.put("b", "k", data)
	if n := asked(e.store) - before; n != 4 || e.store.early.Load() != 1 {
		t.Fatalf("a streamed PUT asked %d leases of 4 drives, %d early locks; want 4, one each at the end of the write", n, e.store.early.Load())
	}
	waitNoLeases(t, e.store)
	e.mustRead("b", "k", data)

	before = asked(e.store)
	e.put("b", "small", []byte("inline"))
	if n := asked(e.store) - before; n != 4 || e.store.early.Load() != 1 {
		t.Fatalf("an inline PUT asked %d leases, want 4 (and no early lock: %d)", n, e.store.early.Load())
	}
	waitNoLeases(t, e.store)
}

// TestEarlyLockRefused: when another writer holds the key, the early
// lock has no majority: its leases are released and the PUT locks in
// rounds as before (a conditional one gives up after LockWait, an
// unconditional one waits for the lease); when the other writer holds
// only a minority, the early lock wins.
func TestEarlyLockRefused(t *testing.T) {
	e, rt := shortLeaseEnv(t)
	data := randBytes(8, 2<<20)
	if _, _, err := e.store.lockKey(ctxb, rt, "b", "k", false, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{IfNoneMatch: "*"})
	if !errors.Is(err, ErrConditionalConflict) {
		t.Fatalf("conditional streamed PUT on a locked key: %v", err)
	}
	if n := e.store.locks.held(); n != 4 {
		time.Sleep(50 * time.Millisecond)
		if n = e.store.locks.held(); n != 4 {
			t.Fatalf("%d leases held after the refused PUT, want the holder's 4", n)
		}
	}
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
		t.Fatalf("unconditional streamed PUT after the lease: %v", err)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Fatal("the lease was not respected")
	}
	if n := e.store.early.Load(); n != 0 {
		t.Fatalf("%d early locks against a held key", n)
	}
	e.mustRead("b", "k", data)
	waitNoLeases(t, e.store)

	// A writer holding a minority (1 of 4 drives) does not stop it.
	owner := newOwner("other")
	if !e.store.locks.acquire(lockName{drive: rt.drives[0].id, bucket: "b", key: "k"}, owner, time.Minute) {
		t.Fatal("lease refused")
	}
	before := asked(e.store)
	data2 := randBytes(9, 2<<20)
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(data2), int64(len(data2)), PutOptions{}); err != nil {
		t.Fatalf("PUT against a minority lease: %v", err)
	}
	if n := asked(e.store) - before; n != 4 || e.store.early.Load() != 1 {
		t.Fatalf("asked %d leases, %d early locks; want 4 and 1 (the early lock had a majority)", n, e.store.early.Load())
	}
	e.mustRead("b", "k", data2)
}

// TestEarlyLockReleasedOnFailure: a streamed PUT that fails after its
// writes (a Content-MD5 that does not match, too few drives) leaves no
// lease behind.
func TestEarlyLockReleasedOnFailure(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(10, 2<<20)
	wrong := md5.Sum([]byte("not the body"))
	_, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{ContentMD5: wrong[:]})
	if !errors.Is(err, ErrBadDigest) {
		t.Fatalf("PUT with a wrong Content-MD5: %v", err)
	}
	waitNoLeases(t, e.store)

	pg := e.pgDrives("b", "k")
	pg[0].failWrites.Store(true)
	pg[1].failWrites.Store(true)
	var qe *QuorumError
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{}); !errors.As(err, &qe) {
		t.Fatalf("PUT with 2 of 4 drives failing: %v", err)
	}
	waitNoLeases(t, e.store)
}

// TestWriteShardLockRemote: dp.write_shard with an owner takes the lock
// after the write and answers it (refused for another owner: the write
// still counts); without one it takes none, as a node that predates early
// locks answers.
func TestWriteShardLockRemote(t *testing.T) {
	c := newTestCluster(t, 2, 1, 1, 1)
	ctx := context.Background()
	rd := &remoteDrive{tr: c.trs[0], addr: c.trs[1].Addr(), driveID: c.drives[1][0].id}
	remote := c.stores[1]
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 1, Size: 1, K: 1, M: 1, Inline: []byte("x")}
	if err := rd.CommitVersion(ctx, fi); err != nil {
		t.Fatal(err)
	}
	n, la, err := rd.WriteShardLock(ctx, "aa01", bytes.NewReader([]byte("shard")), "b", "k", "w1", time.Minute)
	if err != nil || n != 5 || la == nil || !la.granted || len(la.kv.Versions) != 1 || la.kv.Versions[0].VersionID != "v1" {
		t.Fatalf("WriteShardLock = %d, %+v, %v; want the lease and the key's version", n, la, err)
	}
	if remote.locks.held() != 1 {
		t.Fatalf("%d leases held, want 1", remote.locks.held())
	}
	n, la, err = rd.WriteShardLock(ctx, "aa02", bytes.NewReader([]byte("shard")), "b", "k", "w2", time.Minute)
	if err != nil || n != 5 || la == nil || la.granted {
		t.Fatalf("WriteShardLock of a held key = %d, %+v, %v; want the write, the lease refused", n, la, err)
	}
	if _, _, err := rd.WriteShardLock(ctx, "aa03", bytes.NewReader([]byte("shard")), "b", "k", "w3", time.Hour); err == nil {
		t.Fatal("a lease over the limit was accepted")
	}
	if err := rd.UnlockKey(ctx, "b", "k", "w1"); err != nil {
		t.Fatal(err)
	}
	if n, err := rd.WriteShard(ctx, "aa04", bytes.NewReader([]byte("shard"))); err != nil || n != 5 || remote.locks.held() != 0 {
		t.Fatalf("plain WriteShard = %d, %v, %d leases held", n, err, remote.locks.held())
	}
}

// TestEarlyLockMultiNode: a streamed PUT whose drives are on other nodes
// takes its lock with the shard writes (dp.write_shard), and every node
// is left without a lease once it is committed.
func TestEarlyLockMultiNode(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	data := randBytes(11, 2<<20)
	c.put(t, 0, "b", "k", data)
	if n := c.stores[0].early.Load(); n != 1 {
		t.Fatalf("%d early locks, want 1", n)
	}
	for _, s := range c.stores {
		waitNoLeases(t, s)
	}
	c.mustRead(t, 1, "b", "k", data)
}
