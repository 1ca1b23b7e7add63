package drive

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

// Sentinel errors. Match with errors.Is.
var (
	ErrNotFound       = errors.New("drive: not found") // no record for bucket/key, or no shard file
	ErrForeignCluster = errors.New("drive: belongs to another cluster")
	ErrUnknownFormat  = errors.New("drive: unknown format version")
	ErrClosed         = errors.New("drive: closed")
)

// FileInfo is one drive's record of one object version: what the coordinator
// wrote with CommitVersion, returned unchanged by ReadVersion and List.
type FileInfo struct {
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	VersionID string            `json:"version_id"`           // unique per write
	ModTime   int64             `json:"mod_time"`             // unix nanoseconds, set by the coordinator
	Deleted   bool              `json:"deleted,omitempty"`    // tombstone: the key was deleted at ModTime
	Size      int64             `json:"size"`                 // object size in bytes
	ETag      string            `json:"etag,omitempty"`       // quoted-less hex, e.g. MD5
	Meta      map[string]string `json:"meta,omitempty"`       // content-type, x-amz-meta-*, checksums ...
	K         int               `json:"k,omitempty"`          // data shards
	M         int               `json:"m,omitempty"`          // parity shards
	BlockSize int64             `json:"block_size,omitempty"` // bytes of object per erasure block
	Shard     int               `json:"shard"`                // index (0..K+M-1) of the shard this drive holds
	DataDir   string            `json:"data_dir,omitempty"`   // shard file id; empty when inline or deleted
	Inline    []byte            `json:"inline,omitempty"`     // this drive's shard bytes when stored inline
}

// ListEntry is one item of a List page: an object record, or a common prefix
// when a delimiter collapsed several keys.
type ListEntry struct {
	Name   string   // object key, or the common prefix (ending in the delimiter)
	Prefix bool     // true for a common prefix
	Info   FileInfo // the record, without Inline; zero for a prefix
}

// Options configures Open.
type Options struct {
	FS     FS           // file system seam; nil means the real OS file system
	Logger *slog.Logger // nil means discard
}

// Format is the content of the drive's format file.
type Format struct {
	Version   int    `json:"version"`
	DriveID   string `json:"drive_id"`
	ClusterID string `json:"cluster_id,omitempty"` // empty until BindCluster
	NodeID    string `json:"node_id,omitempty"`
}

// Drive is one local drive folder: format file, bbolt index, shard files.
// Safe for concurrent use.
type Drive struct {
	// unexported fields: owned by the drive implementation
}

// Open opens the drive folder dir, creating and formatting it (new drive id,
// no cluster id yet) when it holds no format file. A format file of an unknown
// version gives ErrUnknownFormat; an unreadable folder gives the OS error.
func Open(dir string, opts Options) (*Drive, error) { panic("drive: not implemented") }

// ID returns the drive's id from its format file.
func (d *Drive) ID() string { panic("drive: not implemented") }

// Path returns the drive folder.
func (d *Drive) Path() string { panic("drive: not implemented") }

// Format returns the current format file content.
func (d *Drive) Format() Format { panic("drive: not implemented") }

// Bind records clusterID and nodeID in the format file (fsync'd) when it has
// none, and returns ErrForeignCluster when it holds a different cluster id.
func (d *Drive) Bind(clusterID, nodeID string) error { panic("drive: not implemented") }

// WriteShard streams r into a temporary shard file named dataDir, fsyncs and
// closes it. The shard is invisible until CommitVersion names it.
func (d *Drive) WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error) {
	panic("drive: not implemented")
}

// AbortShard removes a temporary shard file written by WriteShard.
func (d *Drive) AbortShard(ctx context.Context, dataDir string) error {
	panic("drive: not implemented")
}

// CommitVersion makes fi the current record of fi.Bucket/fi.Key: it moves the
// temporary shard fi.DataDir (if any) into place, fsyncs, and writes fi to the
// index in one bbolt transaction. A record with an older ModTime than the one
// stored is ignored (returns nil). The replaced version's shard file is removed.
func (d *Drive) CommitVersion(ctx context.Context, fi FileInfo) error {
	panic("drive: not implemented")
}

// ReadVersion returns the current record of bucket/key, ErrNotFound if none.
func (d *Drive) ReadVersion(ctx context.Context, bucket, key string) (FileInfo, error) {
	panic("drive: not implemented")
}

// OpenShard opens the committed shard file dataDir for reading length bytes
// from offset (length < 0: to the end).
func (d *Drive) OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error) {
	panic("drive: not implemented")
}

// List returns up to limit entries of bucket in key order, with keys that
// start with prefix and sort after `after`. With a delimiter, keys whose rest
// after prefix contains it are collapsed into one Prefix entry (and the scan
// skips past them). Tombstones are included (Info.Deleted). more reports
// whether entries remain after the last one returned.
func (d *Drive) List(ctx context.Context, bucket, prefix, delimiter, after string, limit int) (entries []ListEntry, more bool, err error) {
	panic("drive: not implemented")
}

// DropBucket removes every record and shard of bucket from this drive.
func (d *Drive) DropBucket(ctx context.Context, bucket string) error { panic("drive: not implemented") }

// Close closes the index; further calls return ErrClosed.
func (d *Drive) Close() error { panic("drive: not implemented") }
