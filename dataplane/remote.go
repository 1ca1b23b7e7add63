package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/rpc"
)

// shardStore is one PG drive as the coordinator uses it. *drive.Drive
// implements it for this node's drives, remoteDrive over rpc for the others.
type shardStore interface {
	WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error)
	AbortShard(ctx context.Context, dataDir string) error
	CommitVersion(ctx context.Context, fi drive.FileInfo) error
	ReadVersion(ctx context.Context, bucket, key string) (drive.FileInfo, error)
	OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error)
}

// localDrive is one of this node's drives: a shardStore that also lists and
// drops buckets (node-level operations). *drive.Drive implements it; unit
// tests wrap it to inject faults.
type localDrive interface {
	shardStore
	List(ctx context.Context, bucket, prefix, delimiter, after string, limit int) ([]drive.ListEntry, bool, error)
	DropBucket(ctx context.Context, bucket string) error
}

// rpc methods served by every node for its local drives.
const (
	methodWriteShard  = "dp.write_shard"  // hdr wireReq{Drive,DataDir}, body shard stream -> hdr wireN
	methodAbortShard  = "dp.abort_shard"  // hdr wireReq{Drive,DataDir}
	methodCommit      = "dp.commit"       // hdr wireReq{Drive,FI without Inline}, body Inline
	methodReadVersion = "dp.read_version" // hdr wireReq{Drive,Bucket,Key} -> hdr FileInfo without Inline, body Inline
	methodOpenShard   = "dp.open_shard"   // hdr wireReq{Drive,DataDir,Offset,Length} -> body shard bytes
	methodListNode    = "dp.list_node"    // hdr wireReq{Bucket,Prefix,Delimiter,After,Limit} -> body JSON nodePage
	methodDropBucket  = "dp.drop_bucket"  // hdr wireReq{Bucket}
)

// wireReq is the header of every dp.* call; each method uses some fields.
type wireReq struct {
	Drive     string          `json:"drive,omitempty"`
	DataDir   string          `json:"data_dir,omitempty"`
	Bucket    string          `json:"bucket,omitempty"`
	Key       string          `json:"key,omitempty"`
	Offset    int64           `json:"offset,omitempty"`
	Length    int64           `json:"length,omitempty"`
	FI        *drive.FileInfo `json:"fi,omitempty"`
	Prefix    string          `json:"prefix,omitempty"`
	Delimiter string          `json:"delimiter,omitempty"`
	After     string          `json:"after,omitempty"`
	Limit     int             `json:"limit,omitempty"`
}

// wireN is the response header of dp.write_shard.
type wireN struct {
	N int64 `json:"n"`
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
	{"no_drive", errNoDrive},
	{"bad_request", errBadRequest},
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
func (o offlineDrive) ReadVersion(context.Context, string, string) (drive.FileInfo, error) {
	return drive.FileInfo{}, o.err()
}
func (o offlineDrive) OpenShard(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, o.err()
}

// remoteDrive is a drive of another node, reached through its rpc handlers.
type remoteDrive struct {
	tr      *rpc.Transport
	addr    string
	driveID string
}

// call sends req to the drive's node and returns the response, errors mapped.
func (r *remoteDrive) call(ctx context.Context, method string, req wireReq, body io.Reader) (*rpc.Response, error) {
	req.Drive = r.driveID
	return callNode(ctx, r.tr, r.addr, method, req, body)
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
	resp, err := r.call(ctx, methodWriteShard, wireReq{DataDir: dataDir}, body)
	if err != nil {
		return 0, err
	}
	var out wireN
	if err := json.Unmarshal(resp.Header, &out); err != nil {
		_ = finish(resp)
		return 0, fmt.Errorf("dataplane: %s reply: %w", methodWriteShard, err)
	}
	return out.N, finish(resp)
}

func (r *remoteDrive) AbortShard(ctx context.Context, dataDir string) error {
	resp, err := r.call(ctx, methodAbortShard, wireReq{DataDir: dataDir}, nil)
	if err != nil {
		return err
	}
	return finish(resp)
}

func (r *remoteDrive) CommitVersion(ctx context.Context, fi drive.FileInfo) error {
	inline := fi.Inline
	fi.Inline = nil
	var body io.Reader
	if len(inline) > 0 {
		body = bytes.NewReader(inline)
	}
	resp, err := r.call(ctx, methodCommit, wireReq{FI: &fi}, body)
	if err != nil {
		return err
	}
	return finish(resp)
}

func (r *remoteDrive) ReadVersion(ctx context.Context, bucket, key string) (drive.FileInfo, error) {
	resp, err := r.call(ctx, methodReadVersion, wireReq{Bucket: bucket, Key: key}, nil)
	if err != nil {
		return drive.FileInfo{}, err
	}
	var fi drive.FileInfo
	if err := json.Unmarshal(resp.Header, &fi); err != nil {
		_ = finish(resp)
		return drive.FileInfo{}, fmt.Errorf("dataplane: %s reply: %w", methodReadVersion, err)
	}
	inline, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return drive.FileInfo{}, fromRemote(err)
	}
	if len(inline) > 0 {
		fi.Inline = inline
	}
	return fi, nil
}

func (r *remoteDrive) OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error) {
	resp, err := r.call(ctx, methodOpenShard, wireReq{DataDir: dataDir, Offset: offset, Length: length}, nil)
	if err != nil {
		return nil, err
	}
	return remoteBody{resp.Body}, nil
}

// remoteBody maps the errors of a streamed response body.
type remoteBody struct{ io.ReadCloser }

func (b remoteBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	return n, fromRemote(err)
}

// validDataDir accepts the shard file names the coordinator makes (hex uuids)
// and similar plain names; it refuses anything that could leave the drive's
// shard folder.
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
	tr.Handle(methodReadVersion, s.handleReadVersion)
	tr.Handle(methodOpenShard, s.handleOpenShard)
	tr.Handle(methodListNode, s.handleListNode)
	tr.Handle(methodDropBucket, s.handleDropBucket)
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

func badDataDir(dir string) error {
	return &rpc.Error{Code: "bad_request", Message: fmt.Sprintf("invalid data dir %q", dir)}
}

func (s *Store) handleWriteShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badDataDir(w.DataDir)
	}
	n, err := d.WriteShard(ctx, w.DataDir, req.Body)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	hdr, err := json.Marshal(wireN{N: n})
	return hdr, nil, err
}

func (s *Store) handleAbortShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badDataDir(w.DataDir)
	}
	return nil, nil, toRPCError(d.AbortShard(ctx, w.DataDir))
}

// maxInline bounds the inline body a commit may carry (a shard of an inline
// object is far smaller; this only stops a bad peer from exhausting memory).
const maxInline = 64 << 20

func (s *Store) handleCommit(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if w.FI == nil || (w.FI.DataDir != "" && !validDataDir(w.FI.DataDir)) {
		return nil, nil, &rpc.Error{Code: "bad_request", Message: "commit without a valid record"}
	}
	inline, err := io.ReadAll(io.LimitReader(req.Body, maxInline+1))
	if err != nil {
		return nil, nil, err
	}
	if len(inline) > maxInline {
		return nil, nil, &rpc.Error{Code: "bad_request", Message: "inline data too large"}
	}
	fi := *w.FI
	fi.Inline = nil
	if len(inline) > 0 {
		fi.Inline = inline
	}
	return nil, nil, toRPCError(d.CommitVersion(ctx, fi))
}

func (s *Store) handleReadVersion(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	fi, err := d.ReadVersion(ctx, w.Bucket, w.Key)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	inline := fi.Inline
	fi.Inline = nil
	hdr, err := json.Marshal(fi)
	if err != nil {
		return nil, nil, err
	}
	var body io.ReadCloser
	if len(inline) > 0 {
		body = io.NopCloser(bytes.NewReader(inline))
	}
	return hdr, body, nil
}

func (s *Store) handleOpenShard(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, d, err := s.decodeReq(req, true)
	if err != nil {
		return nil, nil, err
	}
	if !validDataDir(w.DataDir) {
		return nil, nil, badDataDir(w.DataDir)
	}
	rc, err := d.OpenShard(ctx, w.DataDir, w.Offset, w.Length)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	return nil, rc, nil
}

func (s *Store) handleListNode(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	page := s.listLocal(ctx, w.Bucket, w.Prefix, w.Delimiter, w.After, clampLimit(w.Limit))
	body, err := json.Marshal(page)
	if err != nil {
		return nil, nil, err
	}
	return nil, io.NopCloser(bytes.NewReader(body)), nil
}

func (s *Store) handleDropBucket(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	return nil, nil, toRPCError(s.dropLocal(ctx, w.Bucket))
}
