package chaos

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// flipIndex damages live data of a bbolt file: five bits, none in the
// meta pages (bbolt would fall back to the other meta page and hide it).
func TestFlipIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		objs, err := tx.CreateBucket([]byte("objects"))
		if err != nil {
			return err
		}
		for b := range 3 {
			bk, err := objs.CreateBucket(fmt.Appendf(nil, "bucket-%d", b))
			if err != nil {
				return err
			}
			for k := range 200 {
				if err := bk.Put(fmt.Appendf(nil, "key-%04d", k), bytes.Repeat([]byte{byte(k)}, 100)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pageSize := db.Info().PageSize
	db.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := flipIndex(path, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for i := range before {
		if d := before[i] ^ after[i]; d != 0 {
			flipped += bits.OnesCount8(d)
			if i < 2*pageSize {
				t.Errorf("byte %d of a meta page changed", i)
			}
		}
	}
	if flipped != 5 || !strings.HasPrefix(desc, "5 bits flipped") || strings.Count(desc, "(value)") != 4 {
		t.Fatalf("%d bits differ; description %q", flipped, desc)
	}
}

// A fault the cluster cannot take says why, so a run lists it as skipped
// instead of passing silently.
func TestFaultOff(t *testing.T) {
	c := &Cluster{NetErr: "ip netns add: permission denied", NoDACErr: "setpriv (util-linux) not found",
		Nodes: []*Node{{ID: "n1"}}}
	for kind, want := range map[string]string{
		FaultPartition:  "no network namespaces: ip netns add: permission denied",
		FaultUnreadable: "nodes keep CAP_DAC_OVERRIDE: setpriv (util-linux) not found",
		FaultFull:       "the cluster has no small drive file systems",
		FaultKill:       "",
		FaultIndex:      "",
	} {
		if got := c.FaultOff(kind); got != want {
			t.Errorf("FaultOff(%s) = %q, want %q", kind, got, want)
		}
	}
	if got := (&Cluster{Nodes: []*Node{{ID: "n1"}}}).FaultOff(FaultPartition); got == "" {
		t.Error("a cluster on 127.0.0.1 takes the partition fault")
	}
}

// indexRecords tells the shard files object versions refer to (the ones
// the scanner verifies) from those of uploads in progress, and the cold
// keys' from the others.
func TestIndexRecords(t *testing.T) {
	drive := t.TempDir()
	db, err := bolt.Open(filepath.Join(drive, "index.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const cold, hot, part = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100", "0123456789abcdef0123456789abcdef"
	rawPart, _ := hex.DecodeString(part)
	err = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("objects"))
		b, _ = b.CreateBucketIfNotExists([]byte("chaos-a"))
		k, _ := b.CreateBucketIfNotExists([]byte(coldPrefix + "001"))
		if err := k.Put([]byte("v1"), []byte(`{"dd":"`+cold+`"}`)); err != nil {
			return err
		}
		if err := b.Put([]byte("k001"), []byte(`{"dd":"`+hot+`"}`)); err != nil {
			return err
		}
		u, _ := tx.CreateBucketIfNotExists([]byte("uploads"))
		return u.Put([]byte("p1"), append([]byte{32 << 2}, rawPart...))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := indexRecords(drive)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                 string
		all, objects, isCold bool
	}{{cold, true, true, true}, {hot, true, true, false}, {part, true, false, false}, {"0000", false, false, false}} {
		if referenced(recs.all, c.name) != c.all || referenced(recs.objects, c.name) != c.objects || referenced(recs.cold, c.name) != c.isCold {
			t.Errorf("%s: all %v objects %v cold %v", c.name, referenced(recs.all, c.name), referenced(recs.objects, c.name), referenced(recs.cold, c.name))
		}
	}
}
