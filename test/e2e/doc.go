// Package e2e holds the end-to-end tests: they build strata-node and
// stratactl, run real node processes on loopback and drive them with the aws
// CLI, including after kill -9 of a node.
//
// TestClientMatrix runs the client matrix against one 4-node cluster (EC
// 2+2): the aws CLI (`aws s3` and `aws s3api`), boto3
// (testdata/boto3_matrix.py), aws-sdk-go-v2, minio-go, rclone and s3cmd
// each run the same workflows — sync of 1,000 small files and back, a
// 300 MiB multipart upload with verified checksums, versioned overwrite and
// restore, presigned GET/PUT with curl, POST upload, copy with new metadata,
// listing with a delimiter. Every cell is a subtest (client/workflow) whose
// result an independent aws-sdk-go-v2 client checks; a workflow a client
// cannot do is reported n/a. The matrix is written to $STRATA_MATRIX_FILE
// (`make test` prints it). The external tools are installed by
// scripts/test-deps.sh.
//
// TestCORS checks bucket CORS with aws-sdk-go-v2 and raw preflights, and in
// a real browser: headless Chromium (Debian's chromium, driven by chromedp)
// loads a page from a second local origin that uploads with a presigned
// PUT, downloads with a presigned GET, and is blocked from an origin no
// rule allows. It skips the browser part when chromium is not installed.
//
// grow_test.go runs the cluster's life with real processes: growth 4 -> 5
// -> 6 nodes under a verified PUT/GET workload (moved fraction, GET
// latency before and during), the scanner rewriting shard files corrupted
// or deleted on disk, the refill of a wiped drive, and decommission (drain,
// out of Raft, shard files gone, refusal without --force).
//
// TestQuotaEndToEnd sets bucket and user quotas with the stratactl binary,
// has the aws CLI refused with QuotaExceeded, and reads usage back from
// `stratactl bucket list` and `user show` (tables and --json).
//
// The package has no production code; this file exists for the package
// comment.
package e2e
