package dataplane

import (
	"errors"
	"time"

	"github.com/strata-io/strata/meta"
)

// This file is the contract between the data plane and the S3 frontend for
// versioning, multipart uploads, checksums, tagging and conditional writes.
// s3api.Objects lists the methods of *Store that the frontend calls:
//
//	PutObject(ctx, bucket, key, r, size, PutOptions) (ObjectInfo, error)
//	GetObject(ctx, bucket, key, GetOptions) (*Object, error)
//	HeadObject(ctx, bucket, key, GetOptions) (ObjectInfo, error)
//	DeleteObject(ctx, bucket, key, DeleteOptions) (DeleteResult, error)
//	SetObjectTags(ctx, bucket, key, versionID, tags) (ObjectInfo, error)
//	SetObjectACL(ctx, bucket, key, versionID, acl) (ObjectInfo, error)
//	ListObjects(ctx, bucket, ListOptions) (ListResult, error)
//	ListObjectVersions(ctx, bucket, ListVersionsOptions) (ListVersionsResult, error)
//	CreateMultipartUpload(ctx, bucket, key, UploadOptions) (UploadInfo, error)
//	UploadPart(ctx, bucket, key, uploadID, number, r, size, PartOptions) (PartInfo, error)
//	ListParts(ctx, bucket, key, uploadID, ListPartsOptions) (ListPartsResult, error)
//	CompleteMultipartUpload(ctx, bucket, key, uploadID, []CompletePart, CompleteOptions) (ObjectInfo, error)
//	AbortMultipartUpload(ctx, bucket, key, uploadID) (Freed, error)
//	ListMultipartUploads(ctx, bucket, ListUploadsOptions) (ListUploadsResult, error)
//	DropBucket(ctx, bucket) error
//
// CopyObject and UploadPartCopy are built by the frontend from GetObject +
// Object.NewReader and PutObject / UploadPart: data is always streamed.
//
// Writes and deletes report the stored data they removed (Freed in their
// results), for usage accounting (package quota): a write or delete that
// replaces the null version, a version deleted by id, a part uploaded
// again, the parts a completion leaves out, an aborted upload's parts.
// The figure comes from the records the drives held under the key's lock
// (for parts: when the part's upload started); two uploads of the same
// part number at once may both report the part they replace.

// Freed is the stored data an operation removed: logical bytes (object
// and part sizes, not shard bytes) and object versions (not delete
// markers; parts are not versions).
type Freed struct {
	Bytes    int64
	Versions int64
}

// Errors of the versioning, multipart, checksum and conditional-write
// operations. Match with errors.Is / errors.As.
var (
	// ErrNoSuchVersion: GetOptions/DeleteOptions named a version id that
	// the key does not have (S3: NoSuchVersion, 404). A malformed version
	// id is ErrNoSuchVersion too (S3 answers InvalidArgument for those; the
	// frontend checks the syntax first).
	ErrNoSuchVersion = errors.New("dataplane: no such version")
	// ErrNoSuchUpload: the upload id is unknown for bucket/key, or was
	// completed or aborted (S3: NoSuchUpload, 404).
	ErrNoSuchUpload = errors.New("dataplane: no such upload")
	// ErrInvalidPart: a CompletePart names a part that was not uploaded, or
	// whose ETag (or checksum) differs (S3: InvalidPart, 400).
	ErrInvalidPart = errors.New("dataplane: invalid part")
	// ErrInvalidPartOrder: CompletePart numbers are not strictly ascending
	// (S3: InvalidPartOrder, 400).
	ErrInvalidPartOrder = errors.New("dataplane: parts not in ascending order")
	// ErrEntityTooSmall: a part other than the last is smaller than
	// MinPartSize (S3: EntityTooSmall, 400).
	ErrEntityTooSmall = errors.New("dataplane: part smaller than the minimum")
	// ErrBadChecksum: the body's checksum differs from the one the client
	// declared (S3: BadDigest, 400, "The <ALG> you specified did not match
	// the calculated checksum.").
	ErrBadChecksum = errors.New("dataplane: checksum does not match the body")
	// ErrInvalidChecksum: an algorithm/type combination S3 refuses, e.g. a
	// COMPOSITE CRC64NVME or a FULL_OBJECT SHA256, or a part checksum of
	// another algorithm than the upload's (S3: InvalidRequest, 400).
	ErrInvalidChecksum = errors.New("dataplane: invalid checksum algorithm or type")
	// ErrPreconditionFailed: an If-Match / If-None-Match of a write does
	// not hold (S3: PreconditionFailed, 412). If-Match on a key without a
	// current version is ErrObjectNotFound (S3: NoSuchKey, 404).
	ErrPreconditionFailed = errors.New("dataplane: precondition failed")
	// ErrConditionalConflict: a conditional write raced with another write
	// of the same key and lost (S3: ConditionalRequestConflict, 409).
	ErrConditionalConflict = errors.New("dataplane: conflicting conditional write")
	// ErrTooManyParts: a part number outside 1..MaxParts (S3:
	// InvalidArgument, 400).
	ErrTooManyParts = errors.New("dataplane: part number out of range")
	// ErrEntityTooLarge: a PutObject or UploadPart body longer than
	// MaxPartSize (a declared size, or an unknown-size body that ran past
	// it), or a completed multipart object larger than MaxObjectSize (S3:
	// EntityTooLarge, 400).
	ErrEntityTooLarge = errors.New("dataplane: entity too large")
)

// DeleteMarkerError is returned by GetObject/HeadObject when the version
// asked for (the current one when GetOptions.VersionID is empty) is a
// delete marker. Info describes the marker. S3 answers 404 NoSuchKey with
// x-amz-delete-marker: true for the current version, and 405
// MethodNotAllowed (with x-amz-delete-marker and x-amz-version-id) when
// the marker was asked for by version id.
type DeleteMarkerError struct {
	Info      ObjectInfo
	ByVersion bool // the caller named the marker's version id
}

func (e *DeleteMarkerError) Error() string {
	return "dataplane: " + e.Info.Bucket + "/" + e.Info.Key + " version " + e.Info.VersionID + " is a delete marker"
}

// Is makes errors.Is(err, ErrObjectNotFound) hold for a current delete
// marker (the key does not exist for an unversioned read).
func (e *DeleteMarkerError) Is(target error) bool {
	return target == ErrObjectNotFound && !e.ByVersion
}

// Multipart limits (S3's).
const (
	MinPartSize   = 5 << 20 // every part but the last
	MaxPartSize   = 5 << 30 // one part
	MaxParts      = 10000   // part numbers 1..MaxParts
	MaxObjectSize = 5 << 40 // a completed multipart object
	NullVersionID = "null"  // the version id S3 reports for the null version
	MaxTags       = 10      // tags per object
	MaxTagKeyLen  = 128     // UTF-8 characters
	MaxTagValLen  = 256     // UTF-8 characters
)

// Checksum algorithms and types, spelled as S3 spells them in headers and
// XML.
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumCRC64NVME = "CRC64NVME"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"

	ChecksumFullObject = "FULL_OBJECT"
	ChecksumComposite  = "COMPOSITE"
)

// Checksum is an object's or a part's checksum as S3 reports it
// (x-amz-checksum-<alg>, x-amz-checksum-type).
type Checksum struct {
	Algorithm string // one of the Checksum* algorithms; "" for none
	Value     string // base64 digest; a COMPOSITE object's is base64 + "-N"
	Type      string // ChecksumFullObject or ChecksumComposite; "" for a part
}

// PutOptions are the client-supplied attributes of a new object (PutObject,
// CopyObject's destination).
//
// PutObject's size is the body's length, or -1 when unknown (a chunked
// upload without a declared length): the body is then read to EOF, and
// refused with ErrEntityTooLarge past MaxPartSize bytes. UploadPart takes
// the same sizes.
//
// The data plane computes the checksum of ChecksumAlgorithm over the body
// while it writes (CRC64NVME when empty: every object gets a full-object
// checksum, as S3 does since 2025) and stores it with the version. A
// non-empty ChecksumValue is compared with it before commit
// (ErrBadChecksum). ContentMD5 is compared with the body's MD5
// (ErrBadDigest).
//
// Conditional writes are evaluated atomically against the current version
// of the key, under a per-key lock held while the new version commits:
// IfNoneMatch "*" fails with ErrPreconditionFailed when the key has a
// current version that is not a delete marker; IfMatch (an ETag, without
// quotes, or "*") fails with ErrPreconditionFailed when the current
// version's ETag differs, ErrObjectNotFound when there is none. A write
// that loses a race with another write of the key while its condition was
// being checked gets ErrConditionalConflict.
type PutOptions struct {
	ContentMD5        []byte            // optional: verified against the body (ErrBadDigest)
	Meta              map[string]string // stored as is: content-type, cache-control, x-amz-meta-*, ...
	Tags              map[string]string // object tags (x-amz-tagging), validated by the frontend
	ACL               string            // canned ACL (x-amz-acl), validated by the frontend; "" = private
	ChecksumAlgorithm string            // Checksum* algorithm to compute and store; "" = CRC64NVME
	ChecksumValue     string            // base64: the client's declared checksum, verified; "" = none
	Versioning        meta.Versioning   // the bucket's state: decides version ids and the null version
	IfMatch           string            // conditional write: ETag the current version must have, or "*"
	IfNoneMatch       string            // conditional write: "*" = the key must not exist
}

// GetOptions selects the version to read.
type GetOptions struct {
	VersionID string // "" = the current version; NullVersionID = the null version
}

// DeleteOptions selects what DeleteObject does, following S3:
//
//   - VersionID set: that version (or delete marker) is removed for good;
//     when it was current, the next newest version becomes current.
//   - VersionID empty, bucket VersioningOff: the key is removed (no marker
//     is visible to any list).
//   - VersionID empty, Enabled: a new delete marker becomes current.
//   - VersionID empty, Suspended: a delete marker with version id "null"
//     becomes current, replacing an existing null version.
//
// Deleting a missing key or version succeeds (S3 returns 204).
type DeleteOptions struct {
	VersionID  string
	Versioning meta.Versioning
}

// DeleteResult is what S3 reports in x-amz-version-id and
// x-amz-delete-marker.
type DeleteResult struct {
	VersionID    string // the version removed, or the delete marker created; "" when unversioned
	DeleteMarker bool   // a delete marker was created, or the version removed was one
	Freed        Freed  // the version removed, or the null version a marker or tombstone replaced
}

// ObjectInfo describes one object version, or a delete marker.
type ObjectInfo struct {
	Bucket    string
	Key       string
	VersionID string // NullVersionID for the null version (written while unversioned or suspended)
	Size      int64
	ETag      string // hex, no quotes; "<md5 of part md5s>-N" for a multipart object
	ModTime   time.Time
	Meta      map[string]string
	Tags      map[string]string
	ACL       string // canned ACL; "" = private (see acl.go)
	Checksum  Checksum
	// Parts lists a multipart object's parts in order (nil for a single
	// PUT): GET/HEAD ?partNumber=N and GetObjectAttributes use it.
	Parts        []PartInfo
	IsLatest     bool // the current version of the key (ListObjectVersions, GET by version id)
	DeleteMarker bool // a delete marker: no data, Size 0
	// Freed: PutObject and CompleteMultipartUpload only, what the write
	// removed (the null version it replaced; for a completion also the
	// upload's parts it left out).
	Freed Freed
}

// ListVersionsOptions selects a page of ListObjectVersions. KeyMarker and
// VersionIDMarker are S3's key-marker and version-id-marker: the page
// starts after that version of that key (after every version of KeyMarker
// when VersionIDMarker is empty).
type ListVersionsOptions struct {
	Prefix          string
	Delimiter       string
	KeyMarker       string
	VersionIDMarker string
	Max             int // 1..1000
}

// ListVersionsResult is one page of versions and delete markers, sorted by
// key, then newest first; Prefixes as in ListResult. When Truncated,
// NextKeyMarker/NextVersionIDMarker are what the next call passes (the
// version id is empty when the page ended on a common prefix).
type ListVersionsResult struct {
	Versions            []ObjectInfo // IsLatest and DeleteMarker set
	Prefixes            []string
	Truncated           bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// UploadOptions are the attributes CreateMultipartUpload records for the
// object the upload will become.
type UploadOptions struct {
	Meta              map[string]string
	Tags              map[string]string
	ACL               string // canned ACL of the object the upload becomes; "" = private
	ChecksumAlgorithm string // "" = CRC64NVME
	ChecksumType      string // ChecksumFullObject or ChecksumComposite; "" = S3's default for the algorithm
}

// UploadInfo describes one multipart upload in progress.
type UploadInfo struct {
	Bucket    string
	Key       string
	UploadID  string
	Initiated time.Time
	Meta      map[string]string
	Tags      map[string]string
	ACL       string // canned ACL of the object the upload becomes
	// ChecksumAlgorithm and ChecksumType as resolved at creation.
	ChecksumAlgorithm string
	ChecksumType      string
	// ChecksumDefaulted: the client named no algorithm at creation (the
	// data plane chose CRC64NVME). Part checksums of another algorithm are
	// then the client's own integrity check (current SDKs send CRC32 by
	// default), verified by the frontend and not stored; with an
	// algorithm named, they are ErrInvalidChecksum.
	ChecksumDefaulted bool
}

// PartOptions are the client-supplied attributes of one part: ContentMD5
// and ChecksumValue verified as in PutOptions. The part's checksum is
// computed with the upload's algorithm; ChecksumAlgorithm, when set, must
// name it (else ErrInvalidChecksum), unless the upload's algorithm was
// defaulted (UploadInfo.ChecksumDefaulted): then a checksum of another
// algorithm is ignored here (the frontend verifies it against the body).
type PartOptions struct {
	ContentMD5        []byte
	ChecksumAlgorithm string
	ChecksumValue     string
}

// PartInfo describes one uploaded part (ListParts), or one part of a
// completed multipart object (ObjectInfo.Parts).
type PartInfo struct {
	Number   int
	Size     int64
	ETag     string // hex MD5 of the part, no quotes
	ModTime  time.Time
	Checksum Checksum // the part's checksum (Type empty)
	Freed    Freed    // UploadPart only: the earlier upload of this part number it replaced
}

// ListPartsOptions selects a page of ListParts: parts numbered above
// Marker (part-number-marker), at most Max (1..1000).
type ListPartsOptions struct {
	Marker int
	Max    int
}

// ListPartsResult is one page of an upload's parts in number order.
type ListPartsResult struct {
	Upload     UploadInfo
	Parts      []PartInfo
	Truncated  bool
	NextMarker int // the last part number returned
}

// CompletePart is one <Part> of CompleteMultipartUpload.
type CompletePart struct {
	Number   int
	ETag     string // as the client sent it, quotes removed
	Checksum string // the part's checksum (base64) if the client sent one; must match
}

// CompleteOptions: conditional write and the client's expected checksum of
// the whole object (x-amz-checksum-<alg> on Complete, with
// x-amz-checksum-type), verified (ErrBadChecksum) against the one the data
// plane composes from the parts.
type CompleteOptions struct {
	Versioning    meta.Versioning
	IfMatch       string
	IfNoneMatch   string
	ChecksumValue string
	ChecksumType  string // "" = the upload's
}

// ListUploadsOptions selects a page of ListMultipartUploads (S3's
// key-marker / upload-id-marker semantics, like ListVersionsOptions).
type ListUploadsOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	Max            int // 1..1000
}

// ListUploadsResult is one page of uploads in progress, by key then
// initiation time.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	Prefixes           []string
	Truncated          bool
	NextKeyMarker      string
	NextUploadIDMarker string
}
