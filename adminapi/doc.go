// Package adminapi is the contract of Strata's admin API (JSON under
// /strata/admin/v1/, signed with SigV4): its request and response types and
// its Go client, shared by the server side in s3api, stratactl and the web
// console. It imports no other package of ours.
//
// Routes: cluster status (adminapi.go; each node's lifecycle execution in
// ilm.go); users, accounts, groups, managed
// policies and service accounts (iam.go, which lists every route); node
// decommission (nodes.go); audit webhooks (audit.go); buckets with their
// usage, and bucket and user quotas (buckets.go, with ParseSize for sizes
// like 2TB or 500GiB). All are
// for the root user, except the service-account routes, which a user calls
// with its own keys to manage its own service accounts. Secret keys appear
// only in the answers of the calls that create them; audit webhook tokens
// in no answer.
package adminapi
