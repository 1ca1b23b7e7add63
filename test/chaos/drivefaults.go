package chaos

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/strata-io/strata/adminapi"
)

// The drive faults. Each picks one drive of one node with the seed. The
// node's last drive takes the faults that would otherwise hit the Raft
// state on its first drive (removed) or need the small file system (full).

// shardFiles lists the committed shard files of drive.
func shardFiles(drive string) []string {
	var files []string
	_ = filepath.WalkDir(filepath.Join(drive, "shards"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files
}

// records are the values of the records of a drive's bbolt index, one
// after the other: a shard file that a record refers to is named in them
// (in hex in version records, as raw bytes in part lists). all holds every
// record, objects the object versions' (in the "objects" bucket of the
// index: those the scanner verifies; the others are parts of multipart
// uploads in progress), cold those of the workload's cold keys
// (Workload.Cold).
type records struct{ all, objects, cold []byte }

// indexRecords reads a drive's index. The node holds it open and locked,
// so a copy is read; a copy caught in the middle of a commit may be
// inconsistent (bbolt's check says so, or reading it panics) and is taken
// again.
func indexRecords(drive string) (records, error) {
	var err error
	for range 5 {
		var recs records
		if recs, err = readIndexCopy(filepath.Join(drive, "index.db")); err == nil {
			return recs, nil
		}
	}
	return records{}, err
}

func readIndexCopy(src string) (recs records, err error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return recs, err
	}
	tmp, err := os.CreateTemp("", "chaos-index-*.db")
	if err != nil {
		return recs, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return recs, err
	}
	db, err := bolt.Open(tmp.Name(), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return recs, err
	}
	defer db.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("index copy of %s: %v", src, r)
		}
	}()
	var walk func(b *bolt.Bucket, objects, cold bool) error
	walk = func(b *bolt.Bucket, objects, cold bool) error {
		return b.ForEach(func(k, v []byte) error {
			isCold := cold || objects && bytes.HasPrefix(k, []byte(coldPrefix))
			if v == nil {
				return walk(b.Bucket(k), objects, isCold)
			}
			recs.all = append(recs.all, v...)
			if objects {
				recs.objects = append(recs.objects, v...)
			}
			if isCold {
				recs.cold = append(recs.cold, v...)
			}
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("index copy of %s: %w", src, err)
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(b, string(name) == "objects", false) })
	})
	return recs, err
}

// referenced reports whether the shard file named name (hex) is named in
// the records.
func referenced(recs []byte, name string) bool {
	if len(recs) == 0 {
		return false
	}
	if bytes.Contains(recs, []byte(name)) {
		return true
	}
	raw, err := hex.DecodeString(name)
	return err == nil && bytes.Contains(recs, raw)
}

// orphanShards counts the shard files of drive that no record refers to:
// space nothing will free (writes and deletes cut by faults leave them).
func orphanShards(drive string) (int, error) {
	recs, err := indexRecords(drive)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range shardFiles(drive) {
		if !referenced(recs.all, filepath.Base(f)) {
			n++
		}
	}
	return n, nil
}

// flip is one flipped bit: where, and the byte it had.
type flip struct {
	path string
	off  int64
	orig byte
}

// bitrot flips one bit in each of up to 8 shard files of a running node's
// drive, files that an object version of the drive's index refers to (not
// orphans, nor parts of uploads in progress, which nothing reads or
// verifies), and watches, in the background, until every flipped file
// holds its old byte again (repaired by the scanner or by a read) or is
// gone with its version (no version refers to it any more).
func (in *injector) bitrot(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	ev.Target = n.ID + "/" + filepath.Base(drive)
	recs, err := indexRecords(drive)
	if err != nil {
		return err
	}
	// Up to 6 files of cold keys (they stay: their repair is what gets
	// timed), the rest of any key in use.
	var cold, hot []string
	for _, f := range shardFiles(drive) {
		switch name := filepath.Base(f); {
		case referenced(recs.cold, name):
			cold = append(cold, f)
		case referenced(recs.objects, name):
			hot = append(hot, f)
		}
	}
	r.Shuffle(len(cold), func(i, j int) { cold[i], cold[j] = cold[j], cold[i] })
	r.Shuffle(len(hot), func(i, j int) { hot[i], hot[j] = hot[j], hot[i] })
	files := append(cold[:min(len(cold), 6)], hot...)
	if len(files) == 0 {
		ev.Detail = "no shard files in use yet"
		return nil
	}
	var flips []flip
	for _, p := range files[:min(len(files), 8)] {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		st, err := f.Stat()
		if err != nil || st.Size() == 0 {
			f.Close()
			continue
		}
		off := r.Int64N(st.Size())
		b := []byte{0}
		if _, err := f.ReadAt(b, off); err == nil {
			orig, bit := b[0], byte(1)<<r.IntN(8)
			b[0] ^= bit
			if _, err := f.WriteAt(b, off); err == nil {
				flips = append(flips, flip{p, off, orig})
				in.note("fault bitrot: %s offset %d bit %#02x flipped", p, off, bit)
			}
		}
		f.Close()
	}
	start := time.Now()
	nCold := 0
	for _, fl := range flips {
		if referenced(recs.cold, filepath.Base(fl.path)) {
			nCold++
		}
	}
	ev.Detail = fmt.Sprintf("%d shard file(s) corrupted, %d of cold keys", len(flips), nCold)
	if len(flips) > 0 {
		var lastRecs time.Time
		unreferenced := map[string]bool{}
		in.watch(ctx, ev, start, func(context.Context) (bool, string) {
			// A flipped file is repaired when it holds its old byte
			// again, and out of the picture when no record refers to it
			// any more (its version overwritten or deleted). A file
			// missing meanwhile (a drive pulled or refilled) is neither.
			repaired, dropped := 0, 0
			var left []flip
			for _, fl := range flips {
				b := []byte{0}
				f, err := os.Open(fl.path)
				if err == nil {
					_, err = f.ReadAt(b, fl.off)
					f.Close()
				}
				if err == nil && b[0] == fl.orig {
					repaired++
				} else {
					left = append(left, fl)
				}
			}
			if len(left) > 0 && time.Since(lastRecs) > 3*time.Second {
				lastRecs = time.Now()
				if recs, err := indexRecords(drive); err == nil {
					for _, fl := range left {
						unreferenced[fl.path] = !referenced(recs.objects, filepath.Base(fl.path))
					}
				}
			}
			for _, fl := range left {
				if unreferenced[fl.path] {
					dropped++
				}
			}
			return repaired+dropped == len(flips), fmt.Sprintf("%d of %d flipped files restored, %d gone with their version", repaired, len(flips), dropped)
		})
	}
	in.sleep(ctx, in.jitter(r, 2*time.Second, 4*time.Second))
	return nil
}

// index stops a node, flips bits in its drive's bbolt index (in records
// and in the pages' structure of live leaf pages), restarts it, and
// watches until the drive is online and not being refilled. The index is
// expected to be found damaged, the drive taken offline and refilled from
// the other drives, never trusted: no corrupt byte served, no acknowledged
// write lost. If the node does not come up at all (a crash: the run fails),
// the drive is wiped as an operator would and the node started again, so
// that the rest of the run still means something.
func (in *injector) index(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	ev.Target = n.ID + "/" + filepath.Base(drive)
	in.note("fault index: kill -9 %s (pid %d)", n.ID, n.PID())
	n.Kill()
	flips, ferr := flipIndex(filepath.Join(drive, "index.db"), r)
	if ferr != nil {
		flips += ": " + ferr.Error()
	}
	ev.Detail = flips
	in.note("fault index: %s: %s", ev.Target, flips)
	start := time.Now()
	err := in.restart(ctx, ev, []*Node{n})
	if err != nil {
		in.note("fault index: %s did not come up with the damaged index (%v): wiping %s and starting it again", n.ID, err, drive)
		n.Kill()
		if werr := wipe(drive); werr != nil {
			return errors.Join(err, werr)
		}
		if rerr := in.restart(ctx, ev, []*Node{n}); rerr != nil {
			return errors.Join(err, rerr)
		}
		ev.Detail += "; the node did not start with it: drive wiped"
	}
	in.watchDrive(ctx, ev, n, drive, start)
	return errors.Join(ferr, err)
}

// wipe empties a drive folder (an empty disk in its place).
func wipe(drive string) error {
	if err := os.RemoveAll(drive); err != nil {
		return err
	}
	return os.MkdirAll(drive, 0o750)
}

// watchDrive watches, in the background, node n's drive at path until its
// node reports it online and not being refilled, after having seen it
// offline or refilling (or, when never seen so, 10 s after the watch
// began: the damage went unnoticed, which the description says).
func (in *injector) watchDrive(ctx context.Context, ev *FaultEvent, n *Node, path string, from time.Time) {
	began, pid := time.Now(), n.PID()
	var offline, refilled, restarted string
	in.watch(ctx, ev, from, func(ctx context.Context) (bool, string) {
		// A refill cut by a restart is not resumed by the node: say so.
		if p := n.PID(); p != pid && restarted == "" {
			restarted = fmt.Sprintf(" (%s stopped or restarted during the watch by another fault)", n.ID)
		}
		st, err := in.statusOf(ctx, n)
		if err != nil {
			return false, "status: " + err.Error()
		}
		d, heal, ok := driveOf(st, n.ID, path)
		if !ok {
			return false, "drive not in the status of " + n.ID
		}
		refilling := heal != nil && slices.Contains(heal.Refilling, d.ID)
		if !d.Online && offline == "" {
			offline = fmt.Sprintf("offline after %.1fs (%s)", time.Since(from).Seconds(), d.Error)
		}
		if refilling && refilled == "" {
			refilled = fmt.Sprintf("refilling after %.1fs", time.Since(from).Seconds())
		}
		seen := strings.Trim(offline+", "+refilled, ", ")
		if !d.Online || refilling {
			return false, "seen " + seen + restarted
		}
		if seen != "" {
			return true, "seen " + seen + "; then online and not refilling" + restarted
		}
		return time.Since(began) > 10*time.Second, "online throughout, never refilled: no sign the damage was noticed" + restarted
	})
}

// driveOf finds the drive at path of node id in a cluster status.
func driveOf(st adminapi.ClusterStatus, id, path string) (adminapi.DriveStatus, *adminapi.NodeHeal, bool) {
	for _, ns := range st.Nodes {
		if ns.ID != id {
			continue
		}
		for _, d := range ns.Drives {
			if filepath.Clean(d.Path) == filepath.Clean(path) {
				return d, ns.Heal, true
			}
		}
	}
	return adminapi.DriveStatus{}, nil, false
}

// bbolt's page layout (go.etcd.io/bbolt/internal/common/page.go): a
// 16-byte header (id, flags, count, overflow), then for a leaf page count
// 16-byte elements (flags, pos, ksize, vsize; pos from the element's own
// start) followed by the keys and values.
const (
	boltPageHeader = 16
	boltLeafElem   = 16
)

// flipIndex flips one bit in each of four values (records) and one bit
// anywhere in the used part (header, elements, keys, values) of live leaf
// pages of the bbolt file at path, which no process may hold open. It
// describes what it did.
func flipIndex(path string, r *rand.Rand) (string, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: 5 * time.Second})
	if err != nil {
		return "index not opened", err
	}
	pageSize := db.Info().PageSize
	var leaves []int
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "leaf" && p.Count > 0 {
				leaves = append(leaves, id)
			}
			id += p.OverflowCount
		}
	})
	db.Close()
	if err != nil {
		return "index pages not read", err
	}
	if len(leaves) == 0 {
		return "no live leaf page", nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var done []string
	pages := map[int]bool{}
	for i := range 5 {
		id := leaves[r.IntN(len(leaves))]
		hdr := make([]byte, boltPageHeader)
		if _, err := f.ReadAt(hdr, int64(id*pageSize)); err != nil {
			return strings.Join(done, ", "), err
		}
		count := int(binary.LittleEndian.Uint16(hdr[10:]))
		overflow := int(binary.LittleEndian.Uint32(hdr[12:]))
		page := make([]byte, (1+overflow)*pageSize)
		if _, err := f.ReadAt(page, int64(id*pageSize)); err != nil {
			return strings.Join(done, ", "), err
		}
		// The used part ends with the last key or value.
		used := boltPageHeader + count*boltLeafElem
		type kv struct{ off, n int }
		var values []kv
		for e := range count {
			eo := boltPageHeader + e*boltLeafElem
			pos := int(binary.LittleEndian.Uint32(page[eo+4:]))
			ks := int(binary.LittleEndian.Uint32(page[eo+8:]))
			vs := int(binary.LittleEndian.Uint32(page[eo+12:]))
			if end := eo + pos + ks + vs; end <= len(page) {
				used = max(used, end)
				if vs > 0 {
					values = append(values, kv{eo + pos + ks, vs})
				}
			}
		}
		var off int
		what := "structure"
		if i < 4 && len(values) > 0 {
			v := values[r.IntN(len(values))]
			off, what = v.off+r.IntN(v.n), "value"
		} else {
			off = r.IntN(min(used, len(page)))
		}
		bit := byte(1) << r.IntN(8)
		b := []byte{page[off] ^ bit}
		if _, err := f.WriteAt(b, int64(id*pageSize+off)); err != nil {
			return strings.Join(done, ", "), err
		}
		pages[id] = true
		done = append(done, fmt.Sprintf("page %d+%d bit %#02x (%s)", id, off, bit, what))
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d bits flipped in %d live leaf page(s) of %d: %s", len(done), len(pages), len(leaves), strings.Join(done, ", ")), nil
}

// hide hides a drive's committed shards under a 256 KiB tmpfs mounted on
// <drive>/shards: reads find no shard files, writes fill it (ENOSPC) or
// cannot rename across it (EXDEV). Unmounting brings the old files back,
// without those written meanwhile: a drive that lost recent files. It
// needs CAP_SYS_ADMIN (mount).
func (in *injector) hide(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	target := filepath.Join(drive, "shards")
	ev.Target = n.ID + "/" + filepath.Base(drive) + "/shards"
	if err := os.MkdirAll(target, 0o750); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "chaos-drive-fault", target).CombinedOutput(); err != nil {
		return fmt.Errorf("mount tmpfs on %s (needs root with CAP_SYS_ADMIN): %v: %s", target, err, strings.TrimSpace(string(out)))
	}
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	in.note("fault hide: %s hidden under a 256 KiB tmpfs for %s", target, hold)
	ev.Detail = "shards/ hidden for " + hold.Round(time.Millisecond).String()
	in.sleep(ctx, hold)
	if out, err := exec.Command("umount", "-l", target).CombinedOutput(); err != nil {
		return fmt.Errorf("umount %s: %v: %s", target, err, strings.TrimSpace(string(out)))
	}
	in.note("fault hide: %s back", target)
	ev.Healed = in.h.Now()
	return nil
}

// unreadable takes every permission off a drive folder (chmod 000) for a
// while: the node, which runs without CAP_DAC_OVERRIDE, can no longer open
// anything in it by path (the index it holds open stays usable).
func (in *injector) unreadable(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	ev.Target = n.ID + "/" + filepath.Base(drive)
	fi, err := os.Stat(drive)
	if err != nil {
		return err
	}
	if err := os.Chmod(drive, 0); err != nil {
		return err
	}
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	in.note("fault unreadable: chmod 000 %s for %s", drive, hold)
	ev.Detail = fmt.Sprintf("chmod 000 for %s", hold.Round(time.Millisecond))
	in.sleep(ctx, hold)
	if err := os.Chmod(drive, fi.Mode().Perm()); err != nil {
		return err
	}
	in.note("fault unreadable: %s back to %v", drive, fi.Mode().Perm())
	ev.Healed = in.h.Now()
	return nil
}

// removed renames a node's last drive folder away while the node runs (a
// pulled disk: paths vanish, files it holds open stay), then either puts it
// back (re-inserted, with whatever it missed) or replaces it with an empty
// folder and restarts the node, which formats it with the old drive id and
// refills it from the other drives; the refill is timed.
func (in *injector) removed(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[len(n.Drives)-1]
	ev.Target = n.ID + "/" + filepath.Base(drive)
	away := drive + ".removed"
	if err := os.Rename(drive, away); err != nil {
		return err
	}
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	in.note("fault removed: %s renamed away for %s", drive, hold)
	in.sleep(ctx, hold)
	if r.IntN(2) == 0 {
		ev.Detail = fmt.Sprintf("pulled for %s, put back", hold.Round(time.Millisecond))
		if err := os.Rename(away, drive); err != nil {
			return err
		}
		in.note("fault removed: %s put back", drive)
		ev.Healed = in.h.Now()
		return nil
	}
	ev.Detail = fmt.Sprintf("pulled for %s, replaced by an empty drive", hold.Round(time.Millisecond))
	in.note("fault removed: kill -9 %s (pid %d), %s replaced by an empty folder", n.ID, n.PID(), drive)
	n.Kill()
	if err := errors.Join(os.RemoveAll(away), os.MkdirAll(drive, 0o750)); err != nil {
		return err
	}
	start := time.Now()
	if err := in.restart(ctx, ev, []*Node{n}); err != nil {
		return err
	}
	in.watchDrive(ctx, ev, n, drive, start)
	return nil
}

// full fills the small file system of a node's last drive (ClusterConfig.
// SmallDrive) with a ballast file until it answers ENOSPC, holds, and
// removes the ballast.
func (in *injector) full(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	var nodes []*Node
	for _, n := range in.running() {
		if n.Mount != "" {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return errors.New("full: " + in.c.FaultOff(FaultFull))
	}
	n := nodes[r.IntN(len(nodes))]
	ev.Target = n.ID + "/" + filepath.Base(n.Drives[len(n.Drives)-1])
	ballast := filepath.Join(n.Mount, "chaos-ballast")
	wrote, left, err := fill(ballast, n.Mount)
	defer os.Remove(ballast)
	if err != nil {
		return err
	}
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	ev.Detail = fmt.Sprintf("%d MiB of ballast, %d KiB left, for %s", wrote>>20, left>>10, hold.Round(time.Millisecond))
	in.note("fault full: %s filled: %s", n.Mount, ev.Detail)
	in.sleep(ctx, hold)
	if err := os.Remove(ballast); err != nil {
		return err
	}
	in.note("fault full: %s freed", n.Mount)
	ev.Healed = in.h.Now()
	return nil
}

// fill writes path until its file system is full and returns the bytes
// written and the bytes the file system still reports free.
func fill(path, mount string) (int64, int64, error) {
	avail := func() int64 {
		var st syscall.Statfs_t
		if syscall.Statfs(mount, &st) != nil {
			return 0
		}
		return int64(st.Bavail) * st.Bsize
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if a := avail(); a > 8<<20 {
		_ = syscall.Fallocate(int(f.Fd()), 0, 0, a-4<<20) // fast; the rest is written
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return 0, 0, err
	}
	for _, chunk := range []int{1 << 20, 4 << 10} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return 0, 0, err
				}
				break
			}
		}
	}
	_ = f.Sync() // ENOSPC here too is the point
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return st.Size(), avail(), nil
}

func (in *injector) fsync(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	delay := time.Duration(100+r.IntN(400)) * time.Millisecond
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	ev.Target = n.ID
	ev.Detail = fmt.Sprintf("fsync +%s for %s", delay, hold.Round(time.Millisecond))
	if err := os.WriteFile(n.FsyncControl(), []byte(delay.String()), 0o644); err != nil {
		return err
	}
	in.note("fault fsync: %s drives fsync +%s", n.ID, delay)
	in.sleep(ctx, hold)
	if err := os.WriteFile(n.FsyncControl(), nil, 0o644); err != nil {
		return err
	}
	in.note("fault fsync: %s back to normal", n.ID)
	ev.Healed = in.h.Now()
	return nil
}
