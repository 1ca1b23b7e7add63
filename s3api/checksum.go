package s3api

import (
	"encoding/base64"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
)

// The flexible checksums S3 stores with an object or a part
// (x-amz-checksum-<alg>, x-amz-sdk-checksum-algorithm, x-amz-checksum-type,
// x-amz-checksum-mode). sigv verifies checksum headers and trailers against
// the body as it is read; this file decides which algorithm the data plane
// stores and answers the checksums back.

const (
	msgMultipleChecksums = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
	msgBadAlgorithm      = "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
)

// checksumAlgorithm returns the canonical name of a checksum algorithm
// spelled in any case ("crc32" -> "CRC32"), and whether S3 stores it.
func checksumAlgorithm(name string) (string, bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case dataplane.ChecksumCRC32:
		return dataplane.ChecksumCRC32, true
	case dataplane.ChecksumCRC32C:
		return dataplane.ChecksumCRC32C, true
	case dataplane.ChecksumCRC64NVME:
		return dataplane.ChecksumCRC64NVME, true
	case dataplane.ChecksumSHA1:
		return dataplane.ChecksumSHA1, true
	case dataplane.ChecksumSHA256:
		return dataplane.ChecksumSHA256, true
	}
	return "", false
}

// checksumSize is the digest size in bytes of a canonical algorithm.
func checksumSize(alg string) int {
	switch alg {
	case dataplane.ChecksumCRC32, dataplane.ChecksumCRC32C:
		return 4
	case dataplane.ChecksumCRC64NVME:
		return 8
	case dataplane.ChecksumSHA1:
		return 20
	case dataplane.ChecksumSHA256:
		return 32
	}
	return 0
}

// validChecksumValue reports whether v is the base64 of an alg digest.
func validChecksumValue(alg, v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == checksumSize(alg) && len(b) > 0
}

// checksumType returns the canonical checksum type (FULL_OBJECT or
// COMPOSITE) spelled in any case.
func checksumType(v string) (string, bool) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case dataplane.ChecksumFullObject:
		return dataplane.ChecksumFullObject, true
	case dataplane.ChecksumComposite:
		return dataplane.ChecksumComposite, true
	}
	return "", false
}

// declaredChecksum is the checksum a PUT or UploadPart request declares
// for its body.
type declaredChecksum struct {
	alg   string // canonical algorithm; "" when the request declares none
	value string // base64 from the header; "" when it comes as a trailer
}

// requestChecksum reads the checksum a request declares for its body: one
// x-amz-checksum-<alg> header or trailer (x-amz-trailer), optionally named
// again by x-amz-sdk-checksum-algorithm. It refuses what S3 refuses:
// several checksums, an algorithm S3 does not store, a malformed value, and
// an x-amz-sdk-checksum-algorithm that names another algorithm or none
// that is sent.
func requestChecksum(r *request) (declaredChecksum, error) {
	var d declaredChecksum
	n := 0
	for k, v := range r.fctx.Request.Header.All() {
		name := strings.ToLower(string(k))
		suffix, ok := strings.CutPrefix(name, checksumPrefix)
		if !ok || suffix == "type" || suffix == "mode" || suffix == "algorithm" {
			continue
		}
		alg, ok := checksumAlgorithm(suffix)
		if !ok {
			return d, apiError(codeInvalidRequest, "The checksum algorithm of header "+name+" is not supported.")
		}
		n++
		d.alg, d.value = alg, strings.TrimSpace(string(v))
	}
	for t := range strings.SplitSeq(r.header("x-amz-trailer"), ",") {
		suffix, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(t)), checksumPrefix)
		if !ok {
			continue
		}
		alg, ok := checksumAlgorithm(suffix)
		if !ok {
			return d, apiError(codeInvalidRequest, "The checksum algorithm of trailer "+strings.TrimSpace(t)+" is not supported.")
		}
		n++
		d.alg, d.value = alg, ""
	}
	if n > 1 {
		return declaredChecksum{}, apiError(codeInvalidRequest, msgMultipleChecksums)
	}
	if d.value != "" && !validChecksumValue(d.alg, d.value) {
		return declaredChecksum{}, apiError(codeInvalidRequest, "Value for "+checksumPrefix+strings.ToLower(d.alg)+" header is invalid.")
	}
	if v := r.header("x-amz-sdk-checksum-algorithm"); v != "" {
		alg, ok := checksumAlgorithm(v)
		switch {
		case !ok:
			return declaredChecksum{}, apiError(codeInvalidRequest, msgBadAlgorithm)
		case d.alg == "":
			return declaredChecksum{}, apiError(codeInvalidRequest, "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
		case alg != d.alg:
			return declaredChecksum{}, apiError(codeInvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
	}
	return d, nil
}

// setChecksumHeaders answers a stored checksum: x-amz-checksum-<alg> and,
// for an object's, x-amz-checksum-type.
func setChecksumHeaders(h *fasthttp.ResponseHeader, c dataplane.Checksum) {
	if c.Algorithm == "" || c.Value == "" {
		return
	}
	h.Set(checksumPrefix+strings.ToLower(c.Algorithm), c.Value)
	if c.Type != "" {
		h.Set("x-amz-checksum-type", c.Type)
	}
}

// checksumMode reports whether the client asked for checksums on GET/HEAD.
func checksumMode(r *request) bool {
	return strings.EqualFold(strings.TrimSpace(r.header("x-amz-checksum-mode")), "ENABLED")
}

// checksumXML is the Checksum<ALG> elements of S3 XML bodies (results of
// Complete, CopyObject, UploadPartCopy, ListParts, GetObjectAttributes, and
// the parts of a CompleteMultipartUpload request).
type checksumXML struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

// checksumElems puts c in the element of its algorithm.
func checksumElems(c dataplane.Checksum) checksumXML {
	var x checksumXML
	switch c.Algorithm {
	case dataplane.ChecksumCRC32:
		x.ChecksumCRC32 = c.Value
	case dataplane.ChecksumCRC32C:
		x.ChecksumCRC32C = c.Value
	case dataplane.ChecksumCRC64NVME:
		x.ChecksumCRC64NVME = c.Value
	case dataplane.ChecksumSHA1:
		x.ChecksumSHA1 = c.Value
	case dataplane.ChecksumSHA256:
		x.ChecksumSHA256 = c.Value
	}
	return x
}

// declared returns the one checksum the elements carry: its algorithm and
// value, and how many elements are set (0 when none, more than 1 is an
// error for the caller).
func (x checksumXML) declared() (alg, value string, n int) {
	for _, c := range []struct{ alg, v string }{
		{dataplane.ChecksumCRC32, x.ChecksumCRC32},
		{dataplane.ChecksumCRC32C, x.ChecksumCRC32C},
		{dataplane.ChecksumCRC64NVME, x.ChecksumCRC64NVME},
		{dataplane.ChecksumSHA1, x.ChecksumSHA1},
		{dataplane.ChecksumSHA256, x.ChecksumSHA256},
	} {
		if v := strings.TrimSpace(c.v); v != "" {
			alg, value = c.alg, v
			n++
		}
	}
	return alg, value, n
}
