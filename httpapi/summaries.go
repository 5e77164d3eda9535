package httpapi

import (
	"github.com/valyala/fasthttp"

	"wearhouse/query"
)

// summaryRoutes are the summary routes.
func (s *Server) summaryRoutes() []route {
	return []route{
		h("GET", "/api/v1/users/{user_id}/summaries/activity", s.activitySummaries),
		h("GET", "/api/v1/users/{user_id}/summaries/sleep", s.sleepSummaries),
		h("GET", "/api/v1/users/{user_id}/summaries/recovery", s.recoverySummaries),
		h("GET", "/api/v1/users/{user_id}/summaries/body", s.bodySummary),
		h("GET", "/api/v1/users/{user_id}/summaries/data", s.dataSummary),
	}
}

func (s *Server) activitySummaries(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 50, 1, 400)
	if err != nil {
		return err
	}
	desc := false
	switch arg(ctx, "sort_order") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return invalid("sort_order must be asc or desc.")
	}
	page, err := s.deps.Query.ActivitySummaries(a[0], query.ActivityParams{
		Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit, Desc: desc,
	})
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

func (s *Server) sleepSummaries(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 50, 1, 100)
	if err != nil {
		return err
	}
	page, err := s.deps.Query.SleepSummaries(a[0], query.SleepSummaryParams{
		Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

// recoverySummaries answers as Open Wearables does for SDK data: recovery
// summaries come only from cloud providers' scores, so the page is empty.
func (s *Server) recoverySummaries(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, err := dateWindow(ctx)
	if err != nil {
		return err
	}
	if _, err := intParam(ctx, "limit", 50, 1, 100); err != nil {
		return err
	}
	page := query.Page[struct{}]{Data: []struct{}{}}
	page.Metadata.StartTime, page.Metadata.EndTime = &start, &end
	return writeValue(ctx, fasthttp.StatusOK, page)
}

func (s *Server) bodySummary(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	period, err := intParam(ctx, "average_period", 7, 1, 7)
	if err != nil {
		return err
	}
	window, err := intParam(ctx, "latest_window_hours", 4, 1, 24)
	if err != nil {
		return err
	}
	b, err := s.deps.Query.BodySummary(a[0], query.BodyParams{AveragePeriodDays: period, LatestWindowHours: window})
	if err != nil {
		return err
	}
	if b == nil {
		writeJSON(ctx, fasthttp.StatusOK, []byte("null"))
		return nil
	}
	return writeValue(ctx, fasthttp.StatusOK, b)
}

func (s *Server) dataSummary(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	var p query.DataParams
	var err error
	if p.Start, err = optionalTime(ctx, "start_date", false); err != nil {
		return err
	}
	if p.End, err = optionalTime(ctx, "end_date", true); err != nil {
		return err
	}
	d, err := s.deps.Query.DataSummary(a[0], p)
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, d)
}
