// Package testcluster starts N real Strata nodes in one process on loopback,
// each with temporary drive folders, for tests that cross packages:
// Start(t, Options{Nodes: 4, EC: "2+2"}), then Stop(i), Restart(i), AddNode,
// and clients for any node (aws-sdk-go-v2 and minio-go). Everything is torn
// down through t.Cleanup. It is test support: production code never imports it.
package testcluster
