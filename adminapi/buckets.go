package adminapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bucket and quota routes, for the root user. NAME segments are
// path-escaped (PathSegment).
//
//	POST   buckets              CreateBucketRequest -> Bucket
//	GET    buckets              -> BucketList
//	GET    buckets/NAME         -> Bucket
//	DELETE buckets/NAME         (only an empty bucket, as S3 DeleteBucket)
//	PUT    buckets/NAME/quota   QuotaRequest -> Bucket
//	DELETE buckets/NAME/quota   -> Bucket
//	PUT    users/NAME/quota     QuotaRequest -> User
//	DELETE users/NAME/quota     -> User
const PathBuckets = PathPrefix + "buckets"

// Error codes of the bucket routes.
const (
	CodeNoSuchBucket        = "NoSuchBucket"        // 404
	CodeBucketAlreadyExists = "BucketAlreadyExists" // 409
	CodeBucketNotEmpty      = "BucketNotEmpty"      // 409
	CodeInvalidBucketName   = "InvalidBucketName"   // 400
	CodeInvalidQuota        = "InvalidQuota"        // 400: not a positive number of bytes
)

// Bucket is a bucket as the admin API shows it, with its usage: the
// logical bytes and object versions it holds (every version that is not a
// delete marker, and the parts of uploads in progress) as the answering
// node knows them — the cluster's count plus its own writes not yet
// shared — at most a flush interval (2 s by default) behind the writes
// through other nodes. User.UsageBytes is the same sum over a user's
// buckets.
type Bucket struct {
	Name       string    `json:"name"`
	Owner      string    `json:"owner"` // access key of the owning user
	Created    time.Time `json:"created"`
	Versioning string    `json:"versioning,omitempty"` // Enabled, Suspended, or empty: never versioned
	Objects    int64     `json:"objects"`              // object versions
	UsageBytes int64     `json:"usage_bytes"`
	QuotaBytes int64     `json:"quota_bytes,omitempty"` // 0: no quota
	// Recounted is when the usage was last recounted from a listing
	// (zero: never; writes and deletes are counted as they happen).
	Recounted time.Time `json:"recounted,omitzero"`
}

// CreateBucketRequest creates a bucket owned by Owner (a user's access
// key; default: the caller), with an optional quota in bytes.
type CreateBucketRequest struct {
	Name       string `json:"name"`
	Owner      string `json:"owner,omitempty"`
	QuotaBytes int64  `json:"quota_bytes,omitempty"`
}

// BucketList answers GET buckets, sorted by name.
type BucketList struct {
	Buckets []Bucket `json:"buckets"`
}

// QuotaRequest sets a hard quota of Bytes (> 0).
type QuotaRequest struct {
	Bytes int64 `json:"bytes"`
}

// CreateBucket creates a bucket.
func (c *Client) CreateBucket(ctx context.Context, req CreateBucketRequest) (Bucket, error) {
	var out Bucket
	err := c.Do(ctx, http.MethodPost, PathBuckets, req, &out)
	return out, err
}

// ListBuckets lists every bucket with its usage and quota.
func (c *Client) ListBuckets(ctx context.Context) ([]Bucket, error) {
	var out BucketList
	err := c.Do(ctx, http.MethodGet, PathBuckets, nil, &out)
	return out.Buckets, err
}

// GetBucket returns one bucket with its usage and quota.
func (c *Client) GetBucket(ctx context.Context, name string) (Bucket, error) {
	var out Bucket
	err := c.Do(ctx, http.MethodGet, join(PathBuckets, name), nil, &out)
	return out, err
}

// RemoveBucket removes an empty bucket.
func (c *Client) RemoveBucket(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, join(PathBuckets, name), nil, nil)
}

// SetBucketQuota sets a bucket's hard quota in bytes.
func (c *Client) SetBucketQuota(ctx context.Context, name string, bytes int64) (Bucket, error) {
	var out Bucket
	err := c.Do(ctx, http.MethodPut, join(PathBuckets, name, "quota"), QuotaRequest{Bytes: bytes}, &out)
	return out, err
}

// ClearBucketQuota removes a bucket's quota.
func (c *Client) ClearBucketQuota(ctx context.Context, name string) (Bucket, error) {
	var out Bucket
	err := c.Do(ctx, http.MethodDelete, join(PathBuckets, name, "quota"), nil, &out)
	return out, err
}

// SetUserQuota sets a user's hard quota in bytes, over the buckets it owns.
func (c *Client) SetUserQuota(ctx context.Context, name string, bytes int64) (User, error) {
	var out User
	err := c.Do(ctx, http.MethodPut, join(PathUsers, name, "quota"), QuotaRequest{Bytes: bytes}, &out)
	return out, err
}

// ClearUserQuota removes a user's quota.
func (c *Client) ClearUserQuota(ctx context.Context, name string) (User, error) {
	var out User
	err := c.Do(ctx, http.MethodDelete, join(PathUsers, name, "quota"), nil, &out)
	return out, err
}

// sizeUnits are the suffixes ParseSize knows, longest first within each
// family: SI with B (powers of 1000), IEC (powers of 1024), and bare
// letters, which mean IEC as in dd and the node's --block-size.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50}, {"EiB", 1 << 60},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15}, {"EB", 1e18},
	{"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"P", 1 << 50}, {"E", 1 << 60},
	{"B", 1},
}

// ParseSize reads a size in bytes: a number (decimals allowed before a
// unit) and an optional unit, case-sensitive: KB MB GB TB PB EB are
// powers of 1000 (2TB = 2,000,000,000,000 bytes), KiB MiB GiB TiB PiB EiB
// powers of 1024 (500GiB), and the bare letters K M G T P E powers of 1024
// too; B or nothing is bytes. Spaces between number and unit are allowed.
// A result of less than one byte, a negative size, or one past 2^63-1
// bytes is an error.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	num, mult := in, int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(in, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(in, u.suffix)), u.mult
			break
		}
	}
	bad := fmt.Errorf("size %q: want a number of bytes with an optional unit, e.g. 2TB, 500GiB, 10MB, 1048576", s)
	if num == "" || strings.ContainsAny(num, "+-eE_ ") {
		return 0, bad
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n < 1 || n > math.MaxInt64/mult {
			return 0, bad
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, bad
	}
	v := f * float64(mult)
	if v < 1 || v >= math.MaxInt64 {
		return 0, bad
	}
	return int64(v), nil
}

// FormatSize writes bytes for people, in the largest IEC unit that keeps
// the number at least 1, with up to one decimal: "1.5 GiB", "512 B".
func FormatSize(bytes int64) string {
	const units = "KMGTPE"
	if bytes < 1024 && bytes > -1024 {
		return strconv.FormatInt(bytes, 10) + " B"
	}
	v, i := float64(bytes)/1024, 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i:i+1] + "iB"
}
