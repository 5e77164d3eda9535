package httpapi

import (
	"bytes"
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

// routes is the route table; each feature adds its own in its file.
func (s *Server) routes() []route {
	rs := []route{
		h("GET", "/healthz", healthz),
		h("GET", "/readyz", s.readyz),
		h("GET", "/metrics", func(ctx *fasthttp.RequestCtx, _ []string) error { s.metrics.handler(ctx); return nil }),
		h("POST", "/api/v1/sdk/users/{user_id}/sync", s.sync),
		h("POST", "/api/v1/users/{user_id}/token", s.token),
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
			if e := accessOf(ctx); e != nil {
				e.route, e.user = rt.label, pathUser(rt.pattern, args)
				e.pattern, e.args = rt.pattern, append(e.args[:0], args...)
			}
			if err := rt.handle(ctx, args); err != nil {
				s.writeError(ctx, err)
			}
			compressJSON(ctx)
			return
		}
		allow = append(allow, rt.method)
	}
	if len(allow) > 0 {
		ctx.Response.Header.Set("Allow", strings.Join(allow, ", "))
		s.writeError(ctx, errMethod)
		return
	}
	s.writeError(ctx, notFound("Not Found"))
}

func healthz(ctx *fasthttp.RequestCtx, _ []string) error {
	writeJSON(ctx, fasthttp.StatusOK, []byte(`{"status":"ok"}`))
	return nil
}

func (s *Server) readyz(ctx *fasthttp.RequestCtx, _ []string) error {
	switch {
	case !s.deps.Ingest.DiskOK():
		return unavailable("Free disk space is below the reserve.")
	case s.deps.Ingest.Stalled():
		return unavailable("The store is stalled.")
	case s.deps.Compactor != nil && !s.deps.Compactor.Running():
		return unavailable("The compactor is not running.")
	case s.deps.Compactor != nil && s.deps.Compactor.Retrying():
		return unavailable("The compactor is retrying after a store error.")
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
				return err
			}
			state.Compactor.SetAsideBatches = n
		}
		return writeValue(ctx, fasthttp.StatusOK, state)
	}
}

var errRawPath = invalid("Invalid path: a segment may not be . or .. nor contain an encoded slash or backslash.")

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

var errBadUserID = invalid("Invalid user_id: use 1 to 128 characters of A-Z a-z 0-9 . _ - : @")

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
		return nil, "", invalid("Idempotency-Key must be 1 to 255 printable ASCII characters.")
	}
	return p, idem, nil
}

func (s *Server) sync(ctx *fasthttp.RequestCtx, a []string) error {
	userID := a[0]
	p, idem, err := s.syncPreamble(ctx, userID)
	if err != nil {
		return err
	}
	// The place in the write path is taken before the body is read, and
	// every byte the body takes, as sent and decompressed, is counted in
	// it as it is read.
	adm, err := s.deps.Ingest.Admit(0)
	if err != nil {
		return err
	}
	body, err := s.readBody(ctx, s.opts.MaxBody, adm.Grow)
	if err != nil {
		adm.Release()
		return err
	}
	// userID is a substring of a string built from ctx.Path(), so it owns
	// its bytes; the body is copied into the queue write by Submit, which
	// takes the admission over and keeps nothing of the body.
	res, err := s.deps.Ingest.Submit(&ingest.Request{
		UserID: userID, Namespace: p.Namespace(), IdempotencyKey: idem, Body: body, Admission: adm, Grant: grant(p),
	})
	putBody(body)
	if err != nil {
		return err
	}
	noteBatch(ctx, res)
	if res.Replayed {
		ctx.Response.Header.Set("Idempotent-Replayed", "true")
	}
	writeJSON(ctx, fasthttp.StatusAccepted, res.Response)
	return nil
}

// token mints an SDK token for a user (SPEC §5): with application
// credentials in the body (auth.ErrInvalidApp, 401, when they are not
// valid), or an admin API key. Body credentials win when both are given,
// as in Open Wearables.
func (s *Server) token(ctx *fasthttp.RequestCtx, a []string) error {
	userID := a[0]
	var req codec.TokenRequest
	body, err := s.credentialBody(ctx)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := codec.Unmarshal(body, &req); err != nil {
			return err
		}
	}
	var (
		appID string
		gen   int
	)
	if req.AppID != "" && req.AppSecret != "" {
		app, err := s.deps.Auth.CheckApp(req.AppID, req.AppSecret)
		if err != nil {
			return err
		}
		appID, gen = app.AppID, app.Generation
	} else {
		if ctx.Request.Header.Peek(apiKeyHeader) == nil {
			return unauthorized("Either app credentials (app_id, app_secret) or an admin API key is required")
		}
		p, err := s.apiKey(ctx, auth.ScopeAdmin)
		if err != nil {
			return err
		}
		appID = auth.AdminAppID(p.KeyID)
	}
	if !validUserID(userID) {
		return errBadUserID
	}
	if _, err := s.deps.Query.User(userID); err != nil {
		return userNotFound(err, userID)
	}
	pair, err := s.deps.Auth.MintSDKToken(userID, appID, gen)
	if err != nil { // auth.ErrNotFound: deleted meanwhile
		return notFoundAs(err, "User with ID: "+userID+" not found.")
	}
	return writeTokens(ctx, pair)
}

// writeTokens answers a new token pair, which no cache may keep.
func writeTokens(ctx *fasthttp.RequestCtx, pair *auth.TokenPair) error {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeValue(ctx, fasthttp.StatusOK, codec.TokenResponse{
		AccessToken: pair.AccessToken, TokenType: "bearer", RefreshToken: pair.RefreshToken, ExpiresIn: pair.ExpiresIn,
	})
}

func itoa(n int) string {
	return string(fasthttp.AppendUint(nil, n))
}
