package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's runtime profiles (net/http/pprof under
// /debug/pprof/) on addr until ctx ends: --pprof-addr, off by default, for
// profiling a node under load (go tool pprof http://ADDR/debug/pprof/profile).
// There is no authentication, so addr should be a loopback or management
// address. /debug/pprof/cmdline is left out: the command line may hold a
// secret such as --metrics-token.
func (n *Node) servePprof(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Warn("pprof server stopped", "addr", addr, "err", err)
		}
	}()
	n.log.Info("serving runtime profiles", "addr", ln.Addr().String())
	return nil
}
