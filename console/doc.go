// Package console is Strata's web console: embedded static assets served on
// the S3 port, built on the same admin API (package adminapi) and S3 calls
// that any client uses. It never reaches into raftfsm or dataplane.
package console
