package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxPresignExpiry is the longest validity SigV4 allows a presigned URL.
const MaxPresignExpiry = 7 * 24 * time.Hour

// Presign returns a SigV4 query-signed (presigned) path-style URL for
// method (GET, PUT, HEAD or DELETE) on bucket/key at endpoint, valid for
// expires from now. Anyone holding the URL can make that one request, as
// the signing user, until it expires: what grid middleware hands out.
func (c *Client) Presign(ctx context.Context, method, bucket, key string, expires time.Duration, now time.Time) (string, error) {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete:
	default:
		return "", fmt.Errorf("presign: method %q (want GET, PUT, HEAD or DELETE)", method)
	}
	if expires < time.Second || expires > MaxPresignExpiry {
		return "", fmt.Errorf("presign: expiry %v outside 1s..%v", expires, MaxPresignExpiry)
	}
	if bucket == "" || key == "" {
		return "", errors.New("presign: need a bucket and a key")
	}
	base, err := url.Parse(strings.TrimRight(c.Endpoint, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return "", fmt.Errorf("presign: bad endpoint %q", c.Endpoint)
	}
	u := *base
	u.Path = base.Path + "/" + bucket + "/" + key
	u.RawPath = base.EscapedPath() + "/" + s3Escape(bucket) + "/" + s3Escape(key)
	u.RawQuery = "X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return "", err
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	signed, _, err := signer.PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", region, now)
	if err != nil {
		return "", err
	}
	return signed, nil
}

// s3Escape percent-encodes a bucket or key for an S3 URL path: everything
// but the unreserved characters and '/'.
func s3Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
