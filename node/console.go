package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/strata-io/strata/console"
)

// ConsoleOff as Config.ConsoleAddr serves no web console.
const ConsoleOff = "off"

// newConsole builds the web console. It signs its requests with each
// session's keys and sends them to this node's own S3 listener on
// loopback. Served on the S3 port under /console/ (Config.ConsoleAddr
// empty), or on a listener of its own, which presents the S3 port's
// certificate when that one has TLS. The S3 port keeps /console/ (and
// so the reserved bucket name) in every mode: there it redirects to the
// console's own listener, or says the console is off, so that a bucket
// named console can never exist to be hidden when the mode changes.
func (n *Node) newConsole() error {
	if n.cfg.ConsoleAddr == ConsoleOff {
		n.s3.Mount("Console", console.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "The web console is off on this node (--console-addr off).", http.StatusNotFound)
		}))
		return nil
	}
	s3Host, s3Port, err := net.SplitHostPort(n.s3.Addr())
	if err != nil {
		return err
	}
	if ip := net.ParseIP(s3Host); ip == nil || ip.IsUnspecified() {
		s3Host = "127.0.0.1" // listening on every address, loopback included
	}
	scheme := "http"
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 32
	if srv := n.s3.TLSConfig(); srv != nil {
		scheme = "https"
		// The peer is this process's own listener, reached by address: its
		// certificate names the host clients use, not 127.0.0.1, so it is
		// pinned instead — it must be the one the S3 listener presents now.
		tr.TLSClientConfig = &tls.Config{
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				own, err := srv.GetCertificate(nil)
				if err != nil || len(cs.PeerCertificates) == 0 || len(own.Certificate) == 0 ||
					!bytes.Equal(cs.PeerCertificates[0].Raw, own.Certificate[0]) {
					return errors.New("console: the S3 port presented a certificate that is not this node's")
				}
				return nil
			},
		}
	}
	ccfg := console.Config{
		Endpoint:        scheme + "://" + net.JoinHostPort(s3Host, s3Port),
		HTTP:            &http.Client{Transport: tr},
		Region:          n.cfg.Region,
		SessionLifetime: n.cfg.ConsoleSessionLifetime,
		SessionIdle:     n.cfg.ConsoleSessionIdle,
		Now:             n.cfg.Now,
	}
	if n.cfg.ConsoleAddr != "" {
		ccfg.SharePort = s3Port
	}
	c, err := console.New(ccfg, n.log)
	if err != nil {
		return err
	}
	if n.cfg.ConsoleAddr == "" {
		n.s3.Mount("Console", console.Prefix, c)
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.ConsoleAddr)
	if err != nil {
		return fmt.Errorf("--console-addr %s: %w", n.cfg.ConsoleAddr, err)
	}
	if srv := n.s3.TLSConfig(); srv != nil {
		ln = tls.NewListener(ln, srv)
	}
	n.consoleLn = ln
	_, consolePort, _ := net.SplitHostPort(ln.Addr().String())
	n.s3.Mount("Console", console.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The console's own port, on the host name the browser used.
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		u := *r.URL
		u.Scheme, u.Host = scheme, net.JoinHostPort(host, consolePort)
		http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
	}))
	n.consoleSrv = &http.Server{
		Handler:           c,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          stdLogger(n.log.With("component", "console")),
	}
	return nil
}

// ConsoleAddr returns the address of the console's own listener, empty
// when the console is served on the S3 port (or not at all).
func (n *Node) ConsoleAddr() string {
	if n.consoleLn == nil {
		return ""
	}
	return n.consoleLn.Addr().String()
}

// consoleWhere says where the console is served, for the start-up log.
func (n *Node) consoleWhere() string {
	switch {
	case n.cfg.ConsoleAddr == ConsoleOff:
		return "off"
	case n.consoleLn != nil:
		return n.consoleLn.Addr().String() + console.Prefix
	}
	return n.s3Addr + console.Prefix
}

// serveConsole runs the console's own listener, if any, until Close.
func (n *Node) serveConsole(ctx context.Context) {
	if n.consoleSrv == nil {
		return
	}
	if err := n.consoleSrv.Serve(n.consoleLn); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
		n.fail(fmt.Errorf("console server: %w", err))
	}
}

// closeConsole stops the console's own listener: requests in flight get
// a few seconds.
func (n *Node) closeConsole() {
	if n.consoleSrv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.consoleSrv.Shutdown(ctx); err != nil {
		_ = n.consoleSrv.Close()
	}
	_ = n.consoleLn.Close() // Serve may never have run
}
