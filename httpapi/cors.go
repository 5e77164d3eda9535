package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"
)

// CORS lets web pages of the listed origins call the API from a browser
// (an app's dashboard, Open Wearables' example web apps). It is off unless
// origins are given. Credentials travel in headers, never in cookies, so
// Access-Control-Allow-Credentials is not sent.

const (
	corsAllowMethods  = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, X-Open-Wearables-API-Key, Content-Type, Content-Encoding, Idempotency-Key, X-Request-Id, X-Open-Wearables-SDK-Version, X-Open-Wearables-SDK-Platform"
	corsExposeHeaders = "X-Request-Id, Retry-After, Idempotent-Replayed, Location"
	corsMaxAge        = "600"
)

var errOrigin = forbidden("This origin may not call the API: add it to --cors-origins.")

// validOrigins checks --cors-origins: "*" or scheme://host[:port] each.
func validOrigins(origins []string) error {
	var errs []error
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("httpapi: CORS origin %q is not * or scheme://host[:port]", o))
		}
	}
	return errors.Join(errs...)
}

// normalOrigins lower-cases the origins and drops a trailing slash, as
// browsers send them in Origin.
func normalOrigins(origins []string) []string {
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		out = append(out, strings.TrimSuffix(strings.ToLower(o), "/"))
	}
	return out
}

func (s *Server) corsAllowed(origin []byte) bool {
	for _, o := range s.opts.CORSOrigins {
		if o == "*" || (len(o) == len(origin) && bytes.EqualFold([]byte(o), origin)) {
			return true
		}
	}
	return false
}

// cors adds the CORS headers for an allowed origin and answers a
// preflight; it reports whether it answered. A preflight from an origin
// that is not allowed gets a 403 that says so.
func (s *Server) cors(ctx *fasthttp.RequestCtx) bool {
	if len(s.opts.CORSOrigins) == 0 {
		return false
	}
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		return false
	}
	preflight := string(ctx.Method()) == fasthttp.MethodOptions &&
		len(ctx.Request.Header.Peek("Access-Control-Request-Method")) > 0
	h := &ctx.Response.Header
	h.Add("Vary", "Origin")
	if !s.corsAllowed(origin) {
		if preflight {
			s.writeError(ctx, errOrigin)
		}
		return preflight
	}
	h.SetBytesV("Access-Control-Allow-Origin", origin)
	if !preflight {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return true
}
