package s3api

import (
	"bytes"
	"encoding/xml"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
)

// Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy
// and GetBucketPolicyStatus. The document is validated by iam.ParsePolicy
// and stored in Raft as the client wrote it (meta.Bucket.Policy); authz.go
// evaluates it on every request to the bucket.

// putBucketPolicy serves PutBucketPolicy (PUT ?policy): 204 once the
// policy is in Raft.
func (s *Server) putBucketPolicy(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	tooLarge := apiError(codeMalformedPolicy, "Policy exceeds the maximum allowed document size.")
	doc, err := s.readSmallBody(r, iam.MaxPolicySize, tooLarge)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return apiError(codeMalformedPolicy, "Policies must be valid JSON and the first byte must be '{'")
	}
	if _, err := iam.ParsePolicy(doc, iam.BucketPolicy, r.bucket); err != nil {
		return apiError(codeMalformedPolicy, err.Error())
	}
	if err := s.deps.Control.Propose(r.ctx, meta.SetBucketPolicy{Bucket: r.bucket, Document: doc}); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// getBucketPolicy serves GetBucketPolicy (GET ?policy): the document as
// stored, NoSuchBucketPolicy when there is none.
func (s *Server) getBucketPolicy(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.Policy) == 0 {
		return apiError(codeNoSuchBucketPolicy)
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	r.fctx.SetContentType("application/json")
	r.fctx.SetBody(b.Policy)
	return nil
}

// deleteBucketPolicy serves DeleteBucketPolicy (DELETE ?policy): 204,
// whether or not the bucket had a policy, as S3 answers.
func (s *Server) deleteBucketPolicy(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.Policy) > 0 {
		if err := s.deps.Control.Propose(r.ctx, meta.SetBucketPolicy{Bucket: r.bucket}); err != nil {
			return err
		}
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// policyStatus is the PolicyStatus XML of GetBucketPolicyStatus.
type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	Xmlns    string   `xml:"xmlns,attr,omitempty"`
	IsPublic bool     `xml:"IsPublic"`
}

// getBucketPolicyStatus serves GetBucketPolicyStatus (GET ?policyStatus):
// whether the bucket policy makes the bucket public.
func (s *Server) getBucketPolicyStatus(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.Policy) == 0 {
		return apiError(codeNoSuchBucketPolicy)
	}
	// The stored document parsed when it was put; one that no longer does
	// (a newer, stricter parser) is reported as not public rather than
	// failing the call.
	p := s.policies.bucketPolicy(b.Name, b.Policy)
	pub := p.err == nil && p.policy.IsPublic()
	return s.writeXML(r, policyStatus{Xmlns: s3Namespace, IsPublic: pub})
}
