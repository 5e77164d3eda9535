package httpapi

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/query"
)

// The query parameters of the read routes. Each parser answers a bad value
// with a 400 that names the parameter.

func arg(ctx *fasthttp.RequestCtx, name string) string {
	return string(ctx.QueryArgs().Peek(name))
}

// intParam reads an optional integer parameter from lo to hi; def when it
// is absent or empty.
func intParam(ctx *fasthttp.RequestCtx, name string, def, lo, hi int) (int, error) {
	v := ctx.QueryArgs().Peek(name)
	if len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < lo || n > hi {
		return 0, invalid(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + ".")
	}
	return n, nil
}

// window reads a required half-open time window from two parameters.
func window(ctx *fasthttp.RequestCtx, startName, endName string) (time.Time, time.Time, error) {
	start, err := query.ParseTime(startName, arg(ctx, startName), false)
	if err != nil {
		return start, start, err
	}
	end, err := query.ParseTime(endName, arg(ctx, endName), true)
	return start, end, err
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

// optionalTime reads an optional time parameter: nil when it is absent.
func optionalTime(ctx *fasthttp.RequestCtx, name string, endOfDay bool) (*time.Time, error) {
	v := arg(ctx, name)
	if v == "" {
		return nil, nil
	}
	t, err := query.ParseTime(name, v, endOfDay)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// seriesTypes reads the repeated types parameter, copied: the values outlive the
// request in an export's stream writer.
func seriesTypes(ctx *fasthttp.RequestCtx) []string {
	var out []string
	for _, v := range ctx.QueryArgs().PeekMulti("types") {
		out = append(out, string(v))
	}
	return out
}
