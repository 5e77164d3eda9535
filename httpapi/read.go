package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/query"
)

// readRoutes are the data read routes. Each checks its credential and user
// id (readable) and its parameters, and passes the user id to query, which
// resolves the user: an unknown user reads as one without data.
func (s *Server) readRoutes() []route {
	return []route{
		h("GET", "/api/v1/users/{user_id}/timeseries", s.timeseries),
		h("GET", "/api/v1/users/{user_id}/events/workouts", s.workouts),
		h("GET", "/api/v1/users/{user_id}/events/workouts/{workout_id}", s.workout),
		h("GET", "/api/v1/users/{user_id}/events/sleep", s.sleep),
	}
}

// writeValue writes v as a JSON answer with the status given: the one
// writer of the handlers' success bodies that are values.
func writeValue(ctx *fasthttp.RequestCtx, status int, v any) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(ctx, status, b)
	return nil
}

// eventParams reads the window and limit of the event lists (workouts,
// sleep): start_date, end_date, limit 1..100 (50).
func eventParams(ctx *fasthttp.RequestCtx) (start, end time.Time, limit int, err error) {
	if start, end, err = window(ctx, "start_date", "end_date"); err != nil {
		return
	}
	limit, err = intParam(ctx, "limit", 50, 1, 100)
	return
}

// maxRawSamples is the largest page of the timeseries route: Open Wearables
// caps it at 100; a day of 1 Hz heart rate is 86,400 samples.
const maxRawSamples = 100_000

func (s *Server) timeseries(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, err := window(ctx, "start_time", "end_time")
	if err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 50, 1, maxRawSamples)
	if err != nil {
		return err
	}
	page, err := s.deps.Query.Timeseries(a[0], query.TimeseriesParams{
		Start: start, End: end, Types: seriesTypes(ctx), Resolution: arg(ctx, "resolution"), Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	b, err := appendTimeseriesPage(make([]byte, 0, 64+200*len(page.Data)), page)
	if err != nil {
		return err
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
	return nil
}

func (s *Server) workouts(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, limit, err := eventParams(ctx)
	if err != nil {
		return err
	}
	page, err := s.deps.Query.Workouts(a[0], query.WorkoutParams{
		Start: start, End: end, RecordType: arg(ctx, "record_type"), Cursor: arg(ctx, "cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

const workoutNotFound = "Workout not found"

func (s *Server) workout(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	w, err := s.deps.Query.WorkoutByID(a[0], a[1])
	if err != nil {
		return notFoundAs(err, workoutNotFound)
	}
	return writeValue(ctx, fasthttp.StatusOK, w)
}

func (s *Server) sleep(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, limit, err := eventParams(ctx)
	if err != nil {
		return err
	}
	page, err := s.deps.Query.Sleep(a[0], query.SleepParams{Start: start, End: end, Cursor: arg(ctx, "cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}
