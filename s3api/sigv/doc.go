// Package sigv authenticates S3 requests signed with AWS Signature Version
// 4 and decodes and verifies their bodies.
//
// It owns the SigV4 canonical request (as S3 builds it: the path signed as
// sent, not encoded twice), the Authorization header and presigned-query
// forms, the date and expiry rules, and every payload mode of
// x-amz-content-sha256: a hex SHA-256, UNSIGNED-PAYLOAD, and aws-chunked
// bodies with chained chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD),
// with a signed trailer (...-PAYLOAD-TRAILER) or unsigned with a trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER), and the flexible checksums
// (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256, -sha512, -md5)
// sent as headers or trailers.
//
// Main types: Request (the transport-independent view of a request that
// the s3api layer fills from fasthttp), Verify / Verifier (authenticate,
// the latter caching signing keys), Auth (the verified identity; its Body
// wraps the raw body in a reader that verifies as it decodes, holding at
// most one chunk, MaxChunkSize, in memory). Errors are the sentinels of
// sigv.go, wrapped with %w; s3api/errors.go maps them to S3 error codes.
//
// The caller must build Request.Path and Request.Query from the request
// line exactly as received (fasthttp: URI().PathOriginal() and
// URI().QueryString(), never the decoded, normalised URI().Path()), and
// Request.Header must answer lower-case names including "host" and
// "content-length" (several values of one header joined by ",").
//
// It imports no other Strata package and holds no package-level state.
package sigv
