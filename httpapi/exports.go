package httpapi

import (
	"bufio"
	"io"
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
		h("GET", "/api/v1/users/{user_id}/events/workouts/{workout_id}/route.gpx", s.routeGPX),
		h("GET", "/api/v1/users/{user_id}/timeseries.csv", s.timeseriesCSV),
		h("GET", "/api/v1/meta/coverage", coverage),
	}
}

// routeGPX answers a workout's route as a GPX 1.1 file: 404 for an unknown
// user or workout, and for a workout without a route (query.ErrNoRoute).
func (s *Server) routeGPX(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	b, err := s.deps.Query.WorkoutGPX(a[0], a[1])
	if err != nil {
		return notFoundAs(err, workoutNotFound)
	}
	// The workout id is hex, so it needs no quoting in the file name.
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/gpx+xml")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+a[1]+`.gpx"`)
	ctx.SetBody(b)
	return nil
}

// timeseriesCSV streams a user's time series in a window as CSV. The
// parameters are checked, and errors answered in JSON, before the first
// byte of CSV; the rows are then read from the store and written in chunks
// by the stream writer, after the handler has returned. A store error in
// the middle of the stream can only end it early: it is logged.
func (s *Server) timeseriesCSV(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.readable(ctx, a[0]); err != nil {
		return err
	}
	start, end, err := window(ctx, "start_time", "end_time")
	if err != nil {
		return err
	}
	write, err := s.deps.Query.TimeseriesCSV(a[0], query.CSVParams{Start: start, End: end, Types: seriesTypes(ctx)})
	if err != nil {
		return err
	}
	s.streamBody(ctx, "text/csv; charset=utf-8", "csv export", write)
	return nil
}

// streamBody answers 200 with a body that write streams after the handler
// has returned (HEAD gets the headers alone): the CSV, FHIR bulk and audit
// exports. The writer may not touch ctx: it gets copies, and the
// connection only to push its write deadline forward while the client
// keeps reading. It runs on its own goroutine, outside the recoverer, so
// it recovers its own panic; an error can only end the stream early, and
// is logged as what.
func (s *Server) streamBody(ctx *fasthttp.RequestCtx, contentType, what string, write func(io.Writer) error) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(contentType)
	if ctx.IsHead() {
		return
	}
	path := string(ctx.Path())
	log := s.log
	dw := &deadlineWriter{conn: ctx.Conn(), timeout: s.opts.WriteTimeout}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() {
			if r := recover(); r != nil {
				log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Str("path", path).Msg(what + " panicked")
			}
		}()
		dw.w = w
		if err := write(dw); err != nil {
			log.Warn().Err(err).Str("path", path).Msg(what + " ended early")
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
func coverage(ctx *fasthttp.RequestCtx, _ []string) error {
	b, err := coverageJSON()
	if err != nil {
		return err
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
	return nil
}
