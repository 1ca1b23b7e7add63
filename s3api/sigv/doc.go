// Package sigv authenticates S3 requests signed with AWS Signature Version
// 4 or Version 2, browser POST upload forms, and decodes and verifies
// request bodies.
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
// Signature Version 2 (v2.go) is the HMAC-SHA1 of method, Content-MD5,
// Content-Type, Date (empty when x-amz-date is sent), the x-amz-* headers
// and the canonical resource ("/bucket/key" for path- and
// virtual-hosted-style requests alike, plus the signed sub-resources such
// as ?acl or ?versionId=), sent as "Authorization: AWS AccessKeyId:Signature"
// (15 minutes of clock skew) or presigned (AWSAccessKeyId, Expires in unix
// seconds, Signature). Its payload is never signed; Content-MD5 is the data
// plane's to check.
//
// Browser POST uploads (post.go): VerifyPost checks the policy signature of
// a form (V4: x-amz-algorithm, x-amz-credential, x-amz-date,
// x-amz-signature; V2: AWSAccessKeyId, signature) and decodes the policy;
// Policy.Check applies its expiration and conditions (exact and
// starts-with matches, every form field covered) and Policy.CheckLength its
// content-length-range. Parsing the multipart form and streaming the file
// are the caller's.
//
// Main types: Request (the transport-independent view of a request that
// the s3api layer fills from fasthttp), Verify / Verifier (authenticate,
// the latter caching signing keys), Auth (the verified identity; its Body
// wraps the raw body in a reader that verifies as it decodes, holding at
// most one chunk, MaxChunkSize, in memory), PostAuth and Policy (a verified
// POST form). Errors are the sentinels of sigv.go and post.go, wrapped with
// %w, and the types PolicyError and MissingFieldError; s3api maps them to
// S3 error codes.
//
// The caller must build Request.Path and Request.Query from the request
// line exactly as received (fasthttp: URI().PathOriginal() and
// URI().QueryString(), never the decoded, normalised URI().Path()), and
// Request.Header must answer lower-case names including "host" and
// "content-length" (several values of one header joined by ",").
// Request.HeaderNames must list the headers sent and
// Request.VirtualHostBucket name the bucket of a virtual-hosted-style
// request: Signature Version 2 signs both.
//
// Fuzz targets (fuzz_test.go, seeds in testdata/fuzz) cover the aws-chunked
// decoder, the SigV4 canonical request (against the SDK signer), the V2
// string to sign and the POST policy decoder.
//
// It imports no other Strata package and holds no package-level state.
package sigv
