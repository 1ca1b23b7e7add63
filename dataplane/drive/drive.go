package drive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors. Match with errors.Is.
var (
	ErrNotFound       = errors.New("drive: not found") // no record for bucket/key, or no shard file
	ErrForeignCluster = errors.New("drive: belongs to another cluster")
	ErrUnknownFormat  = errors.New("drive: unknown format version")
	ErrClosed         = errors.New("drive: closed")

	// ErrForeignNode: the drive is bound to this cluster but to another
	// node. Moving a drive between nodes must be an explicit operator action.
	ErrForeignNode = errors.New("drive: belongs to another node")
	// ErrBadName: a bucket, key or shard id is empty, too long, or holds
	// characters that are not allowed (shard ids: [A-Za-z0-9_-], 1..64).
	ErrBadName = errors.New("drive: invalid name")
	// ErrBadRange: OpenShard was given a negative offset or one past the end
	// of the shard file.
	ErrBadRange = errors.New("drive: invalid shard range")
	// ErrInUse: the drive's index is locked by another process (or by another
	// Open of the same folder in this process).
	ErrInUse = errors.New("drive: in use by another process")
	// ErrCorrupt: the format file or an index record cannot be decoded. The
	// drive never overwrites what it cannot read.
	ErrCorrupt = errors.New("drive: corrupt")
)

// FileInfo is one drive's record of one object version: what the coordinator
// wrote with CommitVersion, returned by ReadVersion, ReadVersions and List.
//
// A key holds any number of versions, ordered newest first by ModTime
// (descending) then VersionID (ascending); see CompareVersions. At most one
// of them is the null version (Null): committing a null version replaces
// the previous one. A record without data is a delete marker (Deleted), or,
// with Tombstone also set, the trace of an unversioned delete, which readers
// never report as a version.
//
// An empty (non-nil) Meta or Tags map is returned as nil; Inline keeps the
// nil/empty distinction.
type FileInfo struct {
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	VersionID string            `json:"version_id"`          // unique per write (the null version has one too)
	Null      bool              `json:"null,omitempty"`      // the key's null version
	ModTime   int64             `json:"mod_time"`            // unix nanoseconds, set by the coordinator
	Deleted   bool              `json:"deleted,omitempty"`   // delete marker (or tombstone): no data
	Tombstone bool              `json:"tombstone,omitempty"` // with Deleted: an unversioned delete, never listed
	Size      int64             `json:"size"`                // object size in bytes
	ETag      string            `json:"etag,omitempty"`      // quoted-less hex, e.g. MD5
	Meta      map[string]string `json:"meta,omitempty"`      // content-type, x-amz-meta-*, ...
	Tags      map[string]string `json:"tags,omitempty"`      // object tags
	TagTime   int64             `json:"tag_time,omitempty"`  // when Tags were last set (orders tag updates)

	ChecksumAlgo  string `json:"checksum_algo,omitempty"`  // object checksum: algorithm,
	ChecksumValue string `json:"checksum_value,omitempty"` // base64 value,
	ChecksumType  string `json:"checksum_type,omitempty"`  // and type (FULL_OBJECT, COMPOSITE)

	K         int    `json:"k,omitempty"`          // data shards
	M         int    `json:"m,omitempty"`          // parity shards
	BlockSize int64  `json:"block_size,omitempty"` // bytes of object per erasure block
	Shard     int    `json:"shard"`                // index (0..K+M-1) of the shard this drive holds
	DataDir   string `json:"data_dir,omitempty"`   // shard file id; empty when inline, deleted or multipart

	// Multipart objects: the upload that made the version, and its parts in
	// object order, each erasure-coded on its own (its own shard file,
	// Part.DataDir). Parts is not returned by List or ReadVersions (only
	// PartCount); Missing lists the part numbers this drive holds no shard
	// of (it missed their upload).
	UploadID  string `json:"upload_id,omitempty"`
	Parts     []Part `json:"parts,omitempty"`
	PartCount int    `json:"part_count,omitempty"`
	Missing   []int  `json:"missing,omitempty"`

	Inline []byte `json:"inline,omitempty"` // this drive's shard bytes when stored inline
}

// Part is one part of a multipart upload (CommitPart, ReadUpload) or of a
// completed multipart object (FileInfo.Parts).
type Part struct {
	Number   int    `json:"n"`
	Size     int64  `json:"s"`
	ETag     string `json:"e,omitempty"` // hex MD5 of the part
	Checksum string `json:"c,omitempty"` // base64 checksum of the upload's algorithm
	DataDir  string `json:"d"`           // the part's shard file
	ModTime  int64  `json:"t,omitempty"` // upload parts only: when it was uploaded
}

// Upload is one drive's record of a multipart upload in progress: the
// attributes of the object it will become and its erasure geometry (every
// part is coded with K, M and BlockSize; this drive holds shard Shard).
type Upload struct {
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	UploadID     string            `json:"upload_id"`
	Initiated    int64             `json:"initiated"` // unix nanoseconds
	Meta         map[string]string `json:"meta,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	ChecksumAlgo string            `json:"checksum_algo,omitempty"`
	ChecksumType string            `json:"checksum_type,omitempty"`
	// ChecksumDefaulted: the client named no algorithm at creation.
	ChecksumDefaulted bool  `json:"checksum_defaulted,omitempty"`
	K                 int   `json:"k"`
	M                 int   `json:"m"`
	BlockSize         int64 `json:"block_size"`
	Shard             int   `json:"shard"`
}

// ListEntry is one item of a List page: a key with some of its versions
// (newest first, without Inline or Parts), or a common prefix when a
// delimiter collapsed several keys.
type ListEntry struct {
	Name     string     // object key, or the common prefix (ending in the delimiter)
	Prefix   bool       // true for a common prefix
	Versions []FileInfo // the key's versions returned by this page; nil for a prefix
	// More: the key has versions after the last one returned (Latest mode:
	// more than the per-key cap; Versions mode: the page ended inside it).
	More bool
}

// DefaultLockTimeout is how long Open waits for the index lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = 2 * time.Second

// Options configures Open.
type Options struct {
	FS     FS           // file system seam; nil means the real OS file system (OSFS)
	Logger *slog.Logger // nil means discard
	// LockTimeout bounds the wait for the index lock held by another
	// process; Open then fails with ErrInUse. Zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// FormatID is the drive id given to a folder that Open formats (one
	// without a format file): an empty drive replacing a failed one keeps
	// the failed drive's id, so the placement still names it and healing
	// refills it. Empty means a new random id. Ignored when the folder
	// already has a format file.
	FormatID string

	// checkBelow overrides checkAtOpenBelow (tests); negative: never at
	// Open after a clean shutdown.
	checkBelow int64
}

// Format is the content of the drive's format file.
type Format struct {
	Version   int    `json:"version"`
	DriveID   string `json:"drive_id"`
	ClusterID string `json:"cluster_id,omitempty"` // empty until Bind
	NodeID    string `json:"node_id,omitempty"`
}

// Drive is one local drive folder: format file, bbolt index, shard files.
// Safe for concurrent use.
//
// On disk (see schema.go): <dir>/strata.format, <dir>/index.db,
// <dir>/tmp/<dataDir> (shards being written, emptied by Open) and
// <dir>/shards/<dataDir[:2]>/<dataDir> (committed shards). A shard file is
// referenced by at most one index record; the record is written only after
// the shard is durable in shards/.
type Drive struct {
	dir string
	fs  FS
	log *slog.Logger
	db  *indexDB // the bbolt index behind the integrity guard (integrity.go)
	id  string   // immutable copy of format.DriveID

	lockTimeout time.Duration         // Options.LockTimeout, for the index lock
	closeWait   time.Duration         // bounds the wait for a damaged index to close (closeBolt)
	damage      atomic.Pointer[error] // non-nil while the index is damaged: the drive is offline
	resetMu     sync.Mutex            // guards indexResets, refilled and onReset
	indexResets int                   // damaged indexes replaced since Open (Open included)
	refilled    int                   // indexResets covered by a finished refill (ResetsRefilled)
	onReset     []func()              // OnIndexReset callbacks
	verified    atomic.Bool           // the index was checked since Open (markClean)
	stopCheck   context.CancelFunc    // stops the background check; nil if none
	checking    sync.WaitGroup        // the background check

	mu     sync.Mutex // serialises Bind (format rewrites)
	format atomic.Pointer[Format]

	formatted bool // this Open created the format file

	closed atomic.Bool
	bufs   sync.Pool // *[]byte of copyBufSize aligned for direct I/O, for WriteShard
	// noDirect: the file system refused direct I/O; shard writes go
	// through the page cache (copyShard).
	noDirect atomic.Bool
	fanout   sync.Map // names of shards/<xx> folders known durable (fsync'd in shards/)
	// pending: shards written and not committed (pending.go);
	// folderSyncs: the shared fsyncs of fan-out folders.
	pending     pendingShards
	folderSyncs folderSyncs
	// sweepMu is held shared by every commit while it sets its shard's
	// change time (chmod) or renames it into place, exclusively by the
	// orphan sweep while it checks and removes one file (sweep.go).
	sweepMu sync.RWMutex
}

// Open opens the drive folder dir, creating and formatting it (new drive id,
// no cluster id yet) when it holds no format file. A format file of an unknown
// version gives ErrUnknownFormat; an unreadable folder gives the OS error.
//
// Open takes an exclusive lock on the index: a second Open of the same folder
// (by this or another process) fails with ErrInUse after Options.LockTimeout.
// It empties tmp/ (the drive's own short-lived files; shards written and
// never committed are left to the orphan sweep).
//
// Open checks the index before bbolt opens it (after an unclean shutdown,
// or when it is small; else in the background once open; see the package
// doc): a damaged index is moved aside and the drive opens with a fresh
// empty one under its id, which IndexResets and OnIndexReset report; it
// is not an error.
func Open(dir string, opts Options) (*Drive, error) {
	if dir == "" {
		return nil, errors.New("drive: empty folder path")
	}
	dir = filepath.Clean(dir)
	fsys := opts.FS
	if fsys == nil {
		fsys = OSFS{}
	}
	if path := os.Getenv(FsyncDelayEnv); path != "" {
		fsys = fsyncDelayFS{FS: fsys, path: path} // test hook, see FsyncDelayEnv
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}

	_, statErr := fsys.Stat(dir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := fsys.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("drive %s: %w", dir, err)
	}
	st, err := fsys.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("drive %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("drive %s: not a directory", dir)
	}
	if created {
		// Make the new folder's own entry durable in its parent.
		if err := syncDir(fsys, filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("drive %s: %w", dir, err)
		}
	}
	// Check the format before touching anything else: a folder of another
	// format version or a corrupt format file is refused, not overwritten.
	if _, _, err := readFormat(fsys, dir); err != nil {
		return nil, err
	}

	if opts.FormatID != "" {
		if err := checkDataDir(opts.FormatID); err != nil {
			return nil, fmt.Errorf("drive %s: format id: %w", dir, err)
		}
	}
	d := &Drive{dir: dir, fs: fsys, log: log, lockTimeout: timeout, closeWait: closeWait}
	d.db = &indexDB{d: d}
	d.bufs.New = func() any {
		b := alignedBuf(copyBufSize)
		return &b
	}
	// A damaged index is never opened by bbolt: it is moved aside and the
	// drive starts with a fresh one, to be refilled (integrity.go).
	damage, deferred, err := d.checkAtOpen(opts.checkBelow)
	if err != nil {
		return nil, err
	}
	indexPath := filepath.Join(dir, indexFile)
	db, err := openBolt(indexPath, timeout)
	if errors.Is(err, ErrCorrupt) && damage == nil {
		// bbolt refused (or panicked on) a file the check passed.
		d.log.Error("index damaged", "path", dir, "err", err)
		if qerr := d.quarantine(); qerr != nil {
			return nil, qerr
		}
		damage = err
		db, err = openBolt(indexPath, timeout)
	}
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("drive %s: index %s is locked (drive already open by another process or Open) after %s: %w", dir, indexPath, timeout, ErrInUse)
		}
		return nil, fmt.Errorf("drive %s: open index: %w", dir, err)
	}
	d.db.db = db
	if damage != nil {
		d.noteReset()
	}
	if err := d.init(opts.FormatID); err != nil {
		_ = d.db.Close()
		return nil, err
	}
	d.log = log.With("drive_id", d.id)
	if deferred {
		d.startLiveCheck()
	}
	return d, nil
}

// init runs under the index lock: it reads (or creates, with drive id
// formatID or a new one) the format, prepares tmp/ and shards/ and the
// index's top-level buckets.
func (d *Drive) init(formatID string) error {
	// Re-read under the lock: another process may have formatted the
	// folder between the first read and taking the lock.
	f, found, err := readFormat(d.fs, d.dir)
	if err != nil {
		return err
	}
	if !found {
		if formatID == "" {
			formatID = newDriveID()
		}
		f = Format{Version: FormatVersion, DriveID: formatID}
		if err := writeFormat(d.fs, d.dir, f); err != nil {
			return err
		}
		d.formatted = true
	}
	d.id = f.DriveID
	d.format.Store(&f)

	tmp := filepath.Join(d.dir, tmpDir)
	if left, err := d.fs.ReadDir(tmp); err == nil && len(left) > 0 {
		d.log.Info("removing temporary files", "count", len(left))
	}
	if err := d.fs.RemoveAll(tmp); err != nil {
		return fmt.Errorf("drive %s: empty %s: %w", d.dir, tmp, err)
	}
	for _, sub := range []string{tmpDir, shardsDir} {
		if err := d.fs.MkdirAll(filepath.Join(d.dir, sub), dirPerm); err != nil {
			return fmt.Errorf("drive %s: %w", d.dir, err)
		}
	}
	if err := syncDir(d.fs, d.dir); err != nil {
		return fmt.Errorf("drive %s: %w", d.dir, err)
	}
	// Every fan-out folder present now is made durable once, here, so that
	// commits only fsync shards/ when they create a new one.
	shards := filepath.Join(d.dir, shardsDir)
	ents, err := d.fs.ReadDir(shards)
	if err != nil {
		return fmt.Errorf("drive %s: %w", d.dir, err)
	}
	if err := syncDir(d.fs, shards); err != nil {
		return fmt.Errorf("drive %s: %w", d.dir, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			d.fanout.Store(e.Name(), struct{}{})
		}
	}
	if err := d.probe(); err != nil {
		return err
	}
	if err := d.db.Update(createBuckets); err != nil {
		return fmt.Errorf("drive %s: init index: %w", d.dir, err)
	}
	return nil
}

// probe writes, fsyncs and removes a small file in tmp/, so that a
// read-only or broken folder fails at Open rather than at the first PUT.
func (d *Drive) probe() error {
	name := filepath.Join(d.dir, tmpDir, probeFile)
	f, err := d.fs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return fmt.Errorf("drive %s: not writable: %w", d.dir, err)
	}
	_, werr := f.Write([]byte{'x'})
	serr := f.Sync()
	cerr := f.Close()
	rerr := d.fs.Remove(name)
	if err := errors.Join(werr, serr, cerr, rerr); err != nil {
		return fmt.Errorf("drive %s: not writable: %w", d.dir, err)
	}
	return nil
}

// ID returns the drive's id from its format file.
func (d *Drive) ID() string { return d.id }

// Formatted reports whether this Open formatted the folder (it had no
// format file): a new or replacement drive, empty.
func (d *Drive) Formatted() bool { return d.formatted }

// Path returns the drive folder.
func (d *Drive) Path() string { return d.dir }

// Format returns the current format file content.
func (d *Drive) Format() Format { return *d.format.Load() }

// Close closes the index; further calls return ErrClosed. It waits for
// index transactions in progress; shard streams already open stay readable.
func (d *Drive) Close() error {
	if d.closed.Swap(true) {
		return ErrClosed
	}
	if d.stopCheck != nil {
		d.stopCheck()
		d.checking.Wait()
	}
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("drive %s: close index: %w", d.dir, err)
	}
	d.markClean()
	return nil
}

// live returns ErrClosed once Close was called, else ctx's error.
func (d *Drive) live(ctx context.Context) error {
	if d.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// dbErr maps bbolt's "database not open" (Close raced with a call) to
// ErrClosed.
func dbErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// copyBuf / putBuf lend WriteShard a pooled copy buffer.
func (d *Drive) copyBuf() *[]byte { return d.bufs.Get().(*[]byte) }
func (d *Drive) putBuf(b *[]byte) { d.bufs.Put(b) }
