package httpapi

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// syncPattern is the sync route's pattern: its bodies are the ones the
// write path's limits may refuse.
var syncPattern = strings.Split("api/v1/sdk/users/{user_id}/sync", "/")

// expect answers a request that asks "Expect: 100-continue" before sending
// its body, so that a client is never told to upload a body that will be
// refused. A body over the size limit gets its 413 at once, on any route.
// A sync batch is decided as its handler decides it before reading the body
// (credentials, user id, scope, Idempotency-Key: syncPreamble), then by the
// limits as they are now (the backlog, the batches or bytes in flight, a
// stalled store, the disk reserve): 401, 403, 400, 503 or 507, with
// Retry-After where it applies. Everything else is told to continue.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	status := s.expectRefusal(ctx)
	if status != fasthttp.StatusContinue && s.metrics != nil {
		s.metrics.observe(patternString(syncPattern), string(ctx.Method()), status, 0)
	}
	return status
}

func (s *Server) expectRefusal(ctx *fasthttp.RequestCtx) int {
	if ctx.Request.Header.ContentLength() > s.opts.MaxBody {
		s.writeError(ctx, tooLarge(s.opts.MaxBody))
		return ctx.Response.StatusCode()
	}
	if s.deps.Ingest == nil || string(ctx.Method()) != fasthttp.MethodPost {
		return fasthttp.StatusContinue
	}
	if err := checkRawPath(ctx.Request.URI().PathOriginal()); err != nil {
		s.writeError(ctx, err)
		return ctx.Response.StatusCode()
	}
	segs := strings.Split(strings.Trim(string(ctx.Path()), "/"), "/")
	var buf [1]string
	args, ok := match(syncPattern, segs, buf[:0])
	if !ok {
		return fasthttp.StatusContinue
	}
	if _, _, err := s.syncPreamble(ctx, args[0]); err != nil {
		s.writeError(ctx, err)
		return ctx.Response.StatusCode()
	}
	if err := s.deps.Ingest.Refusal(max(ctx.Request.Header.ContentLength(), 0)); err != nil {
		s.writeError(ctx, err)
		return ctx.Response.StatusCode()
	}
	return fasthttp.StatusContinue
}
