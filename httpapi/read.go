package httpapi

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/query"
)

// readRoutes are the data read routes.
func (s *Server) readRoutes() []route {
	return []route{
		r("GET", "/api/v1/users/{user_id}/timeseries", s.timeseries),
		r("GET", "/api/v1/users/{user_id}/events/workouts", s.workouts),
		r("GET", "/api/v1/users/{user_id}/events/workouts/{workout_id}", s.workout),
		r("GET", "/api/v1/users/{user_id}/events/sleep", s.sleep),
	}
}

// readSetup checks the credentials and resolves the user of a read route.
func (s *Server) readSetup(ctx *fasthttp.RequestCtx, userID string) (iid uint32, known bool, ok bool) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return 0, false, false
	}
	iid, known, err := s.readUser(userID)
	if err != nil {
		s.writeError(ctx, err)
		return 0, false, false
	}
	return iid, known, true
}

func (s *Server) answer(ctx *fasthttp.RequestCtx, v any, err error) {
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	b, err := codec.Marshal(v)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
}

func arg(ctx *fasthttp.RequestCtx, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// window reads a half-open time window from two parameters.
func window(ctx *fasthttp.RequestCtx, startName, endName string) (time.Time, time.Time, error) {
	start, err := query.ParseTime(startName, arg(ctx, startName), false)
	if err != nil {
		return start, start, err
	}
	end, err := query.ParseTime(endName, arg(ctx, endName), true)
	return start, end, err
}

// eventParams reads the window and limit of the event lists (workouts,
// sleep): start_date, end_date, limit 1..100 (50).
func eventParams(ctx *fasthttp.RequestCtx) (start, end time.Time, limit int, err error) {
	if start, end, err = window(ctx, "start_date", "end_date"); err != nil {
		return
	}
	limit, err = query.Limit(arg(ctx, "limit"), 50, 100)
	return
}

// maxRawSamples is the largest page of the timeseries route: Open Wearables
// caps it at 100; a day of 1 Hz heart rate is 86,400 samples.
const maxRawSamples = 100_000

func (s *Server) timeseries(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, err := window(ctx, "start_time", "end_time")
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := query.Limit(arg(ctx, "limit"), 50, maxRawSamples)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	var types []string
	for _, v := range ctx.QueryArgs().PeekMulti("types") {
		types = append(types, string(v))
	}
	page, err := s.deps.Query.Timeseries(iid, known, query.TimeseriesParams{
		Start: start, End: end, Types: types, Resolution: arg(ctx, "resolution"), Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	b, err := appendTimeseriesPage(make([]byte, 0, 64+200*len(page.Data)), page)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
}

func (s *Server) workouts(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, limit, err := eventParams(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	page, err := s.deps.Query.Workouts(iid, known, query.WorkoutParams{
		Start: start, End: end, RecordType: arg(ctx, "record_type"), Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	s.answer(ctx, page, err)
}

func (s *Server) workout(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	if !known {
		s.writeError(ctx, errStatus(fasthttp.StatusNotFound, "Workout not found"))
		return
	}
	w, err := s.deps.Query.WorkoutByID(iid, a[1])
	if errors.Is(err, query.ErrNotFound) {
		err = errStatus(fasthttp.StatusNotFound, "Workout not found")
	}
	s.answer(ctx, w, err)
}

func (s *Server) sleep(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, limit, err := eventParams(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	page, err := s.deps.Query.Sleep(iid, known, query.SleepParams{Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit})
	s.answer(ctx, page, err)
}
