package httpapi

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/ingest"
)

// route is one entry of the route table: a method and a path pattern whose
// {name} segments match any one segment, passed to the handler in order.
type route struct {
	method  string
	pattern []string
	label   string // the pattern, for metrics
	handle  handler
}

// handler serves one route. It writes the response itself on success and
// returns an error otherwise; route maps the error to its status and
// {"detail": ...} body in one place (writeError).
type handler func(ctx *fasthttp.RequestCtx, args []string) error

// h registers a handler that returns its error.
func h(method, pattern string, fn handler) route {
	p := strings.Split(strings.Trim(pattern, "/"), "/")
	return route{method: method, pattern: p, label: patternString(p), handle: fn}
}

// r registers a handler that writes its own errors.
// TODO(restructure): removed once every handler returns its error.
func r(method, pattern string, fn func(ctx *fasthttp.RequestCtx, args []string)) route {
	return h(method, pattern, func(ctx *fasthttp.RequestCtx, args []string) error {
		fn(ctx, args)
		return nil
	})
}

// routes is the route table; each feature adds its own in its file.
func (s *Server) routes() []route {
	rs := []route{
		r("GET", "/healthz", func(ctx *fasthttp.RequestCtx, _ []string) { s.healthz(ctx) }),
		r("GET", "/readyz", func(ctx *fasthttp.RequestCtx, _ []string) { s.readyz(ctx) }),
		r("GET", "/metrics", func(ctx *fasthttp.RequestCtx, _ []string) { s.metrics.handler(ctx) }),
		r("POST", "/api/v1/sdk/users/{user_id}/sync", func(ctx *fasthttp.RequestCtx, a []string) { s.sync(ctx, a[0]) }),
		r("POST", "/api/v1/users/{user_id}/token", func(ctx *fasthttp.RequestCtx, a []string) { s.token(ctx, a[0]) }),
	}
	for _, more := range s.extraRoutes {
		rs = append(rs, more()...)
	}
	return rs
}

// match returns the arguments of a pattern for a path's segments.
func match(pattern, segs []string, args []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	args = args[:0]
	for i, p := range pattern {
		if len(p) > 1 && p[0] == '{' {
			if segs[i] == "" {
				return nil, false
			}
			if p == "{user_id}" {
				args = append(args, canonicalUserID(segs[i]))
				continue
			}
			args = append(args, segs[i])
		} else if p != segs[i] {
			return nil, false
		}
	}
	return args, true
}

// pathUser is the {user_id} argument of a matched route, if it has one.
func pathUser(pattern, args []string) string {
	i := 0
	for _, p := range pattern {
		if len(p) > 1 && p[0] == '{' {
			if p == "{user_id}" && i < len(args) {
				return args[i]
			}
			i++
		}
	}
	return ""
}

// route dispatches on the path, with or without a trailing slash: 404 when
// no pattern matches, 405 when only another method's does. Each answer is
// counted by route pattern.
func (s *Server) route(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	defer s.settleBody(ctx)
	path := string(ctx.Path())
	segs := strings.Split(strings.Trim(path, "/"), "/")
	method := string(ctx.Method())
	if method == "HEAD" {
		method = "GET"
	}
	label := "unmatched"
	defer func() {
		if s.metrics != nil {
			s.metrics.observe(label, method, ctx.Response.StatusCode(), time.Since(start))
		}
	}()
	if err := checkRawPath(ctx.Request.URI().PathOriginal()); err != nil {
		s.writeError(ctx, err)
		return
	}
	if s.cors(ctx) {
		label = "preflight"
		return
	}
	var allow []string
	var buf [4]string
	for i := range s.table {
		rt := &s.table[i]
		args, ok := match(rt.pattern, segs, buf[:0])
		if !ok {
			continue
		}
		if rt.method == method {
			label = rt.label
			if e := access(ctx); e != nil {
				e.route, e.user = rt.label, pathUser(rt.pattern, args)
			}
			if err := rt.handle(ctx, args); err != nil {
				s.writeError(ctx, err)
			}
			return
		}
		allow = append(allow, rt.method)
	}
	if len(allow) > 0 {
		ctx.Response.Header.Set("Allow", strings.Join(allow, ", "))
		writeDetail(ctx, fasthttp.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	writeDetail(ctx, fasthttp.StatusNotFound, "Not Found")
}

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, []byte(`{"status":"ok"}`))
}

func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	switch {
	case !s.deps.Ingest.DiskOK():
		writeDetail(ctx, fasthttp.StatusServiceUnavailable, "Free disk space is below the reserve.")
	case s.deps.Ingest.Stalled():
		writeDetail(ctx, fasthttp.StatusServiceUnavailable, "The store is stalled.")
	case s.deps.Compactor != nil && !s.deps.Compactor.Running():
		writeDetail(ctx, fasthttp.StatusServiceUnavailable, "The compactor is not running.")
	case s.deps.Compactor != nil && s.deps.Compactor.Retrying():
		writeDetail(ctx, fasthttp.StatusServiceUnavailable, "The compactor is retrying after a store error.")
	default:
		// Batches set aside are shown, but do not make the server unready:
		// each is one batch that cannot be indexed, kept for inspection,
		// and everything else is indexed; taking the server out of service
		// for it would let one batch stop ingest for everybody.
		type compactorState struct {
			LagBatches      uint64  `json:"lag_batches"`
			LagSeconds      float64 `json:"lag_seconds"`
			IndexedBatches  uint64  `json:"indexed_batches"`
			IndexedRecords  uint64  `json:"indexed_records"`
			SetAsideBatches int     `json:"set_aside_batches"`
		}
		state := struct {
			Status    string          `json:"status"`
			Compactor *compactorState `json:"compactor,omitempty"`
		}{Status: "ready"}
		if c := s.deps.Compactor; c != nil {
			b, behind := c.Lag()
			state.Compactor = &compactorState{LagBatches: b, LagSeconds: behind.Seconds(),
				IndexedBatches: c.Indexed.Batches.Load(), IndexedRecords: c.Indexed.Records.Load()}
			n, err := c.SetAside()
			if err != nil {
				s.writeError(ctx, err)
				return
			}
			state.Compactor.SetAsideBatches = n
		}
		b, err := codec.Marshal(state)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, b)
	}
}

var errRawPath = errStatus(fasthttp.StatusBadRequest,
	"Invalid path: a segment may not be . or .. nor contain an encoded slash or backslash.")

// checkRawPath refuses a path, as the client sent it, whose segments are
// dot segments or hide a slash or backslash in percent-encoding. fasthttp
// decodes and resolves them before routing, so "x/..%2f..%2fusers%2fvictim"
// would reach the user "victim" while a proxy in front (which routes or
// authorises by the path as sent) saw another; refusing them keeps
// wearhouse and any proxy in agreement on whose data a request touches.
func checkRawPath(raw []byte) error {
	if i := bytes.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		return errRawPath
	}
	for seg := range bytes.SplitSeq(raw, []byte("/")) {
		if bytes.IndexByte(seg, '%') >= 0 {
			dec, err := url.PathUnescape(string(seg))
			if err != nil || strings.ContainsAny(dec, "/\\") || dec == "." || dec == ".." {
				return errRawPath
			}
			continue
		}
		if string(seg) == "." || string(seg) == ".." {
			return errRawPath
		}
	}
	return nil
}

// canonicalUserID writes a UUID-shaped user id in lower case, so that one
// user is one user whatever the case a client writes its UUID in (an SDK
// token's subject is compared case-insensitively to the path; the store
// must agree). Other ids are kept exactly as sent.
func canonicalUserID(id string) string {
	if auth.IsUUID(id) {
		return strings.ToLower(id)
	}
	return id
}

// validUserID: 1 to 128 characters of A-Z a-z 0-9 . _ - : @.
func validUserID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == ':' || c == '@') {
			return false
		}
	}
	return true
}

var errBadUserID = errStatus(fasthttp.StatusBadRequest,
	"Invalid user_id: use 1 to 128 characters of A-Z a-z 0-9 . _ - : @")

// sdkPrincipal resolves the credentials of the SDK routes (fact sheet §2.2,
// SDKAuth): a valid SDK token wins; otherwise the API key header decides.
func (s *Server) sdkPrincipal(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	expired := false
	if tok, ok := bearer(ctx.Request.Header.Peek("Authorization")); ok {
		p, err := s.deps.Auth.SDKToken(tok)
		if err == nil {
			return p, nil
		}
		expired = errors.Is(err, auth.ErrTokenExpired)
	}
	if key := ctx.Request.Header.Peek("X-Open-Wearables-API-Key"); key != nil {
		p, err := s.deps.Auth.APIKey(string(key))
		if errors.Is(err, auth.ErrInvalidAPIKey) {
			return nil, errStatus(fasthttp.StatusUnauthorized, "Invalid or missing API key")
		}
		return p, err
	}
	// An expired token gets its 401, so that the SDK refreshes it, and is
	// no bad credential.
	return nil, &httpError{status: fasthttp.StatusUnauthorized, notGuess: expired,
		detail: "Authentication required: provide SDK token or API key"}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h []byte) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !bytes.EqualFold(h[:len(prefix)], []byte(prefix)) {
		return "", false
	}
	tok := bytes.TrimSpace(h[len(prefix):])
	if len(tok) == 0 {
		return "", false
	}
	return string(tok), true
}

// syncPreamble decides a sync from its request line and headers alone:
// the credentials, the user id, the scope and the Idempotency-Key. It runs
// before a byte of the body is read, and for a client that sends
// "Expect: 100-continue", before it uploads one.
func (s *Server) syncPreamble(ctx *fasthttp.RequestCtx, userID string) (*auth.Principal, string, error) {
	if ctx.Request.Header.ContentLength() > s.opts.MaxBody {
		return nil, "", tooLarge(s.opts.MaxBody)
	}
	p, err := s.sdkWriter(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	idem := string(ctx.Request.Header.Peek("Idempotency-Key"))
	if len(idem) > 255 || strings.ContainsFunc(idem, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return nil, "", errStatus(fasthttp.StatusBadRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
	}
	return p, idem, nil
}

func (s *Server) sync(ctx *fasthttp.RequestCtx, userID string) {
	p, idem, err := s.syncPreamble(ctx, userID)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	// The place in the write path is taken before the body is read, and
	// every byte the body takes, as sent and decompressed, is counted in
	// it as it is read.
	adm, err := s.deps.Ingest.Admit(0)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	body, err := s.readBody(ctx, s.opts.MaxBody, adm.Grow)
	if err != nil {
		adm.Release()
		s.writeError(ctx, err)
		return
	}
	// userID is a substring of a string built from ctx.Path(), so it owns
	// its bytes; the body is copied into the queue write by Submit, which
	// takes the admission over and keeps nothing of the body.
	res, err := s.deps.Ingest.Submit(&ingest.Request{
		UserID: userID, Namespace: p.Namespace(), IdempotencyKey: idem, Body: body, Admission: adm, Grant: grant(p),
	})
	putBody(body)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if res.Replayed {
		ctx.Response.Header.Set("Idempotent-Replayed", "true")
	}
	writeJSON(ctx, fasthttp.StatusAccepted, res.Response)
}

// adminKey requires an API key with the admin scope.
func (s *Server) adminKey(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	key := ctx.Request.Header.Peek("X-Open-Wearables-API-Key")
	if key == nil {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Authentication required: provide an admin API key")
	}
	p, err := s.deps.Auth.APIKey(string(key))
	if errors.Is(err, auth.ErrInvalidAPIKey) {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Invalid or missing API key")
	}
	if err != nil {
		return nil, err
	}
	if p.Scope != auth.ScopeAdmin {
		return nil, errStatus(fasthttp.StatusForbidden, "This route needs an API key with the admin scope.")
	}
	return p, nil
}

// token mints an SDK token for a user (SPEC §5): with application
// credentials in the body, or an admin API key. Body credentials win when
// both are given, as in Open Wearables.
func (s *Server) token(ctx *fasthttp.RequestCtx, userID string) {
	var req codec.TokenRequest
	body, err := s.credentialBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := codec.Unmarshal(body, &req); err != nil {
			s.writeError(ctx, err)
			return
		}
	}
	var (
		appID string
		gen   int
	)
	if req.AppID != "" && req.AppSecret != "" {
		app, err := s.deps.Auth.CheckApp(req.AppID, req.AppSecret)
		if errors.Is(err, auth.ErrInvalidApp) {
			err = errStatus(fasthttp.StatusUnauthorized, "Invalid app credentials")
		}
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		appID, gen = app.AppID, app.Generation
	} else {
		if ctx.Request.Header.Peek("X-Open-Wearables-API-Key") == nil {
			s.writeError(ctx, errStatus(fasthttp.StatusUnauthorized,
				"Either app credentials (app_id, app_secret) or an admin API key is required"))
			return
		}
		p, err := s.adminKey(ctx)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		appID = auth.AdminAppID(p.KeyID)
	}
	if !validUserID(userID) {
		s.writeError(ctx, errBadUserID)
		return
	}
	if _, err := s.deps.Query.User(userID); err != nil {
		s.writeError(ctx, userNotFound(err, userID))
		return
	}
	pair, err := s.deps.Auth.MintSDKToken(userID, appID, gen)
	if errors.Is(err, auth.ErrNotFound) { // deleted meanwhile
		err = errStatus(fasthttp.StatusNotFound, "User with ID: "+userID+" not found.")
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.writeTokens(ctx, pair)
}

func (s *Server) writeTokens(ctx *fasthttp.RequestCtx, pair *auth.TokenPair) {
	out, err := codec.Marshal(codec.TokenResponse{
		AccessToken: pair.AccessToken, TokenType: "bearer", RefreshToken: pair.RefreshToken, ExpiresIn: pair.ExpiresIn,
	})
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	writeJSON(ctx, fasthttp.StatusOK, out)
}

func itoa(n int) string {
	return string(fasthttp.AppendUint(nil, n))
}
