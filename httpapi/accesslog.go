package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/ingest"
)

// The access log: one JSON line per request at info, unless turned off.
// It says who asked what and how it went, never a health value, a secret
// or a query string (which may carry an e-mail search): the route pattern,
// the user id of the path, the credential's id, the status, the size of
// the body in and out, the duration, the request id and the SDK's version
// and platform headers; a sync adds what the batch held.

// accessEntry is what a request's line says beyond the request and the
// response themselves; handlers fill it in as they learn it.
type accessEntry struct {
	route      string
	user       string
	credential string
	batch      *batchCounts
	// For the audit trail (audit.go): who, and the route's arguments.
	principal *auth.Principal
	pattern   []string
	args      []string
}

// batchCounts is what an accepted sync batch held.
type batchCounts struct {
	records, sleep, workouts, dropped int
	duplicate, replayed               bool
}

// noteBatch records what an accepted sync batch held.
func noteBatch(ctx *fasthttp.RequestCtx, res *ingest.Result) {
	if e := accessOf(ctx); e != nil {
		e.batch = &batchCounts{records: res.Records, sleep: res.Sleep, workouts: res.Workouts, dropped: res.Dropped,
			duplicate: res.Duplicate, replayed: res.Replayed}
	}
}

const accessKey = "wearhouse.access"

var accessPool = sync.Pool{New: func() any { return new(accessEntry) }}

// accessOf is the request's entry; nil outside a request.
func accessOf(ctx *fasthttp.RequestCtx) *accessEntry {
	e, _ := ctx.UserValue(accessKey).(*accessEntry)
	return e
}

// noteCredential records who a request was authenticated as: the API
// key's id, or the SDK token's application and user.
func noteCredential(ctx *fasthttp.RequestCtx, p *auth.Principal) {
	e := accessOf(ctx)
	if e == nil || p == nil {
		return
	}
	e.credential = credentialLabel(p)
	e.principal = p
}

// credentialLabel names a principal in a log line: the API key's id, the
// SDK token's application, or the account of a session.
func credentialLabel(p *auth.Principal) string {
	switch p.Kind {
	case auth.KindSDKToken:
		return "sdk:" + p.AppID
	case auth.KindSession:
		return "account:" + p.Account
	}
	return "key:" + p.KeyID
}

// requestID takes the client's X-Request-Id when it is a sane token (the
// iOS SDK sends one and reuses it on its 401 retry) or makes one, and
// returns it on the response.
func requestID(ctx *fasthttp.RequestCtx) string {
	id := ctx.Request.Header.Peek("X-Request-Id")
	if !saneRequestID(id) {
		var b [16]byte
		rand.Read(b[:])
		id = hex.AppendEncode(make([]byte, 0, 32), b[:])
	}
	ctx.Response.Header.SetBytesV("X-Request-Id", id)
	return string(id)
}

// saneRequestID: 1 to 128 characters of printable ASCII without spaces or
// quotes, so that a log line cannot be forged through it.
func saneRequestID(id []byte) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// bytesIn is the size of the body as sent: what was read of it, or its
// declared length when it was refused unread.
func bytesIn(ctx *fasthttp.RequestCtx) int {
	n := max(ctx.Request.Header.ContentLength(), 0)
	if p, ok := ctx.UserValue(bodyProgressKey).(*bodyProgress); ok && p.read > n {
		n = p.read
	}
	return n
}

// logged runs a request with its access entry and writes its line.
func (s *Server) logged(ctx *fasthttp.RequestCtx, next fasthttp.RequestHandler) {
	start := time.Now()
	id := requestID(ctx)
	e := accessPool.Get().(*accessEntry)
	*e = accessEntry{route: "unmatched", args: e.args[:0]}
	ctx.SetUserValue(accessKey, e)
	next(ctx)
	ctx.RemoveUserValue(accessKey)
	if s.deps.Audit != nil {
		s.audit(ctx, e, id)
	}
	if s.opts.DisableAccessLog {
		accessPool.Put(e)
		return
	}

	ev := s.log.Info().Str("event", "request").Bytes("method", ctx.Method()).Str("route", e.route).
		Int("status", ctx.Response.StatusCode()).Float64("ms", float64(time.Since(start).Microseconds())/1000).
		Int("bytes_in", bytesIn(ctx)).
		Str("request_id", id).Str("client", s.clientAddr(ctx).String())
	if !ctx.Response.IsBodyStream() {
		// A stream's Body would run it here; an event stream's size is
		// not known when its handler returns anyway.
		ev = ev.Int("bytes_out", len(ctx.Response.Body()))
	}
	if e.user != "" {
		ev = ev.Str("user_id", e.user)
	}
	if e.credential != "" {
		ev = ev.Str("credential", e.credential)
	}
	if v := ctx.Request.Header.Peek("X-Open-Wearables-SDK-Version"); len(v) > 0 && len(v) <= 64 {
		ev = ev.Bytes("sdk_version", v)
	}
	if v := ctx.Request.Header.Peek("X-Open-Wearables-SDK-Platform"); len(v) > 0 && len(v) <= 64 {
		ev = ev.Bytes("sdk_platform", v)
	}
	if b := e.batch; b != nil {
		ev = ev.Int("records", b.records).Int("sleep", b.sleep).Int("workouts", b.workouts).Int("dropped", b.dropped).
			Bool("duplicate", b.duplicate).Bool("replayed", b.replayed)
	}
	ev.Send()
	accessPool.Put(e)
}
