package dataplane

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/minio/crc64nvme"
)

// normAlgorithm returns the canonical spelling of a checksum algorithm
// (S3 spells them in upper case; clients send either case), "" for none.
func normAlgorithm(a string) (string, error) {
	switch u := strings.ToUpper(a); u {
	case "", ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256:
		return u, nil
	}
	return "", fmt.Errorf("%w: unknown checksum algorithm %q", ErrInvalidChecksum, a)
}

// newChecksumHash returns the hash of algorithm a (canonical spelling).
func newChecksumHash(a string) hash.Hash {
	switch a {
	case ChecksumCRC32:
		return crc32.NewIEEE()
	case ChecksumCRC32C:
		return crc32.New(castagnoli)
	case ChecksumCRC64NVME:
		return crc64nvme.New()
	case ChecksumSHA1:
		return sha1.New()
	case ChecksumSHA256:
		return sha256.New()
	}
	return nil
}

// resolveChecksumType applies S3's rules to an algorithm/type pair of a
// multipart upload: no algorithm means CRC64NVME; no type means
// FULL_OBJECT for CRC64NVME (the only type it has) and COMPOSITE for the
// others; SHA1 and SHA256 are COMPOSITE only; CRC32 and CRC32C may be
// either. Other combinations are ErrInvalidChecksum.
func resolveChecksumType(algo, typ string) (string, string, error) {
	a, err := normAlgorithm(algo)
	if err != nil {
		return "", "", err
	}
	t := strings.ToUpper(typ)
	if t != "" && t != ChecksumFullObject && t != ChecksumComposite {
		return "", "", fmt.Errorf("%w: unknown checksum type %q", ErrInvalidChecksum, typ)
	}
	if a == "" {
		if t == ChecksumComposite {
			return "", "", fmt.Errorf("%w: COMPOSITE needs a checksum algorithm (CRC64NVME is FULL_OBJECT only)", ErrInvalidChecksum)
		}
		return ChecksumCRC64NVME, ChecksumFullObject, nil
	}
	if t == "" {
		if a == ChecksumCRC64NVME {
			return a, ChecksumFullObject, nil
		}
		return a, ChecksumComposite, nil
	}
	switch {
	case a == ChecksumCRC64NVME && t == ChecksumComposite:
		return "", "", fmt.Errorf("%w: CRC64NVME supports FULL_OBJECT only", ErrInvalidChecksum)
	case (a == ChecksumSHA1 || a == ChecksumSHA256) && t == ChecksumFullObject:
		return "", "", fmt.Errorf("%w: %s supports COMPOSITE only", ErrInvalidChecksum, a)
	}
	return a, t, nil
}

// checksumValue is the base64 S3 form of a digest.
func checksumValue(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

// CRC combination: crc(A||B) from crc(A), crc(B) and len(B), for the
// reflected CRCs with all-ones init and final xor that S3 uses (CRC32,
// CRC32C, CRC64NVME), by zlib's method: appending len(B) zero bytes to A is
// a linear map over GF(2), applied by repeated squaring of the one-zero-bit
// operator.

// crcParams are the reflected polynomial and width of one CRC.
type crcParams struct {
	poly  uint64
	width int
}

var (
	crcParamsCRC32     = crcParams{poly: crc32.IEEE, width: 32}
	crcParamsCRC32C    = crcParams{poly: crc32.Castagnoli, width: 32}
	crcParamsCRC64NVME = crcParams{poly: crc64nvme.NVME, width: 64}
)

// crcParamsOf returns the parameters of a CRC algorithm; ok is false for
// the SHA algorithms, which cannot be combined.
func crcParamsOf(algo string) (crcParams, bool) {
	switch algo {
	case ChecksumCRC32:
		return crcParamsCRC32, true
	case ChecksumCRC32C:
		return crcParamsCRC32C, true
	case ChecksumCRC64NVME:
		return crcParamsCRC64NVME, true
	}
	return crcParams{}, false
}

func gf2Times(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat []uint64) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}

// combine returns the CRC of A||B given crc1 = CRC(A), crc2 = CRC(B) and
// len2 = len(B).
func (p crcParams) combine(crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	even := make([]uint64, p.width) // operator for 2^k zero bits, k even
	odd := make([]uint64, p.width)  // k odd
	odd[0] = p.poly                 // one zero bit
	row := uint64(1)
	for n := 1; n < p.width; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(even, odd) // two zero bits
	gf2Square(odd, even) // four zero bits
	// Apply len2 zero bytes (the first squaring below makes one byte).
	for {
		gf2Square(even, odd)
		if len2&1 != 0 {
			crc1 = gf2Times(even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(odd, even)
		if len2&1 != 0 {
			crc1 = gf2Times(odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

// decodeCRC reads a base64 big-endian CRC of width bits.
func (p crcParams) decode(v string) (uint64, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != p.width/8 {
		return 0, fmt.Errorf("dataplane: malformed %d-bit checksum %q", p.width, v)
	}
	if p.width == 32 {
		return uint64(binary.BigEndian.Uint32(raw)), nil
	}
	return binary.BigEndian.Uint64(raw), nil
}

// encode writes a CRC as base64 big-endian bytes.
func (p crcParams) encode(crc uint64) string {
	if p.width == 32 {
		return checksumValue(binary.BigEndian.AppendUint32(nil, uint32(crc)))
	}
	return checksumValue(binary.BigEndian.AppendUint64(nil, crc))
}

// composeChecksum builds a multipart object's checksum from its parts'
// (base64 values and sizes, in object order): FULL_OBJECT combines the part
// CRCs into the CRC of the whole object; COMPOSITE is the checksum of the
// concatenated raw part digests, with "-N" appended.
func composeChecksum(algo, typ string, values []string, sizes []int64) (string, error) {
	if typ == ChecksumFullObject {
		p, ok := crcParamsOf(algo)
		if !ok {
			return "", fmt.Errorf("%w: %s cannot be FULL_OBJECT", ErrInvalidChecksum, algo)
		}
		var crc uint64
		for i, v := range values {
			c, err := p.decode(v)
			if err != nil {
				return "", err
			}
			if i == 0 {
				crc = c
				continue
			}
			crc = p.combine(crc, c, sizes[i])
		}
		return p.encode(crc), nil
	}
	h := newChecksumHash(algo)
	if h == nil {
		return "", fmt.Errorf("%w: no checksum algorithm", ErrInvalidChecksum)
	}
	for _, v := range values {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return "", fmt.Errorf("dataplane: malformed part checksum %q", v)
		}
		h.Write(raw)
	}
	return checksumValue(h.Sum(nil)) + "-" + strconv.Itoa(len(values)), nil
}
