package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/minio/crc64nvme"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// Test fakes of Control and Objects: an in-memory state machine and object
// map, enough to drive the handler stack end to end.

const (
	testAccessKey = "AKIATESTROOT0000001"
	testSecretKey = "test-secret-key-0123456789abcdefghij"
	sealPrefix    = "sealed:"
)

// fakeControl applies commands to a meta.State. Buckets and users put in
// pending become visible only after a Barrier, like state a lagging
// follower has not applied yet.
type fakeControl struct {
	mu       sync.RWMutex
	st       *meta.State
	pending  *meta.State
	barriers int
	ready    bool
	// goneAtBarrier: buckets the leader deleted that this node still has;
	// a Barrier removes them.
	goneAtBarrier []string
	failNext      error // returned by the next Propose or Barrier
}

func newFakeControl() *fakeControl {
	st := meta.NewState()
	st.Cluster.ID = "test-cluster"
	st.Users[testAccessKey] = &meta.User{AccessKey: testAccessKey, SecretSealed: []byte(sealPrefix + testSecretKey), Name: "root", Root: true}
	return &fakeControl{st: st, pending: meta.NewState(), ready: true}
}

func (c *fakeControl) Propose(ctx context.Context, cmd meta.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failNext; err != nil {
		c.failNext = nil
		return err
	}
	return c.st.Apply(cmd)
}

func (c *fakeControl) View(fn func(*meta.State)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fn(c.st)
}

func (c *fakeControl) Barrier(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.barriers++
	if err := c.failNext; err != nil {
		c.failNext = nil
		return err
	}
	maps.Copy(c.st.Buckets, c.pending.Buckets)
	maps.Copy(c.st.Users, c.pending.Users)
	for _, name := range c.goneAtBarrier {
		delete(c.st.Buckets, name)
	}
	c.goneAtBarrier = nil
	c.pending = meta.NewState()
	return nil
}

func (c *fakeControl) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ready
}

func fakeUnseal(sealed []byte) (string, error) {
	s, ok := strings.CutPrefix(string(sealed), sealPrefix)
	if !ok {
		return "", fmt.Errorf("not sealed by the fake")
	}
	return s, nil
}

// fakeObjects implements the data plane contract of dataplane/api.go in
// memory: versions and delete markers newest first per key, the null
// version, multipart uploads and their parts, checksums (computed, and
// composed for multipart objects), tags and conditional writes. It is the
// reference the handlers are tested against; whatever it assumes is listed
// in the package's report to be checked against *dataplane.Store.
type fakeObjects struct {
	mu       sync.Mutex
	now      func() time.Time
	last     time.Time                            // ModTimes strictly increase
	keys     map[string]map[string][]*fakeVersion // bucket -> key -> versions, newest first
	blobs    map[string][]byte                    // blobKey -> data, kept for readers of replaced versions
	uploads  map[string]*fakeUpload               // upload id -> upload
	failNext error                                // returned by the next call that checks it
	puts     int                                  // PutObject calls that committed
}

// fakeVersion is one object version or delete marker.
type fakeVersion struct {
	info dataplane.ObjectInfo // IsLatest is computed on the way out
}

type fakeUpload struct {
	info  dataplane.UploadInfo
	parts map[int]*fakePart
}

type fakePart struct {
	info dataplane.PartInfo
	data []byte
}

func newFakeObjects(now func() time.Time) *fakeObjects {
	if now == nil {
		now = time.Now
	}
	return &fakeObjects{
		now:     now,
		keys:    map[string]map[string][]*fakeVersion{},
		blobs:   map[string][]byte{},
		uploads: map[string]*fakeUpload{},
	}
}

// blobKey identifies a version's data: ModTimes are unique, so a reader of
// a null version that was replaced meanwhile still reads what it resolved.
func blobKey(i dataplane.ObjectInfo) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d", i.Bucket, i.Key, i.VersionID, i.ModTime.UnixNano())
}

// takeFail returns and clears failNext. Callers hold mu.
func (f *fakeObjects) takeFail() error {
	err := f.failNext
	f.failNext = nil
	return err
}

// modTime returns a fresh, strictly increasing modification time.
func (f *fakeObjects) modTime() time.Time {
	t := f.now().Truncate(time.Millisecond)
	if !t.After(f.last) {
		t = f.last.Add(time.Millisecond)
	}
	f.last = t
	return t
}

// newFakeHash returns the hash of a checksum algorithm, as S3 computes it
// (CRCs big-endian).
func newFakeHash(alg string) (hash.Hash, bool) {
	switch alg {
	case dataplane.ChecksumCRC32:
		return crc32.NewIEEE(), true
	case dataplane.ChecksumCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli)), true
	case dataplane.ChecksumCRC64NVME:
		return crc64nvme.New(), true
	case dataplane.ChecksumSHA1:
		return sha1.New(), true
	case dataplane.ChecksumSHA256:
		return sha256.New(), true
	}
	return nil, false
}

// fakeSum returns the raw digest of data with alg.
func fakeSum(alg string, data []byte) []byte {
	h, _ := newFakeHash(alg)
	h.Write(data)
	return h.Sum(nil)
}

// readBody reads exactly size bytes (to EOF when size < 0) and checks the
// body ends there, as the data plane does.
func readBody(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("fake: reading body: %w", err)
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return nil, fmt.Errorf("fake: reading body: %w", err)
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("%w: got %d of %d", dataplane.ErrIncompleteBody, len(data), size)
	}
	// The body must end exactly at size (this also lets a verifying reader
	// see its EOF).
	if n, err := r.Read(make([]byte, 1)); n > 0 || (err != nil && err != io.EOF) {
		return nil, fmt.Errorf("fake: reading body end: n=%d: %w", n, err)
	}
	return data, nil
}

// checkWrite evaluates the conditional-write options against the current
// version of bucket/key. Callers hold mu.
func (f *fakeObjects) checkWrite(bucket, key, ifMatch, ifNoneMatch string) error {
	var cur *fakeVersion
	if vs := f.keys[bucket][key]; len(vs) > 0 && !vs[0].info.DeleteMarker {
		cur = vs[0]
	}
	if ifNoneMatch == "*" && cur != nil {
		return dataplane.ErrPreconditionFailed
	}
	if ifMatch != "" {
		if cur == nil {
			return fmt.Errorf("%s/%s: %w", bucket, key, dataplane.ErrObjectNotFound)
		}
		if ifMatch != "*" && ifMatch != cur.info.ETag {
			return dataplane.ErrPreconditionFailed
		}
	}
	return nil
}

// insert makes info the current version of its key: a null version
// replaces the key's previous null version, whose data it returns as
// freed. Callers hold mu.
func (f *fakeObjects) insert(info dataplane.ObjectInfo, data []byte) (freed dataplane.Freed) {
	if f.keys[info.Bucket] == nil {
		f.keys[info.Bucket] = map[string][]*fakeVersion{}
	}
	vs := f.keys[info.Bucket][info.Key]
	if info.VersionID == dataplane.NullVersionID {
		freed = versionsFreed(vs, func(v *fakeVersion) bool { return v.info.VersionID == dataplane.NullVersionID })
		vs = slices.DeleteFunc(slices.Clone(vs), func(v *fakeVersion) bool { return v.info.VersionID == dataplane.NullVersionID })
	}
	f.keys[info.Bucket][info.Key] = append([]*fakeVersion{{info: info}}, vs...)
	if !info.DeleteMarker {
		f.blobs[blobKey(info)] = data
	}
	return freed
}

// versionsFreed is what removing the versions of vs that match frees.
func versionsFreed(vs []*fakeVersion, match func(*fakeVersion) bool) dataplane.Freed {
	var freed dataplane.Freed
	for _, v := range vs {
		if match(v) && !v.info.DeleteMarker {
			freed.Bytes += v.info.Size
			freed.Versions++
		}
	}
	return freed
}

// newVersionID returns the id a write gets under v: "null" unless
// versioning is enabled.
func newVersionID(v meta.Versioning) string {
	if v == meta.VersioningEnabled {
		return dataplane.NewVersionID(time.Now())
	}
	return dataplane.NullVersionID
}

func (f *fakeObjects) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts dataplane.PutOptions) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	err := f.takeFail()
	f.mu.Unlock()
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	alg := opts.ChecksumAlgorithm
	if alg == "" {
		alg = dataplane.ChecksumCRC64NVME
	}
	if _, ok := newFakeHash(alg); !ok {
		return dataplane.ObjectInfo{}, dataplane.ErrInvalidChecksum
	}
	data, err := readBody(r, size)
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	sum := md5.Sum(data)
	if len(opts.ContentMD5) > 0 && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return dataplane.ObjectInfo{}, dataplane.ErrBadDigest
	}
	value := base64.StdEncoding.EncodeToString(fakeSum(alg, data))
	if opts.ChecksumValue != "" && opts.ChecksumValue != value {
		return dataplane.ObjectInfo{}, dataplane.ErrBadChecksum
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkWrite(bucket, key, opts.IfMatch, opts.IfNoneMatch); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	info := dataplane.ObjectInfo{
		Bucket: bucket, Key: key, VersionID: newVersionID(opts.Versioning), Size: int64(len(data)),
		ETag: hex.EncodeToString(sum[:]), ModTime: f.modTime(), Meta: maps.Clone(opts.Meta), Tags: maps.Clone(opts.Tags),
		ACL:      opts.ACL,
		Checksum: dataplane.Checksum{Algorithm: alg, Value: value, Type: dataplane.ChecksumFullObject},
	}
	info.Freed = f.insert(info, data)
	f.puts++
	info.IsLatest = true
	return info, nil
}

// resolve finds the version a read names. Callers hold mu.
func (f *fakeObjects) resolve(bucket, key, versionID string) (dataplane.ObjectInfo, error) {
	vs := f.keys[bucket][key]
	if versionID == "" {
		if len(vs) == 0 {
			return dataplane.ObjectInfo{}, fmt.Errorf("%s/%s: %w", bucket, key, dataplane.ErrObjectNotFound)
		}
		info := vs[0].info
		info.IsLatest = true
		if info.DeleteMarker {
			return dataplane.ObjectInfo{}, &dataplane.DeleteMarkerError{Info: info}
		}
		return info, nil
	}
	for i, v := range vs {
		if v.info.VersionID != versionID {
			continue
		}
		info := v.info
		info.IsLatest = i == 0
		if info.DeleteMarker {
			return dataplane.ObjectInfo{}, &dataplane.DeleteMarkerError{Info: info, ByVersion: true}
		}
		return info, nil
	}
	return dataplane.ObjectInfo{}, fmt.Errorf("%s/%s version %s: %w", bucket, key, versionID, dataplane.ErrNoSuchVersion)
}

func (f *fakeObjects) GetObject(ctx context.Context, bucket, key string, opts dataplane.GetOptions) (*dataplane.Object, error) {
	info, err := f.HeadObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	return &dataplane.Object{Info: info}, nil
}

// open is the test's Server.openReader.
func (f *fakeObjects) open(ctx context.Context, o *dataplane.Object, offset, length int64) (io.ReadCloser, error) {
	f.mu.Lock()
	data, ok := f.blobs[blobKey(o.Info)]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("fake: version %s of %s vanished", o.Info.VersionID, o.Info.Key)
	}
	if offset < 0 || offset > int64(len(data)) {
		return nil, dataplane.ErrInvalidRange
	}
	if length < 0 || length > int64(len(data))-offset {
		length = int64(len(data)) - offset
	}
	return io.NopCloser(bytes.NewReader(data[offset : offset+length])), nil
}

func (f *fakeObjects) HeadObject(ctx context.Context, bucket, key string, opts dataplane.GetOptions) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	return f.resolve(bucket, key, opts.VersionID)
}

func (f *fakeObjects) DeleteObject(ctx context.Context, bucket, key string, opts dataplane.DeleteOptions) (dataplane.DeleteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.DeleteResult{}, err
	}
	vs := f.keys[bucket][key]
	if opts.VersionID != "" {
		i := slices.IndexFunc(vs, func(v *fakeVersion) bool { return v.info.VersionID == opts.VersionID })
		if i < 0 {
			return dataplane.DeleteResult{VersionID: opts.VersionID}, nil
		}
		marker := vs[i].info.DeleteMarker
		freed := versionsFreed(vs[i:i+1], func(*fakeVersion) bool { return true })
		f.setVersions(bucket, key, slices.Delete(slices.Clone(vs), i, i+1))
		return dataplane.DeleteResult{VersionID: opts.VersionID, DeleteMarker: marker, Freed: freed}, nil
	}
	switch opts.Versioning {
	case meta.VersioningOff:
		freed := versionsFreed(vs, func(v *fakeVersion) bool { return v.info.VersionID == dataplane.NullVersionID })
		f.setVersions(bucket, key, nil)
		return dataplane.DeleteResult{Freed: freed}, nil
	}
	m := dataplane.ObjectInfo{Bucket: bucket, Key: key, VersionID: newVersionID(opts.Versioning), ModTime: f.modTime(), DeleteMarker: true}
	freed := f.insert(m, nil)
	return dataplane.DeleteResult{VersionID: m.VersionID, DeleteMarker: true, Freed: freed}, nil
}

// setVersions replaces a key's versions; none removes the key. Callers
// hold mu.
func (f *fakeObjects) setVersions(bucket, key string, vs []*fakeVersion) {
	if len(vs) == 0 {
		delete(f.keys[bucket], key)
		return
	}
	f.keys[bucket][key] = vs
}

func (f *fakeObjects) SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	info, err := f.resolve(bucket, key, versionID)
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	for _, v := range f.keys[bucket][key] {
		if v.info.VersionID == info.VersionID {
			v.info.Tags = maps.Clone(tags)
			if len(tags) == 0 {
				v.info.Tags = nil
			}
			info.Tags = v.info.Tags
		}
	}
	return info, nil
}

// SetObjectACL replaces one version's canned ACL in place, as the data
// plane does (its tags and everything else stay).
func (f *fakeObjects) SetObjectACL(ctx context.Context, bucket, key, versionID, acl string) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	info, err := f.resolve(bucket, key, versionID)
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	for _, v := range f.keys[bucket][key] {
		if v.info.VersionID == info.VersionID {
			v.info.ACL = acl
		}
	}
	info.ACL = acl
	return info, nil
}

// sortedKeys returns the keys of a bucket under prefix in order. Callers
// hold mu.
func (f *fakeObjects) sortedKeys(bucket, prefix string) []string {
	var keys []string
	for k := range f.keys[bucket] {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// commonPrefixOf returns the common prefix key rolls up into, or "".
func commonPrefixOf(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
		return key[:len(prefix)+i+len(delimiter)]
	}
	return ""
}

// ListObjects follows the data plane contract: the current versions (not
// delete markers) sorted, common prefixes rolled up, after After, at most
// Max items, Next the last one returned.
func (f *fakeObjects) ListObjects(ctx context.Context, bucket string, opts dataplane.ListOptions) (dataplane.ListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ListResult{}, err
	}
	max := opts.Max
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var res dataplane.ListResult
	lastPrefix := ""
	for _, k := range f.sortedKeys(bucket, opts.Prefix) {
		cur := f.keys[bucket][k][0]
		if k <= opts.After || cur.info.DeleteMarker {
			continue
		}
		pre := commonPrefixOf(k, opts.Prefix, opts.Delimiter)
		if pre != "" && (pre == lastPrefix || pre <= opts.After) {
			continue // already returned, or the page resumed after it
		}
		if len(res.Objects)+len(res.Prefixes) == max {
			res.Truncated = true
			return res, nil
		}
		if pre != "" {
			res.Prefixes = append(res.Prefixes, pre)
			lastPrefix = pre
			res.Next = pre
			continue
		}
		info := cur.info
		info.IsLatest = true
		res.Objects = append(res.Objects, info)
		res.Next = k
	}
	res.Next = ""
	return res, nil
}

// ListObjectVersions follows the contract: versions and delete markers by
// key, newest first, after (KeyMarker, VersionIDMarker), common prefixes
// counting once, Next* the last entry returned.
func (f *fakeObjects) ListObjectVersions(ctx context.Context, bucket string, opts dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ListVersionsResult{}, err
	}
	max := opts.Max
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var res dataplane.ListVersionsResult
	count := 0
	lastPrefix := ""
	for _, k := range f.sortedKeys(bucket, opts.Prefix) {
		if k < opts.KeyMarker || (k == opts.KeyMarker && opts.VersionIDMarker == "") {
			continue
		}
		pre := commonPrefixOf(k, opts.Prefix, opts.Delimiter)
		if pre != "" {
			if pre == lastPrefix || pre <= opts.KeyMarker {
				continue
			}
			if count == max {
				res.Truncated = true
				return res, nil
			}
			res.Prefixes = append(res.Prefixes, pre)
			lastPrefix = pre
			res.NextKeyMarker, res.NextVersionIDMarker = pre, ""
			count++
			continue
		}
		vs := f.keys[bucket][k]
		start := 0
		if k == opts.KeyMarker {
			start = len(vs) // marker version not found: nothing left of this key
			if i := slices.IndexFunc(vs, func(v *fakeVersion) bool { return v.info.VersionID == opts.VersionIDMarker }); i >= 0 {
				start = i + 1
			}
		}
		for i := start; i < len(vs); i++ {
			if count == max {
				res.Truncated = true
				return res, nil
			}
			info := vs[i].info
			info.IsLatest = i == 0
			res.Versions = append(res.Versions, info)
			res.NextKeyMarker, res.NextVersionIDMarker = k, info.VersionID
			count++
		}
	}
	res.NextKeyMarker, res.NextVersionIDMarker = "", ""
	return res, nil
}

// defaultChecksumType is S3's checksum type for an upload that names an
// algorithm but no type.
func defaultChecksumType(alg string) string {
	if alg == dataplane.ChecksumCRC64NVME {
		return dataplane.ChecksumFullObject
	}
	return dataplane.ChecksumComposite
}

func (f *fakeObjects) CreateMultipartUpload(ctx context.Context, bucket, key string, opts dataplane.UploadOptions) (dataplane.UploadInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.UploadInfo{}, err
	}
	alg, typ := opts.ChecksumAlgorithm, opts.ChecksumType
	if alg == "" {
		alg = dataplane.ChecksumCRC64NVME
	}
	if _, ok := newFakeHash(alg); !ok {
		return dataplane.UploadInfo{}, dataplane.ErrInvalidChecksum
	}
	if typ == "" {
		typ = defaultChecksumType(alg)
	}
	switch {
	case typ != dataplane.ChecksumFullObject && typ != dataplane.ChecksumComposite,
		alg == dataplane.ChecksumCRC64NVME && typ == dataplane.ChecksumComposite,
		(alg == dataplane.ChecksumSHA1 || alg == dataplane.ChecksumSHA256) && typ == dataplane.ChecksumFullObject:
		return dataplane.UploadInfo{}, dataplane.ErrInvalidChecksum
	}
	up := &fakeUpload{
		info: dataplane.UploadInfo{
			Bucket: bucket, Key: key, UploadID: strings.ReplaceAll(uuid.NewString(), "-", "") + "~up",
			Initiated: f.modTime(), Meta: maps.Clone(opts.Meta), Tags: maps.Clone(opts.Tags), ACL: opts.ACL,
			ChecksumAlgorithm: alg, ChecksumType: typ, ChecksumDefaulted: opts.ChecksumAlgorithm == "",
		},
		parts: map[int]*fakePart{},
	}
	f.uploads[up.info.UploadID] = up
	return up.info, nil
}

// upload finds an upload of bucket/key. Callers hold mu.
func (f *fakeObjects) upload(bucket, key, uploadID string) (*fakeUpload, error) {
	up := f.uploads[uploadID]
	if up == nil || up.info.Bucket != bucket || up.info.Key != key {
		return nil, fmt.Errorf("upload %q: %w", uploadID, dataplane.ErrNoSuchUpload)
	}
	return up, nil
}

func (f *fakeObjects) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, r io.Reader, size int64, opts dataplane.PartOptions) (dataplane.PartInfo, error) {
	if number < 1 || number > dataplane.MaxParts {
		return dataplane.PartInfo{}, dataplane.ErrTooManyParts
	}
	f.mu.Lock()
	err := f.takeFail()
	up, uerr := f.upload(bucket, key, uploadID)
	f.mu.Unlock()
	switch {
	case err != nil:
		return dataplane.PartInfo{}, err
	case uerr != nil:
		return dataplane.PartInfo{}, uerr
	case opts.ChecksumAlgorithm != "" && opts.ChecksumAlgorithm != up.info.ChecksumAlgorithm && up.info.ChecksumDefaulted:
		opts.ChecksumAlgorithm, opts.ChecksumValue = "", ""
	case opts.ChecksumAlgorithm != "" && opts.ChecksumAlgorithm != up.info.ChecksumAlgorithm:
		return dataplane.PartInfo{}, dataplane.ErrInvalidChecksum
	}
	data, err := readBody(r, size)
	if err != nil {
		return dataplane.PartInfo{}, err
	}
	sum := md5.Sum(data)
	if len(opts.ContentMD5) > 0 && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return dataplane.PartInfo{}, dataplane.ErrBadDigest
	}
	value := base64.StdEncoding.EncodeToString(fakeSum(up.info.ChecksumAlgorithm, data))
	if opts.ChecksumValue != "" && opts.ChecksumValue != value {
		return dataplane.PartInfo{}, dataplane.ErrBadChecksum
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.upload(bucket, key, uploadID); err != nil {
		return dataplane.PartInfo{}, err // completed or aborted meanwhile
	}
	p := &fakePart{
		info: dataplane.PartInfo{Number: number, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]), ModTime: f.modTime(),
			Checksum: dataplane.Checksum{Algorithm: up.info.ChecksumAlgorithm, Value: value}},
		data: data,
	}
	out := p.info
	if old := up.parts[number]; old != nil {
		out.Freed.Bytes = old.info.Size
	}
	up.parts[number] = p
	return out, nil
}

func (f *fakeObjects) ListParts(ctx context.Context, bucket, key, uploadID string, opts dataplane.ListPartsOptions) (dataplane.ListPartsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ListPartsResult{}, err
	}
	up, err := f.upload(bucket, key, uploadID)
	if err != nil {
		return dataplane.ListPartsResult{}, err
	}
	max := opts.Max
	if max <= 0 || max > 1000 {
		max = 1000
	}
	res := dataplane.ListPartsResult{Upload: up.info}
	for _, n := range slices.Sorted(maps.Keys(up.parts)) {
		if n <= opts.Marker {
			continue
		}
		if len(res.Parts) == max {
			res.Truncated = true
			break
		}
		res.Parts = append(res.Parts, up.parts[n].info)
		res.NextMarker = n
	}
	return res, nil
}

func (f *fakeObjects) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []dataplane.CompletePart, opts dataplane.CompleteOptions) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	up, err := f.upload(bucket, key, uploadID)
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return dataplane.ObjectInfo{}, dataplane.ErrInvalidPart
	}
	if opts.ChecksumType != "" && opts.ChecksumType != up.info.ChecksumType {
		return dataplane.ObjectInfo{}, dataplane.ErrInvalidChecksum
	}
	var (
		data    []byte
		md5s    []byte
		digests []byte
		infos   []dataplane.PartInfo
	)
	for i, cp := range parts {
		if cp.Number < 1 || cp.Number > dataplane.MaxParts {
			return dataplane.ObjectInfo{}, dataplane.ErrTooManyParts
		}
		if i > 0 && cp.Number <= parts[i-1].Number {
			return dataplane.ObjectInfo{}, dataplane.ErrInvalidPartOrder
		}
		p := up.parts[cp.Number]
		if p == nil || p.info.ETag != cp.ETag || (cp.Checksum != "" && cp.Checksum != p.info.Checksum.Value) {
			return dataplane.ObjectInfo{}, fmt.Errorf("part %d: %w", cp.Number, dataplane.ErrInvalidPart)
		}
		if i < len(parts)-1 && p.info.Size < dataplane.MinPartSize {
			return dataplane.ObjectInfo{}, fmt.Errorf("part %d: %w", cp.Number, dataplane.ErrEntityTooSmall)
		}
		data = append(data, p.data...)
		sum, _ := hex.DecodeString(p.info.ETag)
		md5s = append(md5s, sum...)
		raw, _ := base64.StdEncoding.DecodeString(p.info.Checksum.Value)
		digests = append(digests, raw...)
		infos = append(infos, p.info)
	}
	alg, typ := up.info.ChecksumAlgorithm, up.info.ChecksumType
	value := base64.StdEncoding.EncodeToString(fakeSum(alg, data))
	if typ == dataplane.ChecksumComposite {
		value = base64.StdEncoding.EncodeToString(fakeSum(alg, digests)) + fmt.Sprintf("-%d", len(parts))
	}
	if v := opts.ChecksumValue; v != "" && v != value && v+fmt.Sprintf("-%d", len(parts)) != value {
		return dataplane.ObjectInfo{}, dataplane.ErrBadChecksum
	}
	if err := f.checkWrite(bucket, key, opts.IfMatch, opts.IfNoneMatch); err != nil {
		return dataplane.ObjectInfo{}, err
	}
	etag := md5.Sum(md5s)
	info := dataplane.ObjectInfo{
		Bucket: bucket, Key: key, VersionID: newVersionID(opts.Versioning), Size: int64(len(data)),
		ETag: hex.EncodeToString(etag[:]) + fmt.Sprintf("-%d", len(parts)), ModTime: f.modTime(),
		Meta: maps.Clone(up.info.Meta), Tags: maps.Clone(up.info.Tags), ACL: up.info.ACL,
		Checksum: dataplane.Checksum{Algorithm: alg, Value: value, Type: typ},
		Parts:    infos,
	}
	info.Freed = f.insert(info, data)
	for n, p := range up.parts {
		if !slices.ContainsFunc(parts, func(cp dataplane.CompletePart) bool { return cp.Number == n }) {
			info.Freed.Bytes += p.info.Size // a part left out
		}
	}
	delete(f.uploads, uploadID)
	info.IsLatest = true
	return info, nil
}

func (f *fakeObjects) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (dataplane.Freed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.Freed{}, err
	}
	u, err := f.upload(bucket, key, uploadID)
	if err != nil {
		return dataplane.Freed{}, err
	}
	var freed dataplane.Freed
	for _, p := range u.parts {
		freed.Bytes += p.info.Size
	}
	delete(f.uploads, uploadID)
	return freed, nil
}

// ListMultipartUploads follows the contract: uploads by key, then
// initiation time, after (KeyMarker, UploadIDMarker), common prefixes
// counting once.
func (f *fakeObjects) ListMultipartUploads(ctx context.Context, bucket string, opts dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.takeFail(); err != nil {
		return dataplane.ListUploadsResult{}, err
	}
	max := opts.Max
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var all []dataplane.UploadInfo
	for _, up := range f.uploads {
		if up.info.Bucket == bucket && strings.HasPrefix(up.info.Key, opts.Prefix) {
			all = append(all, up.info)
		}
	}
	slices.SortFunc(all, func(a, b dataplane.UploadInfo) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if c := a.Initiated.Compare(b.Initiated); c != 0 {
			return c
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	var res dataplane.ListUploadsResult
	count := 0
	lastPrefix := ""
	skipping := opts.UploadIDMarker != ""
	for _, u := range all {
		if u.Key < opts.KeyMarker || (u.Key == opts.KeyMarker && opts.UploadIDMarker == "") {
			continue
		}
		if u.Key == opts.KeyMarker && skipping {
			if u.UploadID == opts.UploadIDMarker {
				skipping = false
			}
			continue
		}
		pre := commonPrefixOf(u.Key, opts.Prefix, opts.Delimiter)
		if pre != "" && (pre == lastPrefix || pre <= opts.KeyMarker) {
			continue
		}
		if count == max {
			res.Truncated = true
			return res, nil
		}
		count++
		if pre != "" {
			res.Prefixes = append(res.Prefixes, pre)
			lastPrefix = pre
			res.NextKeyMarker, res.NextUploadIDMarker = pre, ""
			continue
		}
		res.Uploads = append(res.Uploads, u)
		res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
	}
	res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	return res, nil
}

func (f *fakeObjects) DropBucket(ctx context.Context, bucket string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, bucket)
	for id, up := range f.uploads {
		if up.info.Bucket == bucket {
			delete(f.uploads, id)
		}
	}
	return nil
}

// currentCount is the number of keys of bucket with a current version
// that is not a delete marker.
func (f *fakeObjects) currentCount(bucket string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, vs := range f.keys[bucket] {
		if !vs[0].info.DeleteMarker {
			n++
		}
	}
	return n
}

// testServer is a Server on 127.0.0.1:0 backed by the fakes.
type testServer struct {
	*Server
	ctl  *fakeControl
	objs *fakeObjects
	url  string
}

func startTestServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	return startTestServerDeps(t, nil, mutate...)
}

// startTestServerDeps is startTestServer with a hook to change the
// dependencies (the fakes are already in place) before New.
func startTestServerDeps(t testing.TB, deps func(*Deps), mutate ...func(*Config)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Domains = []string{"s3.test", "localhost"}
	cfg.ShutdownTimeout = 2 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	ctl := newFakeControl()
	objs := newFakeObjects(time.Now)
	tw := &testWriter{t: t}
	t.Cleanup(func() { tw.stopped.Store(true) }) // runs last: after Close
	log := slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d := Deps{
		Control: ctl, Objects: objs, Unseal: fakeUnseal,
		Unavailable: func(err error) bool { return errors.Is(err, errTestNoLeader) },
	}
	if deps != nil {
		deps(&d)
	}
	srv, err := New(cfg, d, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.openReader = objs.open
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: srv, ctl: ctl, objs: objs, url: "http://" + srv.Addr()}
}

// testWriter sends log lines to t.Log until the test is over.
type testWriter struct {
	t       testing.TB
	stopped atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// errTestNoLeader is what the fakes return to play an unavailable cluster.
var errTestNoLeader = errors.New("fake: no leader")
