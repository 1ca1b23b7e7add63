package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strata-io/strata/adminapi"
)

// Workload says what the clients do.
type Workload struct {
	Seed      uint64
	Endpoints []string // S3 URLs; client i starts on endpoint i mod len
	AccessKey string
	SecretKey string
	Clients   int
	Buckets   []string // made before the run; keys are spread over them
	Keys      int      // distinct keys per bucket (few: overwrites and races happen)
	// MaxSize caps object sizes (32 MiB: the range); sizes follow
	// a skewed mix: most small, some blocks, a few large and multipart.
	MaxSize int64
	// OpTimeout bounds one operation: a hang becomes a failed operation.
	OpTimeout time.Duration
	// Metadata adds the control-plane operations: CreateBucket,
	// DeleteBucket and HeadBucket of MetaNames shared bucket names, and
	// create, remove, show, attach and detach a policy of MetaNames
	// shared user names (admin API), so that they race.
	Metadata  bool
	MetaNames int // default 4
	// Cold is the number of objects (256 KiB to 4 MiB) written once, in
	// the first bucket under keys starting with coldPrefix, before the run
	// and never touched again by the clients: the bitrot fault flips bits
	// in their shard files, which stay long enough for the scanner's
	// repair to be timed. They are checked like every key.
	Cold int
	// Prefix is put before every bucket and user name the workload makes,
	// so runs against a shared deployment do not collide.
	Prefix string
}

// coldPrefix starts the keys of the cold objects (Workload.Cold).
const coldPrefix = "cold-"

// WriteCold writes the cold objects, as client number w.Clients, and
// records them in h; a PUT that fails is retried for up to 30 s.
func (w *Workload) WriteCold(ctx context.Context, h *History) error {
	if w.Cold == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(w.Seed, 0xc01d))
	cl := w.s3Client(w.Endpoints[0])
	for i := range w.Cold {
		size := 256<<10 + r.Int64N(4<<20-256<<10)
		b := body(w.Seed, w.Clients, i, size)
		sum := sha256.Sum256(b)
		op := Op{Client: w.Clients, Kind: OpPut, Endpoint: w.Endpoints[0], Bucket: w.Buckets[0],
			Key: fmt.Sprintf("%s%03d", coldPrefix, i), Size: size, SHA256: hex.EncodeToString(sum[:])}
		deadline := time.Now().Add(30 * time.Second)
		for {
			o := op
			w.do(ctx, h, &o, func(ctx context.Context) error { return w.put(ctx, cl, &o, b) })
			if o.Status == OK {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("cold object %s: %s", o.Key, o.Err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

// metaBucket and metaUser are the shared names of the metadata operations.
func (w *Workload) metaBucket(i int) string { return fmt.Sprintf("%sm-%d", w.Prefix, i) }
func (w *Workload) metaUser(i int) string   { return fmt.Sprintf("%su-%d", w.Prefix, i) }

func (w *Workload) metaNames() int {
	if w.MetaNames > 0 {
		return w.MetaNames
	}
	return 4
}

func (w *Workload) s3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(w.AccessKey, w.SecretKey, ""),
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		RetryMaxAttempts: 1, // no retries: the history must show every failure
		HTTPClient:       &http.Client{Timeout: w.OpTimeout},
	})
}

func (w *Workload) admin(endpoint string) *adminapi.Client {
	return &adminapi.Client{Endpoint: endpoint, AccessKey: w.AccessKey, SecretKey: w.SecretKey,
		HTTP: &http.Client{Timeout: w.OpTimeout}}
}

// size draws an object size: 40% up to 4 KiB (0 included), 30% up to
// 256 KiB (around the inline limit), 20% up to 4 MiB (several blocks), 10%
// up to MaxSize.
func (w *Workload) size(r *rand.Rand) int64 {
	var n int64
	switch p := r.IntN(100); {
	case p < 5:
		n = 0
	case p < 40:
		n = r.Int64N(4 << 10)
	case p < 70:
		n = r.Int64N(256 << 10)
	case p < 90:
		n = r.Int64N(4 << 20)
	default:
		n = 4<<20 + r.Int64N(max(1, w.MaxSize-4<<20))
	}
	return min(n, w.MaxSize)
}

// body makes the deterministic content of one PUT: a ChaCha8 stream keyed
// by the run's seed, the client and its operation number.
func body(seed uint64, client, n int, size int64) []byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[0:], seed)
	binary.LittleEndian.PutUint64(k[8:], uint64(client))
	binary.LittleEndian.PutUint64(k[16:], uint64(n))
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(k).Read(b)
	return b
}

// Run runs the clients until ctx ends and records into h.
func (w *Workload) Run(ctx context.Context, h *History) {
	var wg sync.WaitGroup
	for i := range w.Clients {
		wg.Go(func() { w.client(ctx, h, i) })
	}
	wg.Wait()
}

func (w *Workload) client(ctx context.Context, h *History, id int) {
	r := rand.New(rand.NewPCG(w.Seed, uint64(id)+1))
	clients := make([]*s3.Client, len(w.Endpoints))
	for i, ep := range w.Endpoints {
		clients[i] = w.s3Client(ep)
	}
	for n := 0; ctx.Err() == nil; n++ {
		// Mostly the client's home endpoint, sometimes another: requests
		// then land on every node, dead ones included.
		ei := id % len(w.Endpoints)
		if r.IntN(4) == 0 {
			ei = r.IntN(len(w.Endpoints))
		}
		cl, ep := clients[ei], w.Endpoints[ei]
		bucket := w.Buckets[r.IntN(len(w.Buckets))]
		key := fmt.Sprintf("k%03d", r.IntN(w.Keys))
		op := Op{Client: id, Endpoint: ep, Bucket: bucket, Key: key}
		p := r.IntN(100)
		switch {
		case p < 30:
			op.Kind = OpPut
			size := w.size(r)
			b := body(w.Seed, id, n, size)
			sum := sha256.Sum256(b)
			op.Size, op.SHA256 = size, hex.EncodeToString(sum[:])
			op.Multipart = size >= 6<<20 && r.IntN(2) == 0
			w.do(ctx, h, &op, func(ctx context.Context) error { return w.put(ctx, cl, &op, b) })
		case p < 58:
			op.Kind = OpGet
			w.do(ctx, h, &op, func(ctx context.Context) error { return get(ctx, cl, &op) })
		case p < 68:
			op.Kind = OpDelete
			w.do(ctx, h, &op, func(ctx context.Context) error {
				_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
				return err
			})
		case p < 76 || !w.Metadata:
			op.Kind, op.Key = OpList, ""
			w.do(ctx, h, &op, func(ctx context.Context) error { return list(ctx, cl, &op) })
		case p < 88:
			op.Key, op.Bucket = "", w.metaBucket(r.IntN(w.metaNames()))
			w.bucketOp(ctx, h, cl, &op, p)
		default:
			op.Key, op.Bucket, op.Name = "", "", w.metaUser(r.IntN(w.metaNames()))
			w.userOp(ctx, h, w.admin(ep), &op, p)
		}
	}
}

// Definite answers of the metadata operations, told apart from failures.
var (
	errAbsent = errors.New("does not exist")
	errExists = errors.New("already exists")
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// bucketOp creates (p < 80), deletes (p < 84) or heads op.Bucket.
func (w *Workload) bucketOp(ctx context.Context, h *History, cl *s3.Client, op *Op, p int) {
	name := op.Bucket
	switch {
	case p < 80:
		op.Kind = OpCreateBucket
		w.do(ctx, h, op, func(ctx context.Context) error {
			_, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
			if c := apiCode(err); c == "BucketAlreadyOwnedByYou" || c == "BucketAlreadyExists" {
				return errExists
			}
			return err
		})
	case p < 84:
		op.Kind = OpDeleteBucket
		w.do(ctx, h, op, func(ctx context.Context) error {
			_, err := cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
			if apiCode(err) == "NoSuchBucket" {
				return errAbsent
			}
			return err
		})
	default:
		op.Kind = OpHeadBucket
		w.do(ctx, h, op, func(ctx context.Context) error {
			_, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
			return err
		})
	}
}

// userOp creates (p < 91), removes (p < 94), shows (p < 96), attaches the
// readonly policy to (p < 98) or detaches it from op.Name.
func (w *Workload) userOp(ctx context.Context, h *History, adm *adminapi.Client, op *Op, p int) {
	name := op.Name
	attach := adminapi.AttachRequest{User: name}
	switch {
	case p < 91:
		op.Kind = OpCreateUser
		w.do(ctx, h, op, func(ctx context.Context) error {
			_, err := adm.CreateUser(ctx, adminapi.CreateUserRequest{Name: name})
			var ae *adminapi.Error
			if errors.As(err, &ae) && ae.Code == adminapi.CodeUserExists {
				return errExists
			}
			return err
		})
	case p < 94:
		op.Kind = OpDeleteUser
		w.do(ctx, h, op, func(ctx context.Context) error { return adm.RemoveUser(ctx, name) })
	case p < 96:
		op.Kind = OpGetUser
		w.do(ctx, h, op, func(ctx context.Context) error {
			_, err := adm.GetUser(ctx, name)
			return err
		})
	case p < 98:
		op.Kind = OpAttachPolicy
		w.do(ctx, h, op, func(ctx context.Context) error { return adm.AttachPolicy(ctx, "readonly", attach) })
	default:
		// "Not attached" (InvalidArgument) comes after the user was found:
		// the user exists.
		op.Kind = OpDetachPolicy
		w.do(ctx, h, op, func(ctx context.Context) error {
			err := adm.DetachPolicy(ctx, "readonly", attach)
			var ae *adminapi.Error
			if errors.As(err, &ae) && ae.Code == adminapi.CodeInvalidArgument {
				return errExists
			}
			return err
		})
	}
}

// do times fn, classifies its error and records op. An operation cut by the
// end of the run is not recorded as failed but as what it is: unknown, so
// it is recorded as Fail (a write that may have happened).
func (w *Workload) do(ctx context.Context, h *History, op *Op, fn func(context.Context) error) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.OpTimeout)
	defer cancel()
	op.Start = h.Now()
	err := fn(octx)
	op.End = h.Now()
	switch {
	case err == nil:
		op.Status = OK
	case errors.Is(err, errExists):
		op.Status = Exists
	case errors.Is(err, errAbsent), isNotFound(err):
		op.Status = NotFound
	default:
		op.Status, op.Err = Fail, err.Error()
	}
	h.Add(*op)
}

func (w *Workload) put(ctx context.Context, cl *s3.Client, op *Op, b []byte) error {
	if !op.Multipart {
		_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &op.Bucket, Key: &op.Key, Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))})
		return err
	}
	tm := transfermanager.New(cl, func(o *transfermanager.Options) {
		o.PartSizeBytes = 5 << 20
		o.MultipartUploadThreshold = 5 << 20
		o.Concurrency = 2
	})
	_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &op.Bucket, Key: &op.Key, Body: bytes.NewReader(b)})
	return err
}

func get(ctx context.Context, cl *s3.Client, op *Op) error {
	out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: &op.Bucket, Key: &op.Key})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	hsum := sha256.New()
	n, err := io.Copy(hsum, out.Body)
	if err != nil {
		return err // a body cut short is a failed read, not a corrupt one
	}
	if out.ContentLength != nil && *out.ContentLength != n {
		return fmt.Errorf("body of %d bytes, Content-Length %d", n, *out.ContentLength)
	}
	op.Size, op.SHA256 = n, hex.EncodeToString(hsum.Sum(nil))
	return nil
}

func list(ctx context.Context, cl *s3.Client, op *Op) error {
	keys, err := listAll(ctx, cl, op.Bucket)
	op.Keys = keys
	return err
}

// listAll lists every key of bucket with ListObjectsV2 and its size.
func listAll(ctx context.Context, cl *s3.Client, bucket string) (map[string]int64, error) {
	keys := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			keys[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return keys, nil
}

// isNotFound reports a definite "absent" answer: NoSuchKey, HeadBucket's
// 404, an admin API 404 (NoSuchUser).
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
		return true
	}
	var adm *adminapi.Error
	return errors.As(err, &adm) && adm.Status == http.StatusNotFound
}
