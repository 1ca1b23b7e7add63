// Package e2e holds the end-to-end tests: they build strata-node and
// stratactl, run real node processes on loopback and drive them with the aws
// CLI, including after kill -9 of a node. The package has no production code;
// this file exists for the package comment.
package e2e
