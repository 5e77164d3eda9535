package httpapi

import (
	"math"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/query"
)

// scoreRoutes are the health score and menstrual cycle routes.
func (s *Server) scoreRoutes() []route {
	return []route{
		h("GET", "/api/v1/users/{user_id}/health-scores", s.healthScores),
		h("GET", "/api/v1/users/{user_id}/events/menstrual-cycles", s.menstrualCycles),
		h("DELETE", "/api/v1/users/{user_id}/events/menstrual-cycles/{cycle_id}", s.deleteMenstrualCycle),
	}
}

// healthScores is GET /users/{id}/health-scores: start_date and end_date
// (optional), category, provider, limit 1..1000 (50), offset (0).
func (s *Server) healthScores(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	p := query.HealthScoreParams{Category: arg(ctx, "category"), Provider: arg(ctx, "provider"), Now: time.Now()}
	var err error
	if p.Start, err = optionalTime(ctx, "start_date", false); err != nil {
		return err
	}
	if p.End, err = optionalTime(ctx, "end_date", true); err != nil {
		return err
	}
	if p.Limit, err = intParam(ctx, "limit", 50, 1, 1000); err != nil {
		return err
	}
	if p.Offset, err = intParam(ctx, "offset", 0, 0, math.MaxInt32); err != nil {
		return err
	}
	page, err := s.deps.Query.HealthScores(a[0], p)
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

// menstrualCycles is GET /users/{id}/events/menstrual-cycles: start_date
// and end_date (required), cursor, limit 1..100 (50).
func (s *Server) menstrualCycles(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	start, _, _, err := eventParams(ctx)
	if err != nil {
		return err
	}
	page, err := query.MenstrualCycles(query.MenstrualParams{Start: start, Cursor: arg(ctx, "cursor")})
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

// deleteMenstrualCycle is DELETE /users/{id}/events/menstrual-cycles/{cid}:
// 204 when Open Wearables deletes a cycle, 404 when it has none such. The
// SDKs send no cycles, so there is never one to delete.
func (s *Server) deleteMenstrualCycle(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	return notFound("Menstrual cycle record not found")
}
