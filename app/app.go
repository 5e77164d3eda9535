// Package app wires wearhouse's parts together in their order: the store,
// credentials, the write path, then the HTTP server; Close stops them in
// reverse. The serve command and the benchmark's in-process server both use
// it, so that the benchmark measures exactly what runs in production.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/audit"
	"wearhouse/auth"
	"wearhouse/httpapi"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
	"wearhouse/query"
)

// Options are the parts' options, filled in by the caller.
type Options struct {
	Store     pebblestore.Options
	Auth      auth.Options
	Ingest    ingest.Options
	Compactor ingest.CompactorOptions
	HTTP      httpapi.Options
	Audit     audit.Options
	TLS       *tls.Config
	Logger    zerolog.Logger
	// Announce receives the admin key created on first start.
	Announce io.Writer
}

// App is a running wearhouse.
type App struct {
	Store     *pebblestore.Store
	Auth      *auth.Service
	Ingest    *ingest.Service
	Compactor *ingest.Compactor
	Query     *query.Service
	HTTP      *httpapi.Server
	Audit     *audit.Trail

	ln      net.Listener
	lock    *dirLock
	served  chan error
	started time.Duration
}

// Validate reports every problem of every part's options at once, before
// anything is opened; each part's zero fields count as their defaults.
func (o Options) Validate() error {
	st, au, in, ht := o.Store, o.Auth, o.Ingest, o.HTTP
	st.EnsureDefaults()
	au.EnsureDefaults()
	in.EnsureDefaults()
	ht.EnsureDefaults()
	return errors.Join(st.Validate(), au.Validate(), in.Validate(), ht.Validate())
}

// Start opens everything and serves on ln.
func Start(o Options, ln net.Listener) (_ *App, err error) {
	t0 := time.Now()
	// A child logger per part, so that every line says whose it is.
	part := func(name string) zerolog.Logger { return o.Logger.With().Str("component", name).Logger() }
	o.Store.Logger, o.Auth.Logger, o.Ingest.Logger, o.HTTP.Logger = part("store"), part("auth"), part("ingest"), part("http")
	o.Compactor.Logger, o.Audit.Logger = part("compactor"), part("audit")
	if o.Auth.DataDir == "" {
		o.Auth.DataDir = o.Store.Dir
	}
	if o.Announce != nil {
		o.Auth.Announce = o.Announce
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	a := &App{ln: ln, served: make(chan error, 1)}
	if o.Store.FS == nil && o.Store.Dir != "" {
		if a.lock, err = lockDir(o.Store.Dir); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				a.lock.release()
			}
		}()
	}
	if a.Store, err = pebblestore.Open(o.Store); err != nil {
		return nil, err
	}
	if a.Auth, err = auth.Open(a.Store, o.Auth); err != nil {
		a.Store.Close()
		return nil, err
	}
	// An erased user's refresh tokens are revoked under the user's lock,
	// right after the erasure, so that none minted meanwhile survives it.
	o.Ingest.AfterErase = func(u *pebblestore.User) error {
		_, err := a.Auth.RevokeUser(u)
		return err
	}
	if a.Ingest, err = ingest.New(a.Store, o.Ingest); err != nil {
		a.Store.Close()
		return nil, err
	}
	if a.Compactor, err = ingest.NewCompactor(a.Store, a.Ingest, o.Compactor); err != nil {
		a.Ingest.Close()
		a.Store.Close()
		return nil, err
	}
	a.Query = query.New(a.Store)
	if !o.Audit.Disabled {
		if a.Audit, err = audit.Open(a.Store, o.Audit); err != nil {
			a.Ingest.Close()
			a.Store.Close()
			return nil, err
		}
	}
	deps := httpapi.Deps{Auth: a.Auth, Ingest: a.Ingest, Compactor: a.Compactor, Query: a.Query,
		StoreMetrics: a.Store.Collector(), Audit: a.Audit}
	if a.HTTP, err = httpapi.New(o.HTTP, deps); err != nil {
		if a.Audit != nil {
			a.Audit.Close()
		}
		a.Ingest.Close()
		a.Store.Close()
		return nil, err
	}
	a.Compactor.Start()
	a.Ingest.StartImports()
	go func() { a.served <- a.HTTP.Serve(ln, o.TLS) }()
	a.started = time.Since(t0)
	if url, ok := a.SetupURL(o.TLS != nil); ok {
		o.Logger.Warn().Str("setup_url", url).
			Msg("no console account yet: open the setup link to create the first admin (an admin API key works as its token too)")
	}
	return a, nil
}

// SetupURL is the console's one-time setup link while no account exists.
// An unspecified listen address (all interfaces) is named localhost.
func (a *App) SetupURL(tls bool) (string, bool) {
	tok, ok, err := a.Auth.SetupToken()
	if err != nil || !ok {
		return "", false
	}
	host := a.ln.Addr().String()
	if ta, isTCP := a.ln.Addr().(*net.TCPAddr); isTCP {
		ip := ta.IP.String()
		if ta.IP == nil || ta.IP.IsUnspecified() {
			ip = "localhost"
		}
		host = net.JoinHostPort(ip, strconv.Itoa(ta.Port))
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + host + "/setup?token=" + tok, true
}

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// StartupTime is how long Start took.
func (a *App) StartupTime() time.Duration { return a.started }

// Served receives the server's error once it stops serving on its own.
func (a *App) Served() <-chan error { return a.served }

// Close stops HTTP first (a closed Pebble DB panics on use), waiting for
// in-flight requests until ctx ends, then the compactor at a batch
// boundary, then the write path, then the store.
//
// When requests are still running at the deadline, the store is left open
// (a request using a closed store would panic) and the error says so: the
// process is about to exit, and everything acknowledged is already synced.
func (a *App) Close(ctx context.Context) error {
	if err := a.HTTP.Shutdown(ctx); err != nil {
		a.Compactor.Stop()
		return fmt.Errorf("requests still running, store left open: %w", err)
	}
	a.Compactor.Stop()
	a.Ingest.Close()
	if a.Audit != nil {
		a.Audit.Close()
	}
	err := a.Store.Close()
	a.lock.release()
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}
