// Command strata-node runs one Strata node: `strata-node server [flags]`.
//
// It only resolves configuration — flags, then STRATA_<FLAG> environment
// variables, then a --config file (TOML or YAML), then defaults — into a
// node.Config, and calls node.New and Run; SIGHUP calls node.Reload (TLS
// certificates), SIGINT/SIGTERM stop the node. No logic lives here.
package main
