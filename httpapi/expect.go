package httpapi

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// syncPattern and logsPattern are the SDK write routes' patterns: their
// bodies are the ones the write path's limits may refuse.
var (
	syncPattern = strings.Split("api/v1/sdk/users/{user_id}/sync", "/")
	logsPattern = strings.Split("api/v1/sdk/users/{user_id}/logs", "/")
)

// expect answers a request that asks "Expect: 100-continue" before sending
// its body, so that a client is never told to upload a body that will be
// refused. A body over the size limit gets its 413 at once, on any route.
// A sync batch is decided as its handler decides it before reading the body
// (credentials, user id, scope, Idempotency-Key: syncPreamble), then by the
// limits as they are now (the backlog, the batches or bytes in flight, a
// stalled store, the disk reserve): 401, 403, 400, 503 or 507, with
// Retry-After where it applies. Everything else is told to continue.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	status, pattern := s.expectRefusal(ctx)
	if status != fasthttp.StatusContinue && s.metrics != nil {
		label := "unmatched"
		if pattern != nil {
			label = patternString(pattern)
		}
		s.metrics.observe(label, string(ctx.Method()), status, 0)
	}
	return status
}

func (s *Server) expectRefusal(ctx *fasthttp.RequestCtx) (int, []string) {
	if n := ctx.Request.Header.ContentLength(); n > s.opts.MaxBody && !s.importUpload(ctx, n) {
		s.writeError(ctx, tooLarge(s.opts.MaxBody))
		return ctx.Response.StatusCode(), nil
	}
	if s.deps.Ingest == nil || string(ctx.Method()) != fasthttp.MethodPost {
		return fasthttp.StatusContinue, nil
	}
	if err := checkRawPath(ctx.Request.URI().PathOriginal()); err != nil {
		s.writeError(ctx, err)
		return ctx.Response.StatusCode(), nil
	}
	segs := strings.Split(strings.Trim(string(ctx.Path()), "/"), "/")
	var buf [1]string
	var err error
	pattern := syncPattern
	args, ok := match(syncPattern, segs, buf[:0])
	if ok {
		_, _, err = s.syncPreamble(ctx, args[0])
	} else if args, ok = match(logsPattern, segs, buf[:0]); ok {
		pattern = logsPattern
		_, err = s.sdkWriter(ctx, args[0])
	} else {
		return fasthttp.StatusContinue, nil
	}
	if err == nil {
		err = s.deps.Ingest.Refusal(max(ctx.Request.Header.ContentLength(), 0))
	}
	if err != nil {
		s.writeError(ctx, err)
		return ctx.Response.StatusCode(), pattern
	}
	return fasthttp.StatusContinue, pattern
}
