// Package httpapi is wearhouse's HTTP server: routes, limits and timeouts,
// panic recovery, authentication, and the answers. It is the only importer
// of fasthttp besides the benchmark's client.
//
// A route's handler (routes.go) checks its credential and parameters from
// the request line and headers (one preamble each: apiKey or sdkWriter,
// intParam and the other parsers of params.go), reads its body, if it has
// one, through readBody (body.go: streamed, bounded, counted against the
// request's admission, decompressed alike on every route), calls one of
// the services (auth, ingest, query) and writes its answer. It returns its
// error rather than writing it: writeError (errors.go) is the one table
// that maps every error, the edge's own and the services', to a status, a
// {"detail": ...} body and its headers. The data read routes pass the user
// id the client sent to query, which resolves the user itself; every write
// goes to ingest, under its admission, locks and deadlines. The FHIR
// routes (fhir.go) map query's answers through package fhir; the console
// (console.go, sessions.go) is served from embedded files and takes a
// session wherever a key is taken. After every request, logged records it
// in the audit trail (audit.go) when it touched health data or
// credentials, or was refused.
package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"wearhouse/audit"
	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/query"
)

// Options configure the server.
type Options struct {
	// MaxBody bounds a request body, compressed or not, in bytes.
	MaxBody int
	// MaxImport bounds an upload to the import routes instead (imports.go),
	// before and after decompression; it should be the write path's
	// MaxImportBytes.
	MaxImport int64
	// ReadTimeout bounds reading one whole request; it also closes slow
	// (slowloris) connections.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections that stay quiet.
	IdleTimeout time.Duration
	// MaxConnections bounds the connections served at once.
	MaxConnections int
	// SSEHeartbeat is the silence after which a sync status stream sends a
	// heartbeat comment; default 15 s, as Open Wearables.
	SSEHeartbeat time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For and Forwarded
	// headers name the client (see clientAddr). Default none: the client
	// is the peer, whatever the headers say.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the web origins (scheme://host[:port], or *) whose
	// pages may call the API from a browser; none by default (cors.go).
	CORSOrigins []string
	// DisableAccessLog turns off the line per request (accesslog.go).
	DisableAccessLog bool
	Logger           zerolog.Logger
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.MaxBody == 0 {
		o.MaxBody = 32 << 20
	}
	if o.MaxImport == 0 {
		o.MaxImport = 8 << 30
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 2048
	}
	if o.SSEHeartbeat == 0 {
		o.SSEHeartbeat = 15 * time.Second
	}
}

// Validate reports a configuration that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxBody < 1024 {
		errs = append(errs, errors.New("httpapi: max body must be at least 1 KiB"))
	}
	if o.ReadTimeout < 100*time.Millisecond || o.WriteTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("httpapi: read and write timeouts must be at least 100ms"))
	}
	if o.MaxConnections < 1 {
		errs = append(errs, errors.New("httpapi: max connections must be positive"))
	}
	if o.SSEHeartbeat < 10*time.Millisecond {
		errs = append(errs, errors.New("httpapi: the SSE heartbeat must be at least 10ms"))
	}
	if err := validOrigins(o.CORSOrigins); err != nil {
		errs = append(errs, err)
	}
	for _, p := range o.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, errors.New("httpapi: a trusted proxy is not a valid CIDR"))
			break
		}
	}
	return errors.Join(errs...)
}

// Deps are the services the routes use.
type Deps struct {
	Auth      *auth.Service
	Ingest    *ingest.Service
	Compactor *ingest.Compactor
	Query     *query.Service
	// StoreMetrics are the store's own figures, served on /metrics.
	StoreMetrics prometheus.Collector
	// Audit is the audit trail every access to data and every credential
	// change is recorded in (audit.go); nil for none.
	Audit *audit.Trail
}

// Server serves the API.
type Server struct {
	opts Options
	deps Deps
	log  zerolog.Logger
	srv  *fasthttp.Server

	table       []route
	metrics     *metrics
	extraRoutes []func() []route
	streams     streamStop    // ends the event streams on Shutdown
	lingering   chan struct{} // a place per connection lingering after a refusal
	rates       rateWindow    // the overview's records per second (console.go)
	exports     exportJobs    // the FHIR bulk exports (fhir.go)
}

// New builds the server; call Serve to start it.
func New(o Options, d Deps) (*Server, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.CORSOrigins = normalOrigins(o.CORSOrigins)
	s := &Server{opts: o, deps: d, log: o.Logger, lingering: make(chan struct{}, maxLingering)}
	s.extraRoutes = append(s.extraRoutes,
		s.readRoutes,
		s.syncStatusRoutes,
		s.userRoutes,
		s.summaryRoutes,
		s.scoreRoutes,
		s.exportRoutes,
		s.credentialRoutes,
		s.invitationRoutes,
		s.importRoutes,
		s.sessionRoutes,
		s.auditRoutes,
		s.consoleRoutes,
		s.adminRoutes,
		s.staticRoutes,
		s.docRoutes,
		s.fhirRoutes,
	)
	s.table = s.routes()
	s.metrics = s.newMetrics()
	s.srv = &fasthttp.Server{
		Handler:               s.handle,
		ErrorHandler:          s.transportError,
		ExpectHandler:         s.expect,
		Name:                  "wearhouse",
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		Concurrency:           o.MaxConnections,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		IdleTimeout:           o.IdleTimeout,
		// Bodies are streamed: a handler runs once the headers (and at
		// most 8 KiB of the body) are read, and reads the rest itself
		// after the request is authenticated and admitted (body.go).
		StreamRequestBody:  true,
		MaxRequestBodySize: o.MaxBody,
		// A connection's read buffer bounds its header block (431 past
		// it) and is what a connection that dribbles its headers holds:
		// 8 KiB, as nginx's large header buffers. Idle keep-alive
		// connections give their buffers back (ReduceMemoryUsage), so
		// that thousands of quiet phones cost little.
		ReadBufferSize:               8 << 10,
		ReduceMemoryUsage:            true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		TCPKeepalive:                 true,
		Logger:                       fasthttpLogger{o.Logger},
	}
	return s, nil
}

// Serve answers requests on ln until Shutdown. With a TLS config the
// listener is wrapped in TLS.
func (s *Server) Serve(ln net.Listener, tlsConfig *tls.Config) error {
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return s.srv.Serve(framedListener{ln})
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends. Event streams never finish on their own, so they are told
// to end first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.streams.stop()
	return s.srv.ShutdownWithContext(ctx)
}

type fasthttpLogger struct{ l zerolog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug().Str("subsystem", "fasthttp").Msgf(format, args...)
}

// handle is the root handler: panic recovery, then routing.
func (s *Server) handle(ctx *fasthttp.RequestCtx) { s.logged(ctx, s.recoverer(s.route)) }

// recoverer turns a panic into a 500 JSON answer and a log line, so that one
// bad request never takes the process down (fasthttp does not recover).
func (s *Server) recoverer(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).
					Bytes("method", ctx.Method()).Bytes("path", ctx.Path()).Msg("handler panicked")
				ctx.Response.Reset()
				s.writeError(ctx, errPanic)
			}
		}()
		next(ctx)
	}
}

// transportError answers what fasthttp could not parse: an oversized body is
// 413, a slow request 408, anything else 400, always in JSON.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	var netErr net.Error
	switch {
	case errors.Is(err, errBareLF):
		err = invalid("Malformed HTTP request: lines must end in CRLF.")
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		err = tooLarge(s.opts.MaxBody)
	case errors.As(err, &netErr) && netErr.Timeout():
		err = timedOut("Request was not received in time.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = invalid("Request body ended before the length its Content-Length announced.")
	default:
		err = invalid("Malformed HTTP request.")
	}
	s.writeError(ctx, err)
	ctx.SetConnectionClose()
}

// writeJSON sends a JSON body. The body is handed over, not copied: the
// caller must not change it afterwards (every caller builds a fresh one).
func writeJSON(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.SetBodyRaw(body)
}
