package meta

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Bucket name limits (S3 general-purpose buckets).
const (
	MinBucketNameLen = 3
	MaxBucketNameLen = 63
)

// reservedBucketPrefixes and reservedBucketSuffixes are the name forms S3
// reserves for its own features; read-only tables.
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// ValidateBucketName checks name against the S3 rules for general-purpose
// buckets. The error wraps ErrInvalidBucketName with the rule broken.
func ValidateBucketName(name string) error {
	bad := func(format string, args ...any) error { return reject(ErrInvalidBucketName, format, args...) }
	if len(name) < MinBucketNameLen || len(name) > MaxBucketNameLen {
		return bad("%q: length %d outside %d..%d", name, len(name), MinBucketNameLen, MaxBucketNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '.' && c != '-' {
			return bad("%q: character %q not allowed (lowercase letters, digits, '.', '-')", name, c)
		}
	}
	if !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]) {
		return bad("%q: must start and end with a letter or digit", name)
	}
	if strings.Contains(name, "..") {
		return bad("%q: two adjacent periods", name)
	}
	if looksLikeIPv4(name) {
		return bad("%q: formatted as an IP address", name)
	}
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return bad("%q: prefix %q is reserved", name, p)
		}
	}
	for _, sfx := range reservedBucketSuffixes {
		if strings.HasSuffix(name, sfx) {
			return bad("%q: suffix %q is reserved", name, sfx)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// looksLikeIPv4 reports whether name is four dot-separated runs of digits,
// the form S3 refuses ("192.168.5.4").
func looksLikeIPv4(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func (s *State) applyCreateBucket(c CreateBucket) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if err := ValidateBucketName(c.Bucket.Name); err != nil {
		return err
	}
	if _, ok := s.Buckets[c.Bucket.Name]; ok {
		return reject(ErrBucketExists, "%s", c.Bucket.Name)
	}
	if c.Bucket.ACL != "" && !ValidCannedACL(c.Bucket.ACL) {
		return invalid("bucket %s: %q is not a canned ACL", c.Bucket.Name, c.Bucket.ACL)
	}
	if len(c.Bucket.Policy) > 0 {
		if err := validateDocument("bucket policy of "+c.Bucket.Name, c.Bucket.Policy); err != nil {
			return err
		}
	}
	if len(c.Bucket.CORS) > 0 {
		if err := ValidateCORS(c.Bucket.CORS); err != nil {
			return fmt.Errorf("bucket %s: %w", c.Bucket.Name, err)
		}
	}
	if len(c.Bucket.Lifecycle) > 0 {
		if err := ValidateLifecycle(c.Bucket.Lifecycle); err != nil {
			return fmt.Errorf("bucket %s: %w", c.Bucket.Name, err)
		}
	}
	if c.Bucket.Quota < 0 {
		return invalid("bucket %s: quota of %d bytes", c.Bucket.Name, c.Bucket.Quota)
	}
	nb := c.Bucket.clone()
	nb.Usage = Usage{} // a new bucket holds nothing, whatever the proposer says
	if nb.ACL == "private" {
		nb.ACL = ""
	}
	if len(nb.Policy) == 0 {
		nb.Policy = nil
	}
	s.Buckets[c.Bucket.Name] = nb
	return nil
}

func (s *State) applyDeleteBucket(c DeleteBucket) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if _, ok := s.Buckets[c.Name]; !ok {
		return reject(ErrNoSuchBucket, "%s", c.Name)
	}
	delete(s.Buckets, c.Name)
	return nil
}

// updateBucket is the shape of every command that changes one bucket's
// configuration: fn changes a copy of bucket name (or refuses, changing
// nothing), and the copy replaces the record.
func (s *State) updateBucket(name string, fn func(nb *Bucket) error) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	b, ok := s.Buckets[name]
	if !ok {
		return reject(ErrNoSuchBucket, "%s", name)
	}
	nb := b.clone()
	if err := fn(nb); err != nil {
		return err
	}
	s.Buckets[name] = nb
	return nil
}

func (s *State) applySetBucketVersioning(c SetBucketVersioning) error {
	return s.updateBucket(c.Name, func(nb *Bucket) error {
		if c.Versioning != VersioningEnabled && c.Versioning != VersioningSuspended {
			return reject(ErrInvalid, "bucket %s: versioning state %d (want Enabled or Suspended)", c.Name, c.Versioning)
		}
		nb.Versioning = c.Versioning
		return nil
	})
}

// cannedACLs are the canned ACLs S3 accepts in x-amz-acl; read-only.
var cannedACLs = []string{
	"private", "public-read", "public-read-write", "authenticated-read",
	"aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write",
}

// ValidCannedACL reports whether acl is a canned ACL S3 knows ("" is not).
func ValidCannedACL(acl string) bool { return slices.Contains(cannedACLs, acl) }

func (s *State) applySetBucketPolicy(c SetBucketPolicy) error {
	return s.updateBucket(c.Bucket, func(nb *Bucket) error {
		nb.Policy = nil
		if len(c.Document) > 0 {
			if err := validateDocument("bucket policy of "+c.Bucket, c.Document); err != nil {
				return err
			}
			nb.Policy = bytes.Clone(c.Document)
		}
		return nil
	})
}

// applySetBucketACL sets a bucket's canned ACL; "private" is stored as ""
// (the zero value means private).
func (s *State) applySetBucketACL(c SetBucketACL) error {
	return s.updateBucket(c.Bucket, func(nb *Bucket) error {
		if !ValidCannedACL(c.ACL) {
			return invalid("bucket %s: %q is not a canned ACL", c.Bucket, c.ACL)
		}
		nb.ACL = c.ACL
		if c.ACL == "private" {
			nb.ACL = ""
		}
		return nil
	})
}
