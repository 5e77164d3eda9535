package httpapi

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/query"
)

// summaryRoutes are the summary routes.
func (s *Server) summaryRoutes() []route {
	return []route{
		r("GET", "/api/v1/users/{user_id}/summaries/activity", s.activitySummaries),
		r("GET", "/api/v1/users/{user_id}/summaries/sleep", s.sleepSummaries),
		r("GET", "/api/v1/users/{user_id}/summaries/recovery", s.recoverySummaries),
		r("GET", "/api/v1/users/{user_id}/summaries/body", s.bodySummary),
		r("GET", "/api/v1/users/{user_id}/summaries/data", s.dataSummary),
	}
}

// dateWindow reads the required local-date window [start_date, end_date).
func dateWindow(ctx *fasthttp.RequestCtx) (time.Time, time.Time, error) {
	start, err := query.ParseDate("start_date", arg(ctx, "start_date"))
	if err != nil {
		return start, start, err
	}
	end, err := query.ParseDate("end_date", arg(ctx, "end_date"))
	return start, end, err
}

// rangeArg reads an optional integer parameter in [lo, hi].
func rangeArg(ctx *fasthttp.RequestCtx, name string, def, lo, hi int) (int, error) {
	v := arg(ctx, name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &query.Error{Detail: name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + "."}
	}
	return n, nil
}

func (s *Server) activitySummaries(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := query.Limit(arg(ctx, "limit"), 50, 400)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	desc := false
	switch arg(ctx, "sort_order") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		s.writeError(ctx, &query.Error{Detail: "sort_order must be asc or desc."})
		return
	}
	page, err := s.deps.Query.ActivitySummaries(iid, known, query.ActivityParams{
		UserID: a[0], Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit, Desc: desc,
	})
	s.answer(ctx, page, err)
}

func (s *Server) sleepSummaries(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := query.Limit(arg(ctx, "limit"), 50, 100)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	page, err := s.deps.Query.SleepSummaries(iid, known, query.SleepSummaryParams{
		Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	s.answer(ctx, page, err)
}

// recoverySummaries answers as Open Wearables does for SDK data: recovery
// summaries come only from cloud providers' scores, so the page is empty.
func (s *Server) recoverySummaries(ctx *fasthttp.RequestCtx, a []string) {
	if _, _, ok := s.readSetup(ctx, a[0]); !ok {
		return
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if _, err := query.Limit(arg(ctx, "limit"), 50, 100); err != nil {
		s.writeError(ctx, err)
		return
	}
	page := query.Page[struct{}]{Data: []struct{}{}}
	page.Metadata.StartTime, page.Metadata.EndTime = &start, &end
	s.answer(ctx, page, nil)
}

func (s *Server) bodySummary(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	period, err := rangeArg(ctx, "average_period", 7, 1, 7)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	window, err := rangeArg(ctx, "latest_window_hours", 4, 1, 24)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	b, err := s.deps.Query.BodySummary(iid, known, query.BodyParams{
		UserID: a[0], AveragePeriodDays: period, LatestWindowHours: window,
	})
	if err == nil && b == nil {
		writeJSON(ctx, fasthttp.StatusOK, []byte("null"))
		return
	}
	s.answer(ctx, b, err)
}

func (s *Server) dataSummary(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	p := query.DataParams{UserID: a[0]}
	if v := arg(ctx, "start_date"); v != "" {
		t, err := query.ParseTime("start_date", v, false)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		p.Start = &t
	}
	if v := arg(ctx, "end_date"); v != "" {
		t, err := query.ParseTime("end_date", v, true)
		if err != nil {
			s.writeError(ctx, err)
			return
		}
		p.End = &t
	}
	d, err := s.deps.Query.DataSummary(iid, known, p)
	s.answer(ctx, d, err)
}
