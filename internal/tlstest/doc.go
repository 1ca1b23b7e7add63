// Package tlstest makes throw-away certificate authorities and certificates
// for tests: a CA (NewCA) issues leaf certificates for loopback names and
// IPs (CA.Issue), valid for both serverAuth and clientAuth, and writes
// everything as PEM files under t.TempDir(), as an operator would hand
// them to strata-node.
//
// It imports only the standard library (and testing); production code must
// not import it.
package tlstest
