package dataplane

import (
	"context"
	"maps"
)

// A version's canned ACL (S3's x-amz-acl: private, public-read, ...) is
// kept in the version's tag record under aclTag, a key no S3 tag can have
// (S3 refuses tag keys that start with "aws:", and so does the frontend).
// It is then written with the version, updated in place, replicated and
// ordered exactly as tags are (drive.SetTags and TagTime), with no drive
// operation or wire message of its own. Callers never see the entry:
// ObjectInfo.Tags and UploadInfo.Tags leave it out, and ObjectInfo.ACL and
// UploadInfo.ACL carry it.
const aclTag = "aws:strata:acl"

// withACL returns tags with the ACL entry set to acl ("" removes it),
// nil when nothing is left. tags itself is not modified.
func withACL(tags map[string]string, acl string) map[string]string {
	_, had := tags[aclTag]
	if acl == "" && !had {
		if len(tags) == 0 {
			return nil
		}
		return tags
	}
	out := maps.Clone(tags)
	if out == nil {
		out = map[string]string{}
	}
	if acl == "" {
		delete(out, aclTag)
	} else {
		out[aclTag] = acl
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// splitACL returns tags without the ACL entry (nil when none are left) and
// the ACL ("" when none). tags itself is not modified.
func splitACL(tags map[string]string) (map[string]string, string) {
	acl, ok := tags[aclTag]
	if !ok {
		if len(tags) == 0 {
			return nil, ""
		}
		return tags, ""
	}
	if len(tags) == 1 {
		return nil, acl
	}
	out := maps.Clone(tags)
	delete(out, aclTag)
	return out, acl
}

// SetObjectACL replaces the canned ACL of one version (the current one
// when versionID is empty) in place, keeping its tags; "" removes it
// (private). Like SetObjectTags it runs under the key's lock, so a
// concurrent tag update and ACL update never undo each other. A delete
// marker gives a *DeleteMarkerError.
func (s *Store) SetObjectACL(ctx context.Context, bucket, key, versionID, acl string) (ObjectInfo, error) {
	return s.updateTags(ctx, bucket, key, versionID, func(cur map[string]string) map[string]string {
		return withACL(cur, acl)
	})
}
