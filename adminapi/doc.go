// Package adminapi is the contract of Strata's admin API (JSON under
// /strata/admin/v1/, signed with SigV4): its request and response types and
// its Go client, shared by the server side in s3api, stratactl and the web
// console. It imports no other package of ours.
package adminapi
