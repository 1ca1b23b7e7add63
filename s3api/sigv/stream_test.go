package sigv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// streamSigner signs aws-chunked bodies for tests. It computes the chain
// from the definition (string to sign of AWS's chunked upload page), apart
// from the code under test; the AWS examples pin both to the same values.
type streamSigner struct {
	key           []byte
	amzDate       string
	scope         string
	seed          string
	unsigned      bool
	trailerSigned bool
}

func (s streamSigner) hmacHex(str string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(str))
	return hex.EncodeToString(h.Sum(nil))
}

// encode frames chunks (the last should be empty, the final chunk) and
// trailers ("name:value"); override[i] replaces the signature of chunk i,
// override[-1] that of the trailer.
func (s streamSigner) encode(chunks []string, trailers []string, override map[int]string) string {
	var b strings.Builder
	prev := s.seed
	for i, c := range chunks {
		b.WriteString(strconv.FormatInt(int64(len(c)), 16))
		if !s.unsigned {
			sig := s.hmacHex("AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + prev + "\n" + emptySHA256 + "\n" + sha256Hex(c))
			if o, ok := override[i]; ok {
				sig = o
			}
			prev = sig
			b.WriteString(";chunk-signature=" + sig)
		}
		b.WriteString("\r\n")
		if len(c) > 0 {
			b.WriteString(c + "\r\n")
		}
	}
	var canon string
	for _, tr := range trailers {
		b.WriteString(tr + "\r\n")
		canon += tr + "\n"
	}
	if s.trailerSigned {
		sig := s.hmacHex("AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + prev + "\n" + sha256Hex(canon))
		if o, ok := override[-1]; ok {
			sig = o
		}
		b.WriteString("x-amz-trailer-signature:" + sig + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// streamRequest signs, with the SDK signer, a PUT whose payload mode is
// mode, declaring decodedLen bytes and the trailer named trailer.
func streamRequest(t testing.TB, mode string, decodedLen int, trailer string, extra map[string]string) (*Request, streamSigner) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://s3.example.net/bucket/object", nil)
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("Content-Encoding", "aws-chunked")
	if decodedLen >= 0 {
		req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decodedLen))
	}
	if trailer != "" {
		req.Header.Set("X-Amz-Trailer", trailer)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	now := time.Now().UTC()
	if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, mode, "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	authz := req.Header.Get("Authorization")
	s := streamSigner{
		key:           deriveSigningKey(testSecret, now.Format("20060102"), "us-east-1", "s3"),
		amzDate:       now.Format(iso8601Basic),
		scope:         now.Format("20060102") + "/us-east-1/s3/aws4_request",
		seed:          authz[strings.LastIndex(authz, "=")+1:],
		unsigned:      mode == streamingUnsignedTrailer,
		trailerSigned: mode == streamingSignedTrailer,
	}
	return clientSide(req), s
}
