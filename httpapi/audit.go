package httpapi

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/audit"
	"wearhouse/auth"
	"wearhouse/codec"
)

// The audit trail's edge: after every request that touches health data or
// credentials (and every refused one), one record of who, what, on whose
// data, the outcome and the client; the admin's routes to read it.

// unaudited are the routes that hold no user data and change nothing:
// health, metrics, documents, the console's shell and assets, and what
// the console polls about itself. A refusal on them is still recorded.
var unaudited = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true, "/docs": true,
	"/static/provider-icons/{name}": true, "/api/v1/meta/coverage": true,
	"/": true, "/setup": true, "/console": true, "/console/{page}": true, "/console/users/{user_id}": true,
	"/console/assets/{name}": true, "/api/v1/console/session": true, "/api/v1/console/setup": true,
	"/api/v1/console/overview": true, "/fhir/r4/metadata": true, "unmatched": true, "preflight": true,
}

// auditParams are the query parameters a record keeps: windows, ids and
// type names, never a search (which may be an e-mail address).
var auditParams = []string{"start_date", "end_date", "start_time", "end_time", "date", "types", "code", "resolution",
	"patient", "user_id", "provider", "source", "status", "format"}

// actionOf names what a request did.
func actionOf(method, route string) string {
	switch {
	case strings.Contains(route, "/console/login"), strings.Contains(route, "/console/logout"), strings.Contains(route, "/console/setup"):
		return "session"
	case strings.Contains(route, "/developer/api-keys"), strings.Contains(route, "/applications"),
		strings.Contains(route, "/console/accounts"), strings.Contains(route, "/console/password"),
		strings.Contains(route, "/token"), strings.Contains(route, "invitation-code"):
		return "credential"
	case strings.HasPrefix(route, "/api/v1/audit"):
		return "audit"
	case route == "/api/v1/admin/backup":
		return "backup"
	case strings.HasSuffix(route, ".csv"), strings.HasSuffix(route, ".gpx"), strings.Contains(route, "$export"),
		strings.HasPrefix(route, "/fhir/r4/bulk/"):
		return "export"
	case strings.Contains(route, "/import/") && method == "POST":
		return "import"
	case route == "/api/v1/users/{user_id}" && method == "DELETE":
		return "erase"
	case method == "DELETE":
		return "delete"
	case method == "POST" && strings.HasPrefix(route, "/api/v1/sdk/"):
		return "sync"
	case method == "POST" || method == "PATCH" || method == "PUT":
		return "write"
	}
	return "read"
}

// audit records a request in the trail.
func (s *Server) audit(ctx *fasthttp.RequestCtx, e *accessEntry, requestID string) {
	status := ctx.Response.StatusCode()
	if unaudited[e.route] && status != fasthttp.StatusUnauthorized && status != fasthttp.StatusForbidden {
		return
	}
	method := string(ctx.Method())
	ev := audit.Event{Action: actionOf(method, e.route), Method: method, Route: e.route, Status: status,
		UserID: e.user, Client: s.clientAddr(ctx).String(), RequestID: requestID}
	if ua := ctx.Request.Header.UserAgent(); len(ua) > 0 {
		ev.UserAgent = string(ua[:min(len(ua), 200)])
	}
	if p := e.principal; p != nil {
		switch p.Kind {
		case auth.KindSDKToken:
			ev.Actor = audit.Actor{Kind: "sdk", ID: p.AppID, User: p.UserID}
		case auth.KindSession:
			ev.Actor = audit.Actor{Kind: "account", ID: p.Account}
		default:
			ev.Actor = audit.Actor{Kind: "key", ID: p.KeyID}
		}
	}
	i := 0
	for _, seg := range e.pattern {
		if len(seg) > 1 && seg[0] == '{' && i < len(e.args) {
			if name := seg[1 : len(seg)-1]; name != "user_id" {
				setTarget(&ev, name, e.args[i])
			}
			i++
		}
	}
	args := ctx.QueryArgs()
	for _, name := range auditParams {
		if vs := args.PeekMulti(name); len(vs) > 0 {
			parts := make([]string, len(vs))
			for j, v := range vs {
				parts[j] = string(v)
			}
			setTarget(&ev, name, strings.Join(parts, ","))
		}
	}
	for _, name := range []string{"user_id", "patient"} {
		if u := args.Peek(name); ev.UserID == "" && len(u) > 0 {
			ev.UserID = strings.TrimPrefix(string(u), "Patient/")
		}
	}
	s.deps.Audit.Record(ev)
}

func setTarget(ev *audit.Event, name, value string) {
	if ev.Target == nil {
		ev.Target = map[string]string{}
	}
	ev.Target[name] = value[:min(len(value), 200)]
}

func (s *Server) auditRoutes() []route {
	if s.deps.Audit == nil {
		return nil
	}
	return []route{
		h("GET", "/api/v1/audit", s.auditList),
		h("GET", "/api/v1/audit.jsonl", s.auditExport),
		h("GET", "/api/v1/audit/fhir", s.auditExport),
	}
}

// auditFilter reads the filters of the audit routes.
func auditFilter(ctx *fasthttp.RequestCtx) (audit.Filter, error) {
	f := audit.Filter{UserID: arg(ctx, "user_id"), Actor: arg(ctx, "actor"), Action: arg(ctx, "action")}
	var err error
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := arg(ctx, name); v != "" {
			if *dst, err = parseAuditTime(v); err != nil {
				return f, invalid(name + " must be a date (2026-01-31) or an RFC 3339 time.")
			}
		}
	}
	if c := arg(ctx, "cursor"); c != "" {
		if f.Before, err = strconv.ParseUint(c, 10, 64); err != nil {
			return f, invalid("cursor must be the next_cursor of a previous page.")
		}
	}
	return f, nil
}

func parseAuditTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

type auditPage struct {
	Items      []audit.Event `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

// auditList is GET /audit: the records that match, newest first, a page
// at a time (limit 1 to 1,000, default 100).
func (s *Server) auditList(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	f, err := auditFilter(ctx)
	if err != nil {
		return err
	}
	if f.Limit, err = intParam(ctx, "limit", 100, 1, 1000); err != nil {
		return err
	}
	items, next, err := s.deps.Audit.List(f)
	if err != nil {
		return err
	}
	page := auditPage{Items: items}
	if page.Items == nil {
		page.Items = []audit.Event{}
	}
	if next != 0 {
		c := strconv.FormatUint(next, 10)
		page.NextCursor = &c
	}
	return writeValue(ctx, fasthttp.StatusOK, page)
}

// auditExport is GET /audit.jsonl (the records as JSON lines) and GET
// /audit/fhir (as FHIR AuditEvent resources, NDJSON), oldest first,
// streamed, with the same filters.
func (s *Server) auditExport(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	f, err := auditFilter(ctx)
	if err != nil {
		return err
	}
	fhir := strings.HasSuffix(string(ctx.Path()), "/fhir")
	contentType := "application/x-ndjson"
	if fhir {
		contentType = "application/fhir+ndjson"
	}
	trail := s.deps.Audit
	s.streamBody(ctx, contentType, "audit export", func(w io.Writer) error {
		return trail.Each(f, func(e *audit.Event) error {
			var v any = e
			if fhir {
				v = audit.AuditEvent(e)
			}
			b, err := codec.Marshal(v)
			if err != nil {
				return err
			}
			_, err = w.Write(append(b, '\n'))
			return err
		})
	})
	return nil
}
