package sigv

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Client is the real SDK client pointed at srv, with the configuration
// config.LoadDefaultConfig gives by default (checksums when_supported),
// built by hand so that nothing of the machine's AWS files or environment
// leaks in.
func s3Client(srv *verifyServer, opts ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:                     "us-east-1",
		Credentials:                awscreds.NewStaticCredentialsProvider(testAK, testSecret, ""),
		HTTPClient:                 srv.Client(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		// One attempt: each call is one request the server records.
		RetryMaxAttempts: 1,
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	}}, opts...)...)
}

// payload is n pseudo-random bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// want computes the base64 checksum of data independently of the code
// under test (CRC64NVME with the standard library's table).
func want(alg string, data []byte) string {
	var h hash.Hash
	switch alg {
	case "CRC32":
		h = crc32.NewIEEE()
	case "CRC32C":
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		h = crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	case "SHA1":
		h = sha1.New()
	case "SHA256":
		h = sha256.New()
	case "SHA512":
		h = sha512.New()
	default:
		panic(alg)
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// onlyReader hides Seek, so the SDK cannot rewind the body.
type onlyReader struct{ io.Reader }

func TestS3ClientPutObject(t *testing.T) {
	sizes := []int{0, 1, 64 << 10, 300<<10 + 17}
	for _, tls := range []bool{false, true} {
		srv := newVerifyServer(t, tls, testCreds)
		scheme := map[bool]string{false: "http", true: "https"}[tls]
		type variant struct {
			name string
			opt  func(*s3.Options)
			alg  types.ChecksumAlgorithm
			seek bool
		}
		variants := []variant{
			{name: "default", seek: true},
			{name: "when_required", opt: func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired }, seek: true},
			{name: "unseekable", seek: false},
		}
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
			types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmSha512} {
			variants = append(variants, variant{name: string(alg), alg: alg, seek: true})
		}
		for _, v := range variants {
			if !v.seek && !tls {
				continue // the SDK refuses unseekable bodies without TLS
			}
			for _, n := range sizes {
				t.Run(scheme+"/"+v.name+"/"+strconv.Itoa(n), func(t *testing.T) {
					data := payload(n)
					var opts []func(*s3.Options)
					if v.opt != nil {
						opts = append(opts, v.opt)
					}
					var body io.Reader = bytes.NewReader(data)
					if !v.seek {
						body = onlyReader{body}
					}
					in := &s3.PutObjectInput{
						Bucket: aws.String("bucket"), Key: aws.String("dir/ü key+=~!$'()*,;:@%2F"),
						Body: body, ContentLength: aws.Int64(int64(n)), ChecksumAlgorithm: v.alg,
					}
					_, err := s3Client(srv, opts...).PutObject(context.Background(), in)
					got := srv.last(t)
					mode := got.header.Get("X-Amz-Content-Sha256")
					t.Logf("x-amz-content-sha256 %s, x-amz-trailer %q, checksums %v", mode, got.header.Get("X-Amz-Trailer"), got.checksums)
					if got.err != nil || err != nil {
						t.Fatalf("server: %v; client: %v", got.err, err)
					}
					if !bytes.Equal(got.body, data) || got.size != int64(n) {
						t.Fatalf("server read %d bytes (size %d), want %d", len(got.body), got.size, n)
					}
					alg := string(v.alg)
					if alg == "" && v.name != "when_required" {
						alg = "CRC32" // the SDK's default
					}
					if alg != "" {
						if got.checksums[alg] != want(alg, data) {
							t.Errorf("verified checksums %v, want %s %s", got.checksums, alg, want(alg, data))
						}
					} else if len(got.checksums) != 0 {
						t.Errorf("checksums %v, want none", got.checksums)
					}
				})
			}
		}
	}
}

// Other calls of the SDK: query parameters, no body, presigned URLs.
func TestS3ClientOtherCalls(t *testing.T) {
	for _, tls := range []bool{false, true} {
		srv := newVerifyServer(t, tls, testCreds)
		c := s3Client(srv)
		ctx := context.Background()
		check := func(what string, err error) {
			t.Helper()
			got := srv.last(t)
			if got.err != nil {
				t.Errorf("%s (tls %v) %s?%s: server: %v", what, tls, got.path, got.query, got.err)
			} else if err != nil {
				t.Errorf("%s (tls %v): client: %v", what, tls, err)
			}
		}
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("a b/c+d"), PartNumber: aws.Int32(1), VersionId: aws.String("v1/+=")})
		check("HeadObject", err)
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("ключ"), VersionId: aws.String("x y")})
		check("DeleteObject", err)
		_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("bucket"), Key: aws.String("k"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
		check("PutObjectTagging", err)

		pc := s3.NewPresignClient(c)
		get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("pre signed/ü+"),
			ResponseContentDisposition: aws.String(`attachment; filename="x y.txt"`)}, s3.WithPresignExpires(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Get(get.URL)
		if err == nil {
			resp.Body.Close()
		}
		check("presigned GET", err)

		data := payload(100 << 10)
		put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("up load")})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(put.Method, put.URL, bytes.NewReader(data))
		req.Header = put.SignedHeader.Clone()
		resp, err = srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		got := srv.last(t)
		if got.err != nil || err != nil || !bytes.Equal(got.body, data) || !got.auth.Presigned {
			t.Errorf("presigned PUT (tls %v): server %v, client %v, %d bytes", tls, got.err, err, len(got.body))
		}
	}
}

// A body changed on its way to the verifier must fail: the trailer CRC32
// over TLS, the hex SHA-256 (and the CRC32 header) over plain HTTP.
func TestS3ClientTamperedBody(t *testing.T) {
	for _, tls := range []bool{false, true} {
		srv := newVerifyServer(t, tls, testCreds)
		srv.tamper = func(r io.Reader) io.Reader { return &flipReader{r: r, at: 70000} }
		data := payload(200 << 10)
		_, err := s3Client(srv).PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
		got := srv.last(t)
		wantErr := map[bool]error{false: ErrContentSHA256Mismatch, true: ErrBadChecksum}[tls]
		if !errors.Is(got.err, wantErr) {
			t.Errorf("tls %v: server error %v, want %v", tls, got.err, wantErr)
		}
		if err == nil {
			t.Errorf("tls %v: the client was told its tampered upload succeeded", tls)
		}
	}
}

// flipReader flips the bits of the byte at offset at.
type flipReader struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if i := f.at - f.off; i >= 0 && i < int64(n) {
		p[i] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

// minio-go signs every chunk over plain HTTP (STREAMING-AWS4-HMAC-SHA256-
// PAYLOAD, with a signed trailer when it adds a checksum) and sends an
// unsigned trailer over TLS.
func TestMinioClientPutObject(t *testing.T) {
	for _, tls := range []bool{false, true} {
		srv := newVerifyServer(t, tls, testCreds)
		u, _ := url.Parse(srv.URL)
		for _, trailing := range []bool{false, true} {
			c, err := minio.New(u.Host, &minio.Options{
				Creds: miniocreds.NewStaticV4(testAK, testSecret, ""), Secure: tls, Region: "us-east-1",
				Transport: srv.Client().Transport, TrailingHeaders: trailing, MaxRetries: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{0, 10, 64 << 10, 200<<10 + 3} {
				for _, sum := range []minio.ChecksumType{minio.ChecksumNone, minio.ChecksumCRC32C, minio.ChecksumCRC64NVME, minio.ChecksumSHA256} {
					if sum != minio.ChecksumNone && !trailing {
						continue
					}
					name := "tls=" + strconv.FormatBool(tls) + "/trailing=" + strconv.FormatBool(trailing) + "/" + strconv.Itoa(n) + "/" + sum.String()
					t.Run(name, func(t *testing.T) {
						data := payload(n)
						_, err := c.PutObject(context.Background(), "bucket", "min io/ü+=", bytes.NewReader(data), int64(n),
							minio.PutObjectOptions{Checksum: sum, DisableMultipart: true})
						got := srv.last(t)
						t.Logf("x-amz-content-sha256 %s, x-amz-trailer %q, checksums %v", got.header.Get("X-Amz-Content-Sha256"), got.header.Get("X-Amz-Trailer"), got.checksums)
						if got.err != nil || err != nil {
							t.Fatalf("server: %v; client: %v", got.err, err)
						}
						if !bytes.Equal(got.body, data) {
							t.Fatalf("server read %d bytes, want %d", len(got.body), n)
						}
						if sum != minio.ChecksumNone && n > 0 { // minio-go sends no checksum with an empty body
							alg := strings.ToUpper(sum.String())
							if got.checksums[alg] != want(alg, data) {
								t.Errorf("checksums %v, want %s %s", got.checksums, alg, want(alg, data))
							}
						}
					})
				}
			}
		}
	}
}
