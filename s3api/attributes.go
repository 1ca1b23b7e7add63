package s3api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-io/strata/dataplane"
)

// objectAttributes is the set x-amz-object-attributes asks for.
type objectAttributes struct {
	etag, checksum, parts, storageClass, size bool
}

// parseObjectAttributes reads x-amz-object-attributes: a comma-separated
// list of ETag, Checksum, ObjectParts, StorageClass and ObjectSize, at
// least one.
func parseObjectAttributes(v string) (objectAttributes, error) {
	var a objectAttributes
	n := 0
	for name := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(name) {
		case "":
			continue
		case "ETag":
			a.etag = true
		case "Checksum":
			a.checksum = true
		case "ObjectParts":
			a.parts = true
		case "StorageClass":
			a.storageClass = true
		case "ObjectSize":
			a.size = true
		default:
			return a, apiError(codeInvalidArgument, "Invalid attribute name specified.")
		}
		n++
	}
	if n == 0 {
		return a, apiError(codeInvalidArgument, "Invalid attribute name specified.")
	}
	return a, nil
}

// getObjectAttributes serves GetObjectAttributes (GET ?attributes): what
// HEAD tells plus the parts of a multipart object, paged with
// x-amz-max-parts and x-amz-part-number-marker.
func (s *Server) getObjectAttributes(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return err
	}
	attrs, err := parseObjectAttributes(r.header("x-amz-object-attributes"))
	if err != nil {
		return err
	}
	maxParts, err := headerInt(r, "x-amz-max-parts", maxListParts)
	if err != nil {
		return err
	}
	maxParts = min(maxParts, maxListParts)
	marker, err := headerInt(r, "x-amz-part-number-marker", 0)
	if err != nil {
		return err
	}
	info, err := s.deps.Objects.HeadObject(r.ctx, r.bucket, r.key, dataplane.GetOptions{VersionID: versionID})
	if err != nil {
		return err
	}
	res := getObjectAttributesResponse{Xmlns: s3Namespace}
	if attrs.etag {
		res.ETag = info.ETag // unquoted, as S3 answers here
	}
	if attrs.checksum && info.Checksum.Algorithm != "" {
		res.Checksum = &attributeChecksum{checksumXML: checksumElems(info.Checksum), ChecksumType: info.Checksum.Type}
	}
	if attrs.parts && len(info.Parts) > 0 {
		op := &attributeParts{PartsCount: len(info.Parts), PartNumberMarker: marker, MaxParts: maxParts}
		for _, p := range info.Parts {
			if p.Number <= marker {
				continue
			}
			if len(op.Parts) == maxParts {
				op.IsTruncated = true
				break
			}
			op.Parts = append(op.Parts, attributePart{PartNumber: p.Number, Size: p.Size, checksumXML: checksumElems(p.Checksum)})
			op.NextPartNumberMarker = p.Number
		}
		if !op.IsTruncated {
			op.NextPartNumberMarker = 0
		}
		res.ObjectParts = op
	}
	if attrs.storageClass {
		res.StorageClass = "STANDARD"
	}
	if attrs.size {
		size := info.Size
		res.ObjectSize = &size
	}
	r.fctx.Response.Header.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	setVersionHeader(r, b, info.VersionID)
	return s.writeXML(r, res)
}

// headerInt reads a non-negative integer request header (def when
// absent); a malformed one is InvalidArgument.
func headerInt(r *request, name string, def int) (int, error) {
	v := strings.TrimSpace(r.header(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, apiError(codeInvalidArgument, "Provided "+name+" not an integer or within integer range")
	}
	return n, nil
}
