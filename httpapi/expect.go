package httpapi

import (
	"strings"

	"github.com/valyala/fasthttp"
)

// syncPattern is the sync route's pattern: its bodies are the ones the
// write path's limits may refuse.
var syncPattern = strings.Split("api/v1/sdk/users/{user_id}/sync", "/")

// expect answers a request that asks "Expect: 100-continue" before sending
// its body. A sync batch that the limits would refuse now (the backlog,
// the batches or bytes in flight, a stalled store, the disk reserve) gets
// its 503 or 507, with Retry-After, at once: the client does not upload a
// body of megabytes only to have it refused, and an overloaded server does
// not read it. Everything else is told to continue.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	if s.deps.Ingest == nil || string(ctx.Method()) != fasthttp.MethodPost {
		return fasthttp.StatusContinue
	}
	segs := strings.Split(strings.Trim(string(ctx.Path()), "/"), "/")
	var buf [1]string
	if _, ok := match(syncPattern, segs, buf[:0]); !ok {
		return fasthttp.StatusContinue
	}
	err := s.deps.Ingest.Refusal(max(ctx.Request.Header.ContentLength(), 0))
	if err == nil {
		return fasthttp.StatusContinue
	}
	s.writeError(ctx, err)
	if s.metrics != nil {
		s.metrics.observe(patternString(syncPattern), fasthttp.MethodPost, ctx.Response.StatusCode(), 0)
	}
	return ctx.Response.StatusCode()
}
