// Package lifecycle decides what a bucket's lifecycle rules
// (meta.LifecycleRule) do to one object version or one multipart upload at
// a given time, as Amazon S3 does. It is pure: no I/O, no clock (the
// caller passes "now"); package ilm walks the buckets and acts on its
// decisions.
//
// The rules, for each enabled rule whose filter matches (key prefix, every
// tag of the filter present with the same value, size strictly between
// the size bounds; a delete marker has no tags and size 0):
//
//   - a current version that is not a delete marker expires (ExpireCurrent)
//     once Expiration's Days have passed — at midnight UTC after its
//     creation time plus Days (ExpiryTime) — or from Expiration's Date on;
//   - a current delete marker with no noncurrent version left (an "expired
//     object delete marker") is removed (RemoveMarker) when a rule sets
//     ExpiredObjectDeleteMarker, or once its Expiration's Days (counted
//     from the marker's creation) or Date are reached;
//   - a noncurrent version, delete markers included, is deleted
//     (DeleteVersion) NoncurrentDays after it became noncurrent (its
//     successor's creation, rounded up as above) once at least
//     NewerNoncurrentVersions noncurrent versions of its key are newer;
//   - a multipart upload is aborted (AbortUpload) DaysAfterInitiation after
//     it was initiated. Tags cannot filter aborts (meta refuses them); a
//     rule with a size bound does not apply to uploads (an upload has no
//     size yet), so it never aborts one.
//
// Several rules may apply to one version: any one of them that is due
// decides (the actions of the rules never conflict: a version can only be
// expired or deleted). Transitions do not exist here (Strata has one
// storage class).
//
// Main types: Policy (Compile), Version, Decision, Action. lifecycle
// imports meta only.
package lifecycle
