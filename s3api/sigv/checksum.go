package sigv

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"strings"

	"github.com/minio/crc64nvme"
)

// checksumPrefix starts the header (or trailer) carrying a checksum.
const checksumPrefix = "x-amz-checksum-"

// checksumHeaderNames are the x-amz-checksum-* names Verify looks for:
// those S3 defines as checksums of the body. x-amz-checksum-type and
// x-amz-checksum-mode are not checksums and are not listed.
func checksumHeaderNames() [10]string {
	return [...]string{
		"x-amz-checksum-crc32",
		"x-amz-checksum-crc32c",
		"x-amz-checksum-crc64nvme",
		"x-amz-checksum-sha1",
		"x-amz-checksum-sha256",
		"x-amz-checksum-sha512",
		"x-amz-checksum-md5",
		"x-amz-checksum-xxhash64",
		"x-amz-checksum-xxhash3",
		"x-amz-checksum-xxhash128",
	}
}

// newChecksum returns the algorithm name ("CRC32", as S3 spells it) and a
// fresh hash for a checksum header or trailer name. CRC32 and CRC32C are
// stored big-endian, as S3 sends them; CRC64NVME is the NVMe CRC-64
// (reflected polynomial 0x9a6c9329ac4bc9b5) also big-endian.
func newChecksum(header string) (string, hash.Hash, error) {
	switch header {
	case "x-amz-checksum-crc32":
		return "CRC32", crc32.NewIEEE(), nil
	case "x-amz-checksum-crc32c":
		return "CRC32C", crc32.New(crc32.MakeTable(crc32.Castagnoli)), nil
	case "x-amz-checksum-crc64nvme":
		return "CRC64NVME", crc64nvme.New(), nil
	case "x-amz-checksum-sha1":
		return "SHA1", sha1.New(), nil
	case "x-amz-checksum-sha256":
		return "SHA256", sha256.New(), nil
	case "x-amz-checksum-sha512":
		return "SHA512", sha512.New(), nil
	case "x-amz-checksum-md5":
		return "MD5", md5.New(), nil
	}
	return "", nil, fmt.Errorf("%w: %s", ErrUnsupportedChecksum, header)
}

// digest is one checksum being computed over the decoded body.
type digest struct {
	header string // x-amz-checksum-...
	name   string // CRC32, ...
	h      hash.Hash
	want   string // base64 expected value; "" until the trailer gives it
}

// digests is the set of checksums to verify at the end of a body.
type digests []*digest

// add starts computing the checksum named by header (want may come later).
func (ds *digests) add(header, want string) error {
	for _, d := range *ds {
		if d.header == header {
			if want != "" {
				d.want = want
			}
			return nil
		}
	}
	name, h, err := newChecksum(header)
	if err != nil {
		return err
	}
	*ds = append(*ds, &digest{header: header, name: name, h: h, want: want})
	return nil
}

// write feeds decoded body bytes to every checksum.
func (ds digests) write(p []byte) {
	for _, d := range ds {
		d.h.Write(p)
	}
}

// verify compares every checksum with its expected value and records the
// verified ones in out.
func (ds digests) verify(out map[string]string) error {
	for _, d := range ds {
		got := base64.StdEncoding.EncodeToString(d.h.Sum(nil))
		if d.want != got {
			return fmt.Errorf("%w: %s is %s, computed %s", ErrBadChecksum, d.header, d.want, got)
		}
		out[d.name] = got
	}
	return nil
}

// parseTrailerNames splits an x-amz-trailer value into lower-case names.
func parseTrailerNames(v string) []string {
	var names []string
	for n := range strings.SplitSeq(v, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	return names
}
