package node

import (
	"errors"

	"github.com/strata-io/strata/rpc"
)

// rpcTLS is the rpc transport's TLS setting from the node's.
func (c Config) rpcTLS() rpc.TLSConfig {
	return rpc.TLSConfig{CertFile: c.RPCTLSCert, KeyFile: c.RPCTLSKey, CAFile: c.RPCTLSCA}
}

// Reload re-reads the TLS certificates and keys of the S3 port and of rpc
// from their files; cmd/node calls it on SIGHUP. New connections use the
// new files, open ones keep theirs. A file that is missing, unreadable or
// does not match is logged and the previous certificate keeps serving; the
// errors are returned too. Without TLS it does nothing.
func (n *Node) Reload() error {
	var errs []error
	if err := n.s3.ReloadTLS(); err != nil {
		n.log.Error("reload: keeping the previous S3 TLS certificate", "err", err)
		errs = append(errs, err)
	}
	if err := n.tr.ReloadTLS(); err != nil {
		n.log.Error("reload: keeping the previous rpc TLS certificate", "err", err)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// S3TLS reports whether the S3 port serves HTTPS.
func (n *Node) S3TLS() bool { return n.s3.TLS() }
