package dataplane

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/rpc"
)

// driveOps are the operations on one drive's shards, records and uploads
// that the coordinator makes on any PG drive, local or remote.
type driveOps interface {
	WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error)
	AbortShard(ctx context.Context, dataDir string) error
	CommitVersion(ctx context.Context, fi drive.FileInfo) error
	ReadVersions(ctx context.Context, bucket, key string, ref drive.Ref, limit int) (drive.KeyVersions, error)
	DeleteVersion(ctx context.Context, bucket, key string, ref drive.Ref) error
	SetTags(ctx context.Context, bucket, key string, ref drive.Ref, tags map[string]string, tagTime int64) error
	OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error)
	CreateUpload(ctx context.Context, u drive.Upload) error
	CommitPart(ctx context.Context, u drive.Upload, p drive.Part) error
	ReadUpload(ctx context.Context, bucket, key, uploadID string, after, limit int) (drive.Upload, []drive.Part, bool, error)
	AbortUpload(ctx context.Context, bucket, key, uploadID string) error
	RestoreVersion(ctx context.Context, fi drive.FileInfo, shards map[string]string) error
}

// shardStore is one PG drive as the coordinator uses it. localStore
// implements it for this node's drives, remoteDrive over rpc for the
// others, offlineDrive for drives that cannot be reached.
type shardStore interface {
	driveOps

	// LockKey takes the per-key write lock of this drive for owner (see
	// lock.go) and, when granted, reads the key's versions as ReadVersions
	// (ref zero, readLimit) under it. A key without versions gives an
	// empty KeyVersions, not ErrNotFound.
	LockKey(ctx context.Context, bucket, key, owner string, ttl time.Duration) (bool, drive.KeyVersions, error)
	// UnlockKey releases a lock LockKey granted to owner.
	UnlockKey(ctx context.Context, bucket, key, owner string) error
	// CommitUnlock is CommitVersion, then UnlockKey of owner's lock of
	// fi's key (whatever the commit's outcome), in one call: a writer is
	// done with a drive once it committed there. unlocked reports that the
	// lock is known released (else the caller unlocks as usual).
	CommitUnlock(ctx context.Context, fi drive.FileInfo, owner string) (unlocked bool, err error)
	// VerifyShard reads blocks [from, to) of the shard file dataDir of an
	// object of layout lay where the drive is (no shard bytes cross the
	// network) and checks every block's CRC: nil, or an error wrapping
	// errChecksum, errShardShort or drive.ErrNotFound for a bad shard.
	VerifyShard(ctx context.Context, dataDir string, lay layout, from, to int64) error
}

// localDrive is one of this node's drives: the drive operations of a
// shardStore plus the node-level ones (listing, dropping a bucket).
// *drive.Drive implements it; unit tests wrap it to inject faults.
type localDrive interface {
	driveOps
	List(ctx context.Context, bucket string, o drive.ListOptions) ([]drive.ListEntry, bool, error)
	ListUploads(ctx context.Context, bucket string, o drive.ListOptions) ([]drive.UploadEntry, bool, error)
	DropBucket(ctx context.Context, bucket string) error
	DropKeys(ctx context.Context, match func(bucket, key string) bool, guard func(fn func() error) error) (int, error)
	// Orphan sweep (sweep.go) and the refill that gates it; MarkRefill
	// keeps a queued refill across restarts.
	SweepOrphans(ctx context.Context, minAge time.Duration) (drive.SweepStats, error)
	IndexResets() int
	ResetsRefilled(resets int)
	MarkRefill(pending bool) error
}

// readLimit is how many of a key's newest versions a read asks each drive
// for: enough to see past failed writes to the current version, and to
// tell whether a version asked for by id is the latest.
const readLimit = 32

// localStore is a local drive as a shardStore: drive calls go straight to
// it, locks to this node's lock table.
type localStore struct {
	localDrive
	s  *Store
	id string
}

func (l localStore) LockKey(ctx context.Context, bucket, key, owner string, ttl time.Duration) (bool, drive.KeyVersions, error) {
	return l.s.lockLocal(ctx, l.localDrive, l.id, bucket, key, owner, ttl)
}

// WriteShardLock is WriteShard, then LockKey (shardLockWriter).
func (l localStore) WriteShardLock(ctx context.Context, dataDir string, r io.Reader, bucket, key, owner string, ttl time.Duration) (int64, *lockAnswer, error) {
	n, err := l.localDrive.WriteShard(ctx, dataDir, r)
	if err != nil {
		return n, nil, err
	}
	granted, kv, err := l.s.lockLocal(ctx, l.localDrive, l.id, bucket, key, owner, ttl)
	if err != nil {
		l.s.log.Debug("lock after shard write failed", "drive", l.id, "bucket", bucket, "key", key, "err", err)
		return n, nil, nil
	}
	return n, &lockAnswer{granted: granted, kv: kv}, nil
}

func (l localStore) VerifyShard(ctx context.Context, dataDir string, lay layout, from, to int64) error {
	return verifyShard(ctx, l.localDrive, dataDir, lay, from, to)
}

func (l localStore) CommitUnlock(ctx context.Context, fi drive.FileInfo, owner string) (bool, error) {
	err := l.localDrive.CommitVersion(ctx, fi)
	l.s.locks.release(lockName{drive: l.id, bucket: fi.Bucket, key: fi.Key}, owner)
	return true, err
}

func (l localStore) UnlockKey(_ context.Context, bucket, key, owner string) error {
	l.s.locks.release(lockName{drive: l.id, bucket: bucket, key: key}, owner)
	return nil
}

// lockLocal is LockKey on local drive d.
func (s *Store) lockLocal(ctx context.Context, d localDrive, id, bucket, key, owner string, ttl time.Duration) (bool, drive.KeyVersions, error) {
	name := lockName{drive: id, bucket: bucket, key: key}
	if !s.locks.acquire(name, owner, ttl) {
		return false, drive.KeyVersions{}, nil
	}
	kv, err := d.ReadVersions(ctx, bucket, key, drive.Ref{}, readLimit)
	if errors.Is(err, drive.ErrNotFound) {
		return true, drive.KeyVersions{}, nil
	}
	if err != nil {
		s.locks.release(name, owner)
		return false, drive.KeyVersions{}, err
	}
	return true, kv, nil
}

// rpc methods served by every node for its local drives.
const (
	methodWriteShard    = "dp.write_shard"    // hdr wireReq{Drive,DataDir[,Bucket,Key,Owner,TTL]}, body shard stream -> hdr wireN[, body frame(wireLock, Target's Inline) of the lock taken after the write]
	methodAbortShard    = "dp.abort_shard"    // hdr wireReq{Drive,DataDir}
	methodCommit        = "dp.commit"         // hdr wireReq{Drive[,Owner]}, body frame(FileInfo without Inline, Inline); reply hdr "unlocked" when Owner's lock was released
	methodReadVersions  = "dp.read_versions"  // hdr wireReq{Drive,Bucket,Key,Ref,Limit} -> body frame(KeyVersions, Target's Inline)
	methodDeleteVersion = "dp.delete_version" // hdr wireReq{Drive,Bucket,Key,Ref}
	methodSetTags       = "dp.set_tags"       // hdr wireReq{Drive,Bucket,Key,Ref,Tags,TagTime}
	methodOpenShard     = "dp.open_shard"     // hdr wireReq{Drive,DataDir,Offset,Length} -> body shard bytes
	methodCreateUpload  = "dp.create_upload"  // hdr wireReq{Drive,Upload}
	methodCommitPart    = "dp.commit_part"    // hdr wireReq{Drive,Upload,Part}
	methodReadUpload    = "dp.read_upload"    // hdr wireReq{Drive,Bucket,Key,UploadID,After,Limit} -> body JSON wireUpload
	methodAbortUpload   = "dp.abort_upload"   // hdr wireReq{Drive,Bucket,Key,UploadID}
	methodLockKey       = "dp.lock_key"       // hdr wireReq{Drive,Bucket,Key,Owner,TTL} -> body frame(wireLock, Target's Inline)
	methodUnlockKey     = "dp.unlock_key"     // hdr wireReq{Drive,Bucket,Key,Owner}
	methodListNode      = "dp.list_node"      // hdr wireReq{Bucket,List} -> body JSON listPage
	methodDropBucket    = "dp.drop_bucket"    // hdr wireReq{Bucket}
	methodRestore       = "dp.restore"        // hdr wireReq{Drive,Shards (data dir -> temporary shard)}, body frame(FileInfo without Inline, Inline)
	methodVerifyShard   = "dp.verify_shard"   // hdr wireReq{Drive,DataDir,Layout,From,To}
	methodFence         = "dp.fence"          // hdr wireReq{Epoch}: returns once the epoch is applied and older writes finished
	methodDropPGs       = "dp.drop_pgs"       // hdr wireReq{Drive,PGs}: purge moved PGs from an old drive
)

// wireReq is the header of every dp.* call; each method uses some fields.
type wireReq struct {
	Drive    string            `json:"drive,omitempty"`
	DataDir  string            `json:"data_dir,omitempty"`
	Bucket   string            `json:"bucket,omitempty"`
	Key      string            `json:"key,omitempty"`
	Offset   int64             `json:"offset,omitempty"`
	Length   int64             `json:"length,omitempty"`
	Ref      *drive.Ref        `json:"ref,omitempty"`
	Limit    int               `json:"limit,omitempty"`
	After    int               `json:"after,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	TagTime  int64             `json:"tag_time,omitempty"`
	Upload   *drive.Upload     `json:"upload,omitempty"`
	Part     *drive.Part       `json:"part,omitempty"`
	UploadID string            `json:"upload_id,omitempty"`
	Owner    string            `json:"owner,omitempty"`
	TTL      time.Duration     `json:"ttl,omitempty"`
	List     *listReq          `json:"list,omitempty"`
	Shards   map[string]string `json:"shards,omitempty"`
	Layout   *wireLayout       `json:"layout,omitempty"`
	From     int64             `json:"from,omitempty"`
	To       int64             `json:"to,omitempty"`
	Epoch    uint64            `json:"epoch,omitempty"`
	PGs      pgSet             `json:"pgs,omitempty"`
}

// wireLayout is a layout on the wire (dp.verify_shard).
type wireLayout struct {
	Size      int64 `json:"size"`
	BlockSize int64 `json:"block_size"`
	K         int   `json:"k"`
	M         int   `json:"m"`
}

// wireN is the response header of dp.write_shard.
type wireN struct {
	N int64 `json:"n"`
}

// wireUpload is the reply of dp.read_upload.
type wireUpload struct {
	Upload drive.Upload `json:"upload"`
	Parts  []drive.Part `json:"parts,omitempty"`
	More   bool         `json:"more,omitempty"`
}

// wireLock is the reply of dp.lock_key.
type wireLock struct {
	Granted  bool              `json:"granted"`
	Versions drive.KeyVersions `json:"versions"`
}

// Internal errors. errUnreachable marks a drive that could not be asked (no
// route, connection failure); errNoDrive is a node answering that it has no
// such drive. Both count as unavailable rather than corrupt.
var (
	errUnreachable = errors.New("dataplane: drive unreachable")
	errNoDrive     = errors.New("dataplane: no such drive on node")
	errBadRequest  = errors.New("dataplane: malformed request")
)

// errorCodes maps drive and dataplane sentinels to rpc error codes and back:
// the one table both directions use. Read-only.
var errorCodes = [...]struct {
	code string
	err  error
}{
	{"not_found", drive.ErrNotFound},
	{"drive_closed", drive.ErrClosed},
	{"foreign_cluster", drive.ErrForeignCluster},
	{"bad_name", drive.ErrBadName},
	{"no_drive", errNoDrive},
	{"bad_request", errBadRequest},
	{"shard_checksum", errChecksum},
	{"shard_short", errShardShort},
	{"stale_placement", errStalePlacement},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

// toRPCError turns a handler error into the *rpc.Error the caller decodes.
func toRPCError(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return &rpc.Error{Code: e.code, Message: err.Error()}
		}
	}
	return err // sent as code "internal"
}

// fromRemote maps an error of rpc.Call or of a streamed body back to the
// sentinels: a *rpc.RemoteError with a known code wraps its sentinel (and the
// remote error), any other remote code stays as is, and every other error —
// dial, handshake, broken connection — wraps errUnreachable.
func fromRemote(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var re *rpc.RemoteError
	if errors.As(err, &re) {
		for _, e := range errorCodes {
			if re.Code == e.code {
				return fmt.Errorf("%w: %w", e.err, err)
			}
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", errUnreachable, err)
}

// unavailable reports whether err means the drive could not be asked, as
// opposed to a drive that answered with missing or bad data.
func unavailable(err error) bool {
	return errors.Is(err, errUnreachable) || errors.Is(err, errNoDrive) || errors.Is(err, drive.ErrClosed)
}

// offlineDrive is a PG drive with no route: its node is unknown, has no
// address, or is this node but the drive is not open here.
type offlineDrive struct{ id string }

func (o offlineDrive) err() error { return fmt.Errorf("%w: %s", errUnreachable, o.id) }

func (o offlineDrive) WriteShard(context.Context, string, io.Reader) (int64, error) {
	return 0, o.err()
}
func (o offlineDrive) AbortShard(context.Context, string) error            { return o.err() }
func (o offlineDrive) CommitVersion(context.Context, drive.FileInfo) error { return o.err() }
func (o offlineDrive) ReadVersions(context.Context, string, string, drive.Ref, int) (drive.KeyVersions, error) {
	return drive.KeyVersions{}, o.err()
}
func (o offlineDrive) DeleteVersion(context.Context, string, string, drive.Ref) error {
	return o.err()
}
func (o offlineDrive) SetTags(context.Context, string, string, drive.Ref, map[string]string, int64) error {
	return o.err()
}
func (o offlineDrive) OpenShard(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, o.err()
}
func (o offlineDrive) CreateUpload(context.Context, drive.Upload) error           { return o.err() }
func (o offlineDrive) CommitPart(context.Context, drive.Upload, drive.Part) error { return o.err() }
func (o offlineDrive) ReadUpload(context.Context, string, string, string, int, int) (drive.Upload, []drive.Part, bool, error) {
	return drive.Upload{}, nil, false, o.err()
}
func (o offlineDrive) AbortUpload(context.Context, string, string, string) error { return o.err() }
func (o offlineDrive) RestoreVersion(context.Context, drive.FileInfo, map[string]string) error {
	return o.err()
}
func (o offlineDrive) VerifyShard(context.Context, string, layout, int64, int64) error {
	return o.err()
}
func (o offlineDrive) LockKey(context.Context, string, string, string, time.Duration) (bool, drive.KeyVersions, error) {
	return false, drive.KeyVersions{}, o.err()
}
func (o offlineDrive) UnlockKey(context.Context, string, string, string) error { return o.err() }
func (o offlineDrive) CommitUnlock(context.Context, drive.FileInfo, string) (bool, error) {
	return false, o.err()
}

// Frames: a JSON value and raw bytes in one body, as
// [uvarint len(json)][json][raw].

// maxFrame bounds a frame's JSON and raw part: a 10,000-part record is
// about 1.5 MB of JSON, an inline shard at most a few hundred KB.
const maxFrame = 64 << 20

func encodeFrame(v any, raw []byte) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(js)+len(raw)), uint64(len(js)))
	out = append(out, js...)
	return append(out, raw...), nil
}

func decodeFrame(body []byte, v any) (raw []byte, err error) {
	n, w := binary.Uvarint(body)
	if w <= 0 || n > uint64(len(body)-w) {
		return nil, fmt.Errorf("%w: bad frame", errBadRequest)
	}
	if err := json.Unmarshal(body[w:w+int(n)], v); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return body[w+int(n):], nil
}

// readBody reads a whole response or request body, at most maxFrame bytes.
func readBody(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxFrame+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFrame {
		return nil, fmt.Errorf("%w: body over %d bytes", errBadRequest, maxFrame)
	}
	return b, nil
}

// remoteDrive is a drive of another node, reached through its rpc handlers.
type remoteDrive struct {
	tr      *rpc.Transport
	addr    string
	driveID string
	nodeID  string
	down    func(nodeID string) bool // Config.Down; nil: never down
}

// call sends req to the drive's node and returns the response, errors
// mapped. A node gossip declared down is not asked.
func (r *remoteDrive) call(ctx context.Context, method string, req wireReq, body io.Reader) (*rpc.Response, error) {
	if r.down != nil && r.down(r.nodeID) {
		return nil, fmt.Errorf("%w: drive %s: node %s is down", errUnreachable, r.driveID, r.nodeID)
	}
	req.Drive = r.driveID
	return callNode(ctx, r.tr, r.addr, method, req, body)
}

// callSimple is a call whose reply carries nothing but its error.
func (r *remoteDrive) callSimple(ctx context.Context, method string, req wireReq, body io.Reader) error {
	resp, err := r.call(ctx, method, req, body)
	if err != nil {
		return err
	}
	return finish(resp)
}

// callBody is a call whose reply is a body read whole.
func (r *remoteDrive) callBody(ctx context.Context, method string, req wireReq) ([]byte, error) {
	return replyBody(r.call(ctx, method, req, nil))
}

// replyBody reads the body of a call's reply whole (an error of the call
// is returned as is).
func replyBody(resp *rpc.Response, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	b, err := readBody(resp.Body)
	if resp.Body != nil {
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, fromRemote(err)
	}
	return b, nil
}

// callNode is one dp.* call to the node at addr.
func callNode(ctx context.Context, tr *rpc.Transport, addr, method string, req wireReq, body io.Reader) (*rpc.Response, error) {
	hdr, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	resp, err := tr.Call(ctx, addr, method, hdr, body)
	if err != nil {
		return nil, fromRemote(err)
	}
	return resp, nil
}

// finish drains and closes a response body so its connection is reused.
func finish(resp *rpc.Response) error {
	if resp.Body == nil {
		return nil
	}
	_, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return fromRemote(err)
}

func (r *remoteDrive) WriteShard(ctx context.Context, dataDir string, body io.Reader) (int64, error) {
	n, _, err := r.writeShard(ctx, wireReq{DataDir: dataDir}, body)
	return n, err
}

// WriteShardLock is WriteShard, then LockKey, in one call
// (shardLockWriter). A node that predates it ignores the lock fields and
// replies without a lock: the answer is then nil.
func (r *remoteDrive) WriteShardLock(ctx context.Context, dataDir string, body io.Reader, bucket, key, owner string, ttl time.Duration) (int64, *lockAnswer, error) {
	return r.writeShard(ctx, wireReq{DataDir: dataDir, Bucket: bucket, Key: key, Owner: owner, TTL: ttl}, body)
}

// writeShard sends dp.write_shard and reads its reply: the bytes stored
// and, when the node took a lock after the write, its answer.
func (r *remoteDrive) writeShard(ctx context.Context, req wireReq, body io.Reader) (int64, *lockAnswer, error) {
	resp, err := r.call(ctx, methodWriteShard, req, body)
	if err != nil {
		return 0, nil, err
	}
	var out wireN
	if err := json.Unmarshal(resp.Header, &out); err != nil {
		_ = finish(resp)
		return 0, nil, fmt.Errorf("dataplane: %s reply: %w", methodWriteShard, err)
	}
	b, err := replyBody(resp, nil)
	if err != nil || len(b) == 0 {
		return out.N, nil, err
	}
	la, err := decodeLockReply(b, methodWriteShard)
	return out.N, la, err
}

func (r *remoteDrive) AbortShard(ctx context.Context, dataDir string) error {
	return r.callSimple(ctx, methodAbortShard, wireReq{DataDir: dataDir}, nil)
}

func (r *remoteDrive) CommitVersion(ctx context.Context, fi drive.FileInfo) error {
	_, err := r.commit(ctx, fi, "")
	return err
}

func (r *remoteDrive) CommitUnlock(ctx context.Context, fi drive.FileInfo, owner string) (bool, error) {
	return r.commit(ctx, fi, owner)
}

// commit sends dp.commit; with an owner the node also releases owner's
// lock of the key and says so in its reply header (a node that predates
// this ignores the owner and replies without it).
func (r *remoteDrive) commit(ctx context.Context, fi drive.FileInfo, owner string) (unlocked bool, err error) {
	inline := fi.Inline
	fi.Inline = nil
	body, err := encodeFrame(wireFI{FI: fi, HasInline: inline != nil}, inline)
	if err != nil {
		return false, err
	}
	resp, err := r.call(ctx, methodCommit, wireReq{Owner: owner}, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	unlocked = owner != "" && string(resp.Header) == replyUnlocked
	return unlocked, finish(resp)
}

// replyUnlocked is dp.commit's reply header when it released the lock.
const replyUnlocked = "unlocked"

// wireFI carries a FileInfo whose Inline travels raw after it.
type wireFI struct {
	FI        drive.FileInfo `json:"fi"`
	HasInline bool           `json:"has_inline,omitempty"`
}

// wireVersions is the reply of dp.read_versions.
type wireVersions struct {
	KV        drive.KeyVersions `json:"kv"`
	HasInline bool              `json:"has_inline,omitempty"`
}

// encodeVersions frames kv with its target's inline bytes raw.
func encodeVersions(v any, kv *drive.KeyVersions) ([]byte, error) {
	var inline []byte
	if kv.Target != nil && kv.Target.Inline != nil {
		t := *kv.Target
		inline = t.Inline
		t.Inline = nil
		kv.Target = &t
	}
	switch w := v.(type) {
	case *wireVersions:
		w.HasInline = inline != nil
	case *wireLockReply:
		w.HasInline = inline != nil
	}
	return encodeFrame(v, inline)
}

// wireLockReply is the framed reply of dp.lock_key.
type wireLockReply struct {
	wireLock
	HasInline bool `json:"has_inline,omitempty"`
}

// restoreInline puts a frame's raw bytes back as the target's Inline.
func restoreInline(kv *drive.KeyVersions, has bool, raw []byte) {
	if has && kv.Target != nil {
		kv.Target.Inline = bytes.Clone(raw)
	}
}

func (r *remoteDrive) ReadVersions(ctx context.Context, bucket, key string, ref drive.Ref, limit int) (drive.KeyVersions, error) {
	b, err := r.callBody(ctx, methodReadVersions, wireReq{Bucket: bucket, Key: key, Ref: &ref, Limit: limit})
	if err != nil {
		return drive.KeyVersions{}, err
	}
	var w wireVersions
	raw, err := decodeFrame(b, &w)
	if err != nil {
		return drive.KeyVersions{}, fmt.Errorf("dataplane: %s reply: %w", methodReadVersions, err)
	}
	restoreInline(&w.KV, w.HasInline, raw)
	return w.KV, nil
}

func (r *remoteDrive) DeleteVersion(ctx context.Context, bucket, key string, ref drive.Ref) error {
	return r.callSimple(ctx, methodDeleteVersion, wireReq{Bucket: bucket, Key: key, Ref: &ref}, nil)
}

func (r *remoteDrive) SetTags(ctx context.Context, bucket, key string, ref drive.Ref, tags map[string]string, tagTime int64) error {
	return r.callSimple(ctx, methodSetTags, wireReq{Bucket: bucket, Key: key, Ref: &ref, Tags: tags, TagTime: tagTime}, nil)
}

func (r *remoteDrive) OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error) {
	resp, err := r.call(ctx, methodOpenShard, wireReq{DataDir: dataDir, Offset: offset, Length: length}, nil)
	if err != nil {
		return nil, err
	}
	return remoteBody{resp.Body}, nil
}

func (r *remoteDrive) CreateUpload(ctx context.Context, u drive.Upload) error {
	return r.callSimple(ctx, methodCreateUpload, wireReq{Upload: &u}, nil)
}

func (r *remoteDrive) CommitPart(ctx context.Context, u drive.Upload, p drive.Part) error {
	return r.callSimple(ctx, methodCommitPart, wireReq{Upload: &u, Part: &p}, nil)
}

func (r *remoteDrive) ReadUpload(ctx context.Context, bucket, key, uploadID string, after, limit int) (drive.Upload, []drive.Part, bool, error) {
	b, err := r.callBody(ctx, methodReadUpload, wireReq{Bucket: bucket, Key: key, UploadID: uploadID, After: after, Limit: limit})
	if err != nil {
		return drive.Upload{}, nil, false, err
	}
	var w wireUpload
	if err := json.Unmarshal(b, &w); err != nil {
		return drive.Upload{}, nil, false, fmt.Errorf("dataplane: %s reply: %w", methodReadUpload, err)
	}
	return w.Upload, w.Parts, w.More, nil
}

func (r *remoteDrive) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	return r.callSimple(ctx, methodAbortUpload, wireReq{Bucket: bucket, Key: key, UploadID: uploadID}, nil)
}

func (r *remoteDrive) RestoreVersion(ctx context.Context, fi drive.FileInfo, shards map[string]string) error {
	inline := fi.Inline
	fi.Inline = nil
	body, err := encodeFrame(wireFI{FI: fi, HasInline: inline != nil}, inline)
	if err != nil {
		return err
	}
	return r.callSimple(ctx, methodRestore, wireReq{Shards: shards}, bytes.NewReader(body))
}

func (r *remoteDrive) VerifyShard(ctx context.Context, dataDir string, lay layout, from, to int64) error {
	wl := &wireLayout{Size: lay.size, BlockSize: lay.blockSize, K: lay.k, M: lay.m}
	return r.callSimple(ctx, methodVerifyShard, wireReq{DataDir: dataDir, Layout: wl, From: from, To: to}, nil)
}

func (r *remoteDrive) LockKey(ctx context.Context, bucket, key, owner string, ttl time.Duration) (bool, drive.KeyVersions, error) {
	b, err := r.callBody(ctx, methodLockKey, wireReq{Bucket: bucket, Key: key, Owner: owner, TTL: ttl})
	if err != nil {
		return false, drive.KeyVersions{}, err
	}
	la, err := decodeLockReply(b, methodLockKey)
	if err != nil {
		return false, drive.KeyVersions{}, err
	}
	return la.granted, la.kv, nil
}

// lockReply encodes a lock's answer as dp.lock_key (and dp.write_shard
// with an owner) reply: frame(wireLock, Target's Inline).
func lockReply(granted bool, kv drive.KeyVersions) (io.ReadCloser, error) {
	reply := &wireLockReply{wireLock: wireLock{Granted: granted, Versions: kv}}
	body, err := encodeVersions(reply, &reply.Versions)
	if err != nil {
		return nil, err
	}
	return bodyReply(body), nil
}

// decodeLockReply decodes what lockReply encoded, the reply of method.
func decodeLockReply(b []byte, method string) (*lockAnswer, error) {
	var w wireLockReply
	raw, err := decodeFrame(b, &w)
	if err != nil {
		return nil, fmt.Errorf("dataplane: %s reply: %w", method, err)
	}
	restoreInline(&w.Versions, w.HasInline, raw)
	return &lockAnswer{granted: w.Granted, kv: w.Versions}, nil
}

func (r *remoteDrive) UnlockKey(ctx context.Context, bucket, key, owner string) error {
	return r.callSimple(ctx, methodUnlockKey, wireReq{Bucket: bucket, Key: key, Owner: owner}, nil)
}

// remoteBody maps the errors of a streamed response body.
type remoteBody struct{ io.ReadCloser }

func (b remoteBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	return n, fromRemote(err)
}

// validDataDir accepts the shard file names the coordinator makes (hex
// ids) and similar plain names; it refuses anything that could leave the
// drive's shard folder.
func validDataDir(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// registerHandlers serves this node's drives to the other nodes.
func (s *Store) registerHandlers(tr *rpc.Transport) {
	tr.Handle(methodWriteShard, s.handleWriteShard)
	tr.Handle(methodAbortShard, s.handleAbortShard)
	tr.Handle(methodCommit, s.handleCommit)
	tr.Handle(methodReadVersions, s.handleReadVersions)
	tr.Handle(methodDeleteVersion, s.handleDeleteVersion)
	tr.Handle(methodSetTags, s.handleSetTags)
	tr.Handle(methodOpenShard, s.handleOpenShard)
	tr.Handle(methodCreateUpload, s.handleCreateUpload)
	tr.Handle(methodCommitPart, s.handleCommitPart)
	tr.Handle(methodReadUpload, s.handleReadUpload)
	tr.Handle(methodAbortUpload, s.handleAbortUpload)
	tr.Handle(methodLockKey, s.handleLockKey)
	tr.Handle(methodUnlockKey, s.handleUnlockKey)
	tr.Handle(methodListNode, s.handleListNode)
	tr.Handle(methodKeyOps, s.handleKeyOps)
	tr.Handle(methodDropBucket, s.handleDropBucket)
	tr.Handle(methodRestore, s.handleRestore)
	tr.Handle(methodVerifyShard, s.handleVerifyShard)
	tr.Handle(methodFence, s.handleFence)
	tr.Handle(methodDropPGs, s.handleDropPGs)
}

func (s *Store) handleFence(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(s.fenceEpoch(ctx, w.Epoch))
}

func (s *Store) handleDropPGs(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	_, err = s.dropPGsLocal(ctx, w.Drive, w.PGs)
	return nil, nil, toRPCError(err)
}

// decodeReq parses the header and, when needsDrive, finds the local drive.
func (s *Store) decodeReq(req *rpc.Request, needsDrive bool) (wireReq, localDrive, error) {
	var w wireReq
	if err := json.Unmarshal(req.Header, &w); err != nil {
		return w, nil, &rpc.Error{Code: "bad_request", Message: err.Error()}
	}
	if !needsDrive {
		return w, nil, nil
	}
	d, ok := s.local[w.Drive]
	if !ok {
		return w, nil, &rpc.Error{Code: "no_drive", Message: "no drive " + w.Drive + " on node " + s.cfg.NodeID}
	}
	return w, d, nil
}

func badRequest(format string, args ...any) error {
	return &rpc.Error{Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

// bodyReply wraps bytes as a response body.
func bodyReply(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func (s *Store) handleWriteShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badRequest("invalid data dir %q", w.DataDir)
	}
	if w.Owner != "" && (w.TTL <= 0 || w.TTL > maxLockTTL) {
		return nil, nil, badRequest("lock with ttl %v", w.TTL)
	}
	n, err := d.WriteShard(ctx, w.DataDir, req.Body)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	hdr, err := json.Marshal(wireN{N: n})
	if err != nil || w.Owner == "" {
		return hdr, nil, err
	}
	// The writer asks for the key's lock too (shardLockWriter): a lock
	// that cannot be taken is no answer, not a failed write.
	granted, kv, err := s.lockLocal(ctx, d, w.Drive, w.Bucket, w.Key, w.Owner, w.TTL)
	if err != nil {
		s.log.Debug("lock after shard write failed", "drive", w.Drive, "bucket", w.Bucket, "key", w.Key, "err", err)
		return hdr, nil, nil
	}
	body, err := lockReply(granted, kv)
	return hdr, body, err
}

func (s *Store) handleAbortShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badRequest("invalid data dir %q", w.DataDir)
	}
	return nil, nil, toRPCError(d.AbortShard(ctx, w.DataDir))
}

func (s *Store) handleCommit(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	wr, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(req.Body)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	var w wireFI
	raw, err := decodeFrame(body, &w)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	fi := w.FI
	fi.Inline = nil
	if w.HasInline {
		fi.Inline = raw
	}
	err = d.CommitVersion(ctx, fi)
	if wr.Owner == "" {
		return nil, nil, toRPCError(err)
	}
	s.locks.release(lockName{drive: wr.Drive, bucket: fi.Bucket, key: fi.Key}, wr.Owner)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	return []byte(replyUnlocked), nil, nil
}

func (s *Store) handleRestore(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	for dd, tmp := range w.Shards {
		if !validDataDir(dd) || !validDataDir(tmp) {
			return nil, nil, badRequest("invalid data dir %q or temporary shard %q", dd, tmp)
		}
	}
	body, err := readBody(req.Body)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	var wf wireFI
	raw, err := decodeFrame(body, &wf)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	fi := wf.FI
	fi.Inline = nil
	if wf.HasInline {
		fi.Inline = raw
	}
	return nil, nil, toRPCError(d.RestoreVersion(ctx, fi, w.Shards))
}

func (s *Store) handleVerifyShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badRequest("invalid data dir %q", w.DataDir)
	}
	l := w.Layout
	if l == nil || l.Size < 0 || l.BlockSize <= 0 || l.K <= 0 || l.M < 0 || l.K+l.M > 256 {
		return nil, nil, badRequest("verify shard without a valid layout")
	}
	lay := layout{size: l.Size, blockSize: l.BlockSize, k: l.K, m: l.M}
	if w.From < 0 || w.To > lay.blocks() || w.From > w.To {
		return nil, nil, badRequest("verify shard: blocks [%d, %d) of %d", w.From, w.To, lay.blocks())
	}
	return nil, nil, toRPCError(verifyShard(ctx, d, w.DataDir, lay, w.From, w.To))
}

func refOrZero(r *drive.Ref) drive.Ref {
	if r == nil {
		return drive.Ref{}
	}
	return *r
}

func (s *Store) handleReadVersions(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	kv, err := d.ReadVersions(ctx, w.Bucket, w.Key, refOrZero(w.Ref), w.Limit)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	reply := &wireVersions{KV: kv}
	body, err := encodeVersions(reply, &reply.KV)
	if err != nil {
		return nil, nil, err
	}
	return nil, bodyReply(body), nil
}

func (s *Store) handleDeleteVersion(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(d.DeleteVersion(ctx, w.Bucket, w.Key, refOrZero(w.Ref)))
}

func (s *Store) handleSetTags(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(d.SetTags(ctx, w.Bucket, w.Key, refOrZero(w.Ref), w.Tags, w.TagTime))
}

func (s *Store) handleOpenShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badRequest("invalid data dir %q", w.DataDir)
	}
	rc, err := d.OpenShard(ctx, w.DataDir, w.Offset, w.Length)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	return nil, rc, nil
}

func (s *Store) handleCreateUpload(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if w.Upload == nil {
		return nil, nil, badRequest("create upload without an upload")
	}
	return nil, nil, toRPCError(d.CreateUpload(ctx, *w.Upload))
}

func (s *Store) handleCommitPart(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if w.Upload == nil || w.Part == nil {
		return nil, nil, badRequest("commit part without upload or part")
	}
	return nil, nil, toRPCError(d.CommitPart(ctx, *w.Upload, *w.Part))
}

func (s *Store) handleReadUpload(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	u, parts, more, err := d.ReadUpload(ctx, w.Bucket, w.Key, w.UploadID, w.After, w.Limit)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	body, err := json.Marshal(wireUpload{Upload: u, Parts: parts, More: more})
	if err != nil {
		return nil, nil, err
	}
	return nil, bodyReply(body), nil
}

func (s *Store) handleAbortUpload(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(d.AbortUpload(ctx, w.Bucket, w.Key, w.UploadID))
}

// maxLockTTL bounds the lease a peer may ask for.
const maxLockTTL = 10 * time.Minute

func (s *Store) handleLockKey(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if w.Owner == "" || w.TTL <= 0 || w.TTL > maxLockTTL {
		return nil, nil, badRequest("lock without owner or with ttl %v", w.TTL)
	}
	granted, kv, err := s.lockLocal(ctx, d, w.Drive, w.Bucket, w.Key, w.Owner, w.TTL)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	body, err := lockReply(granted, kv)
	return nil, body, err
}

func (s *Store) handleUnlockKey(_ context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	s.locks.release(lockName{drive: w.Drive, bucket: w.Bucket, key: w.Key}, w.Owner)
	return nil, nil, nil
}

func (s *Store) handleListNode(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	if w.List == nil {
		return nil, nil, badRequest("list without a request")
	}
	lr := *w.List
	lr.Limit = clampLimit(lr.Limit)
	page := s.listLocal(ctx, w.Bucket, lr)
	body, err := encodeNodePage(page, lr.Enc)
	if err != nil {
		return nil, nil, err
	}
	return nil, bodyReply(body), nil
}

func (s *Store) handleDropBucket(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(s.dropLocal(ctx, w.Bucket))
}
