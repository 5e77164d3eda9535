package httpapi

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
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
	for _, b := range []struct {
		name     string
		endOfDay bool
		dst      **time.Time
	}{{"start_date", false, &p.Start}, {"end_date", true, &p.End}} {
		if v := arg(ctx, b.name); v != "" {
			t, err := query.ParseTime(b.name, v, b.endOfDay)
			if err != nil {
				return err
			}
			*b.dst = &t
		}
	}
	var err error
	if p.Limit, err = intParam(ctx, "limit", 50, 1, 1000); err != nil {
		return err
	}
	if v := arg(ctx, "offset"); v != "" {
		if p.Offset, err = strconv.Atoi(v); err != nil || p.Offset < 0 {
			return &query.Error{Detail: "offset must be an integer of 0 or more."}
		}
	}
	page, err := s.deps.Query.HealthScores(a[0], p)
	if err != nil {
		return err
	}
	return writeOK(ctx, page)
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
	return writeOK(ctx, page)
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

// writeOK answers 200 with v as JSON.
func writeOK(ctx *fasthttp.RequestCtx, v any) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
	return nil
}
