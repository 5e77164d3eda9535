package httpapi

import (
	"bufio"
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/query"
)

// exportRoutes are the export routes and the coverage route.
func (s *Server) exportRoutes() []route {
	return []route{
		r("GET", "/api/v1/users/{user_id}/events/workouts/{workout_id}/route.gpx", s.routeGPX),
		r("GET", "/api/v1/users/{user_id}/timeseries.csv", s.timeseriesCSV),
		r("GET", "/api/v1/meta/coverage", func(ctx *fasthttp.RequestCtx, _ []string) { s.coverage(ctx) }),
	}
}

// routeGPX answers a workout's route as a GPX 1.1 file.
func (s *Server) routeGPX(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	if !known {
		s.writeError(ctx, errStatus(fasthttp.StatusNotFound, "Workout not found"))
		return
	}
	b, err := s.deps.Query.WorkoutGPX(iid, a[1])
	switch {
	case errors.Is(err, query.ErrNotFound):
		s.writeError(ctx, errStatus(fasthttp.StatusNotFound, "Workout not found"))
		return
	case errors.Is(err, query.ErrNoRoute):
		s.writeError(ctx, errStatus(fasthttp.StatusNotFound, "Workout has no route"))
		return
	case err != nil:
		s.writeError(ctx, err)
		return
	}
	// The workout id is hex, so it needs no quoting in the file name.
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/gpx+xml")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+a[1]+`.gpx"`)
	ctx.SetBody(b)
}

// timeseriesCSV streams a user's time series in a window as CSV. The
// parameters are checked, and errors answered in JSON, before the first
// byte of CSV; the rows are then read from the store and written in chunks
// by the stream writer, after the handler has returned. A store error in
// the middle of the stream can only end it early: it is logged.
func (s *Server) timeseriesCSV(ctx *fasthttp.RequestCtx, a []string) {
	iid, known, ok := s.readSetup(ctx, a[0])
	if !ok {
		return
	}
	start, end, err := window(ctx, "start_time", "end_time")
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	var types []string
	for _, v := range ctx.QueryArgs().PeekMulti("types") {
		types = append(types, string(v)) // copied: the writer outlives the request
	}
	write, err := s.deps.Query.TimeseriesCSV(iid, known, query.CSVParams{Start: start, End: end, Types: types})
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/csv; charset=utf-8")
	if ctx.IsHead() {
		return
	}
	// The writer runs after the handler has returned and may not touch
	// ctx: it gets copies, and the connection only to push its write
	// deadline forward while the client keeps reading.
	path := string(ctx.Path())
	log := s.log
	dw := &deadlineWriter{conn: ctx.Conn(), timeout: s.opts.WriteTimeout}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		// The writer runs on its own goroutine, outside the recoverer.
		defer func() {
			if r := recover(); r != nil {
				log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Str("path", path).Msg("csv export panicked")
			}
		}()
		dw.w = w
		if err := write(dw); err != nil {
			log.Warn().Err(err).Str("path", path).Msg("csv export ended early")
		}
	})
}

// deadlineWriter writes a long streamed body: before a write it moves the
// connection's write deadline to WriteTimeout from now (at most every
// second), so that the timeout bounds how long a client may stop reading,
// not how long the whole body takes.
type deadlineWriter struct {
	w       *bufio.Writer
	conn    net.Conn
	timeout time.Duration
	moved   time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if d.conn != nil && d.timeout > 0 {
		if now := time.Now(); now.Sub(d.moved) >= time.Second {
			_ = d.conn.SetWriteDeadline(now.Add(d.timeout))
			d.moved = now
		}
	}
	return d.w.Write(p)
}

// coverageJSON is the coverage answer, encoded once.
var coverageJSON = sync.OnceValues(func() ([]byte, error) { return codec.Marshal(query.CoverageMatrix()) })

// coverage answers GET /meta/coverage: static, without credentials.
func (s *Server) coverage(ctx *fasthttp.RequestCtx) {
	b, err := coverageJSON()
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
}
