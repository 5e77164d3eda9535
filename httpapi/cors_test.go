package httpapi_test

import (
	"strings"
	"testing"

	"wearhouse/app"
)

// CORS is off by default; with --cors-origins, preflights of those origins
// are answered and their requests (errors included, so that a page can read
// them) carry the headers; other origins get none.
func TestCORS(t *testing.T) {
	const page = "https://dash.example.com"
	preflight := func(ts *testServer, origin string) resp {
		return ts.do("OPTIONS", "/api/v1/users/u1/timeseries", nil, "Origin", origin,
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-open-wearables-api-key")
	}

	off := startServer(t, nil)
	if r := preflight(off, page); r.status != 405 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off: preflight %d, ACAO %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	if r := off.do("GET", "/healthz", nil, "Origin", page); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off: ACAO %q", r.header.Get("Access-Control-Allow-Origin"))
	}

	ts := startServer(t, func(o *app.Options) {
		o.HTTP.CORSOrigins = []string{"https://Dash.Example.com/", "http://127.0.0.1:3000"}
	})
	r := preflight(ts, page)
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != page ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "X-Open-Wearables-API-Key") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "DELETE") || r.header.Get("Vary") != "Origin" {
		t.Fatalf("allowed preflight: %d %v", r.status, r.header)
	}
	if r := preflight(ts, "https://evil.example.com"); r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's preflight: %d %v", r.status, r.header)
	}
	ok := ts.do("GET", "/api/v1/users", nil, "Origin", page, "X-Open-Wearables-API-Key", adminKey)
	if ok.status != 200 || ok.header.Get("Access-Control-Allow-Origin") != page ||
		!strings.Contains(ok.header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("allowed GET: %d %v", ok.status, ok.header)
	}
	denied := ts.do("GET", "/api/v1/users", nil, "Origin", "http://127.0.0.1:3000")
	if denied.status != 401 || denied.header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" {
		t.Fatalf("401 to an allowed origin: %d %v", denied.status, denied.header)
	}
	other := ts.do("GET", "/api/v1/users", nil, "Origin", "https://evil.example.com", "X-Open-Wearables-API-Key", adminKey)
	if other.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's GET carries ACAO %q", other.header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSOriginsAreValidated(t *testing.T) {
	for _, bad := range []string{"dash.example.com", "https://dash.example.com/path", "ftp://x", "https://"} {
		o := app.Options{}
		o.HTTP.CORSOrigins = []string{bad}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "CORS origin") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
