package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"wearhouse/httpapi"
)

// The OpenAPI document cannot drift from the server: every route of the
// route table is described and nothing else, every $ref resolves, and real
// answers (and the requests that got them) validate against the schemas the
// document gives them, with each status they came with documented.

// openAPIDoc fetches and decodes the served document.
func openAPIDoc(t *testing.T, ts *testServer) map[string]any {
	t.Helper()
	r := ts.do("GET", "/openapi.json", nil)
	if r.status != 200 {
		t.Fatalf("GET /openapi.json: %d %s", r.status, r.body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	return doc
}

// normalPattern writes every {name} segment as {}, so that the route
// table's names and the document's need not agree.
func normalPattern(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// routeDrift compares a route table ("METHOD /pattern") with the
// document's operations, both ways.
func routeDrift(table []string, doc map[string]any) []string {
	documented := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+normalPattern(path)] = true
		}
	}
	var problems []string
	inTable := map[string]bool{}
	for _, rt := range table {
		method, pattern, _ := strings.Cut(rt, " ")
		key := method + " " + normalPattern(pattern)
		inTable[key] = true
		if !documented[key] {
			problems = append(problems, rt+" is in the route table but not in the OpenAPI document: describe it in openapi_ops.go")
		}
	}
	for key := range documented {
		if !inTable[key] {
			problems = append(problems, key+" is in the OpenAPI document but not in the route table")
		}
	}
	sort.Strings(problems)
	return problems
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ts := startServer(t, nil)
	doc := openAPIDoc(t, ts)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi is %v, want 3.1.0", doc["openapi"])
	}
	for _, p := range routeDrift(httpapi.RouteTable(ts.app.HTTP), doc) {
		t.Error(p)
	}
	refs := 0
	walkRefs(doc, func(ref string) {
		refs++
		if _, ok := resolve(doc, ref); !ok {
			t.Errorf("$ref %s does not resolve", ref)
		}
	})
	if refs == 0 {
		t.Error("the document has no $ref at all")
	}
	tags := map[string]bool{}
	for _, tg := range doc["tags"].([]any) {
		tags[tg.(map[string]any)["name"].(string)] = true
	}
	ids := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			name := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s: operationId %q is empty or taken", name, id)
			}
			ids[id] = true
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s has no summary", name)
			}
			for _, tg := range op["tags"].([]any) {
				if !tags[tg.(string)] {
					t.Errorf("%s has the tag %v, which the document does not list", name, tg)
				}
			}
			if len(op["responses"].(map[string]any)) == 0 {
				t.Errorf("%s has no responses", name)
			}
		}
	}
}

// TestRouteDriftSeesEitherSide shows that the comparison fails for a route
// added to the table without a description, and for a description of a
// route the table does not have.
func TestRouteDriftSeesEitherSide(t *testing.T) {
	ts := startServer(t, nil)
	doc := openAPIDoc(t, ts)
	table := httpapi.RouteTable(ts.app.HTTP)
	if p := routeDrift(table, doc); len(p) != 0 {
		t.Fatalf("drift before the change: %v", p)
	}
	added := append(slices.Clip(table), "GET /api/v1/users/{user_id}/undescribed")
	if p := routeDrift(added, doc); len(p) != 1 || !strings.Contains(p[0], "undescribed is in the route table but not") {
		t.Errorf("an undescribed route gives %q", p)
	}
	removed := slices.DeleteFunc(slices.Clone(table), func(s string) bool { return s == "GET /api/v1/meta/coverage" })
	if p := routeDrift(removed, doc); len(p) != 1 || !strings.Contains(p[0], "coverage is in the OpenAPI document but not") {
		t.Errorf("a description without its route gives %q", p)
	}
}

func walkRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				fn(s)
				continue
			}
			walkRefs(e, fn)
		}
	case []any:
		for _, e := range x {
			walkRefs(e, fn)
		}
	}
}

// resolve follows a local JSON pointer.
func resolve(doc map[string]any, ref string) (map[string]any, bool) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

// schemaCheck validates a value against the subset of JSON Schema the
// document uses: $ref, allOf, anyOf, type (one or several), enum, format
// date-time, minimum and maximum, properties, required,
// additionalProperties and items. In strict mode an object may not have a
// property its schema does not declare (unless additionalProperties
// allows it), so that an answer that gained or renamed a field fails
// against a schema of another type.
type schemaCheck struct {
	doc    map[string]any
	strict bool
	errs   []string
}

func (c *schemaCheck) fail(at, format string, args ...any) {
	c.errs = append(c.errs, at+": "+fmt.Sprintf(format, args...))
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeAllows(typ any, got string) bool {
	var types []any
	switch t := typ.(type) {
	case string:
		types = []any{t}
	case []any:
		types = t
	}
	for _, t := range types {
		if t == got || (t == "number" && got == "integer") {
			return true
		}
	}
	return false
}

func (c *schemaCheck) check(s map[string]any, v any, at string) {
	if ref, ok := s["$ref"].(string); ok {
		target, ok := resolve(c.doc, ref)
		if !ok {
			c.fail(at, "$ref %s does not resolve", ref)
			return
		}
		c.check(target, v, at)
	}
	for _, sub := range asList(s["allOf"]) {
		c.check(sub, v, at)
	}
	if alts := asList(s["anyOf"]); len(alts) > 0 {
		var why []string
		for _, alt := range alts {
			sub := &schemaCheck{doc: c.doc, strict: c.strict}
			sub.check(alt, v, at)
			if len(sub.errs) == 0 {
				why = nil
				break
			}
			why = append(why, sub.errs...)
		}
		if why != nil {
			c.fail(at, "matches none of anyOf: %s", strings.Join(why, "; "))
		}
	}
	if typ, ok := s["type"]; ok && !typeAllows(typ, jsonType(v)) {
		c.fail(at, "is %s, the schema says %v", jsonType(v), typ)
		return
	}
	if vals, ok := s["enum"].([]any); ok && !slices.Contains(vals, v) {
		c.fail(at, "%v is not one of %v", v, vals)
	}
	if str, ok := v.(string); ok && s["format"] == "date-time" {
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			c.fail(at, "%q is not a date-time", str)
		}
	}
	if n, ok := v.(float64); ok {
		if lo, ok := s["minimum"].(float64); ok && n < lo {
			c.fail(at, "%v is under the minimum %v", n, lo)
		}
		if hi, ok := s["maximum"].(float64); ok && n > hi {
			c.fail(at, "%v is over the maximum %v", n, hi)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				c.fail(at, "has no %s, which is required", r)
			}
		}
		addl, hasAddl := s["additionalProperties"]
		for k, e := range x {
			switch ps, declared := props[k]; {
			case declared:
				c.check(ps.(map[string]any), e, at+"."+k)
			case hasAddl:
				if as, ok := addl.(map[string]any); ok {
					c.check(as, e, at+"."+k)
				} else if addl == false {
					c.fail(at, "has %s, which additionalProperties forbids", k)
				}
			case c.strict && props != nil:
				c.fail(at, "has %s, which the schema does not declare", k)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				c.check(items, e, at+"["+strconv.Itoa(i)+"]")
			}
		}
	}
}

func asList(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asAnyList(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func asAnyList(v any) []any { l, _ := v.([]any); return l }

func asStrings(v any) []string {
	var out []string
	for _, e := range asAnyList(v) {
		out = append(out, e.(string))
	}
	return out
}

// docOp finds the operation of a request path.
func docOp(doc map[string]any, method, path string) (map[string]any, string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for tmpl, item := range doc["paths"].(map[string]any) {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			match = match && (strings.HasPrefix(ts[i], "{") || ts[i] == segs[i])
		}
		if op, ok := item.(map[string]any)[strings.ToLower(method)]; ok && match {
			return op.(map[string]any), tmpl, true
		}
	}
	return nil, "", false
}

// exchange is one request of the scenario and what it must get.
type exchange struct {
	method, path string
	body         []byte
	headers      []string // in pairs; the admin key when nil
	want         int
}

// checkExchange sends a request and checks the answer against the
// document: its status is documented, its content type is the documented
// one, and a JSON answer validates against its schema. A JSON request body
// that was accepted validates against the request schema. It returns the
// decoded answer (nil when it is not JSON).
func checkExchange(t *testing.T, ts *testServer, doc map[string]any, ex exchange) any {
	t.Helper()
	headers := ex.headers
	if headers == nil {
		headers = []string{"X-Open-Wearables-API-Key", adminKey}
	}
	r := send(t, ts.c, ts.base, ex.method, ex.path, ex.body, nil, headers...)
	name := ex.method + " " + ex.path
	if r.status != ex.want {
		t.Errorf("%s: %d, want %d: %.300s", name, r.status, ex.want, r.body)
		return nil
	}
	u, err := url.Parse(ex.path)
	if err != nil {
		t.Fatal(err)
	}
	op, tmpl, ok := docOp(doc, ex.method, u.Path)
	if !ok {
		t.Errorf("%s: the document has no operation for it", name)
		return nil
	}
	name = ex.method + " " + tmpl + " " + strconv.Itoa(r.status)
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)].(map[string]any)
	if !ok {
		t.Errorf("%s: the status is not documented", name)
		return nil
	}
	if r.status < 300 && len(ex.body) > 0 {
		if rb, ok := op["requestBody"].(map[string]any); !ok {
			t.Errorf("%s: took a body the document does not describe", name)
		} else {
			checkJSON(t, doc, name+" request", rb["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any), ex.body, false)
		}
	}
	content, _ := resp["content"].(map[string]any)
	ct, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	if content == nil {
		if len(r.body) > 0 {
			t.Errorf("%s: answered %d bytes of %s; the document says no body", name, len(r.body), ct)
		}
		return nil
	}
	media, ok := content[ct].(map[string]any)
	if !ok {
		t.Errorf("%s: answered %q; the document says %v", name, ct, content)
		return nil
	}
	if ct != "application/json" {
		return nil
	}
	return checkJSON(t, doc, name, media["schema"].(map[string]any), r.body, true)
}

func checkJSON(t *testing.T, doc map[string]any, name string, schema map[string]any, body []byte, strict bool) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: not JSON: %v", name, err)
		return nil
	}
	c := &schemaCheck{doc: doc, strict: strict}
	c.check(schema, v, "$")
	for i, e := range c.errs {
		if i == 8 {
			t.Errorf("%s: and %d more", name, len(c.errs)-i)
			break
		}
		t.Errorf("%s: %s", name, e)
	}
	return v
}

// checkParams sends a request that succeeded again with each of its query
// parameters pushed past the bounds the document gives it, set to a value
// outside its enum, or (when required) left out: each must be 400, and
// each bound itself must be answered as the original was.
func checkParams(t *testing.T, ts *testServer, doc map[string]any, ex exchange) {
	t.Helper()
	u, err := url.Parse(ex.path)
	if err != nil {
		t.Fatal(err)
	}
	op, tmpl, ok := docOp(doc, ex.method, u.Path)
	if !ok {
		return
	}
	try := func(q url.Values, want int, why string) {
		t.Helper()
		r := send(t, ts.c, ts.base, ex.method, u.Path+"?"+q.Encode(), ex.body, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != want {
			t.Errorf("%s %s with %s (%s): %d, want %d: %.200s", ex.method, tmpl, q.Encode(), why, r.status, want, r.body)
		}
	}
	for _, p := range asList(op["parameters"]) {
		if p["in"] != "query" {
			continue
		}
		name := p["name"].(string)
		s := p["schema"].(map[string]any)
		with := func(v string) url.Values {
			q := u.Query()
			q.Set(name, v)
			return q
		}
		if p["required"] == true {
			q := u.Query()
			q.Del(name)
			try(q, 400, "required, left out")
		}
		if hi, ok := s["maximum"].(float64); ok {
			try(with(strconv.Itoa(int(hi))), ex.want, "the maximum")
			try(with(strconv.Itoa(int(hi)+1)), 400, "past the maximum")
		}
		if lo, ok := s["minimum"].(float64); ok {
			try(with(strconv.Itoa(int(lo))), ex.want, "the minimum")
			try(with(strconv.Itoa(int(lo)-1)), 400, "under the minimum")
		}
		if vals := asAnyList(s["enum"]); len(vals) > 0 {
			for _, v := range vals {
				try(with(v.(string)), ex.want, "in the enum")
			}
			try(with("not-a-value"), 400, "outside the enum")
		}
	}
}

func TestOpenAPIAnswersMatchTheirSchemas(t *testing.T) {
	ts := startIndexing(t)
	doc := openAPIDoc(t, ts)
	const user = "openapi-user"
	check := func(ex exchange) any { t.Helper(); return checkExchange(t, ts, doc, ex) }
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	list := func(v any) []any { l, _ := v.([]any); return l }

	for _, f := range []string{
		"sleep_service__DETAILED_STAGES_PAYLOAD.json",
		"apple_sdk_import__sample_sdk_payload.json", "apple_sdk_import__test_import_multiple_workouts.json",
		"sync_request__SyncRequest_json_schema_example.json",
	} {
		v := obj(check(exchange{method: "POST", path: "/api/v1/sdk/users/" + user + "/sync", body: fixture(t, f), want: 202}))
		if len(list(v["errors"])) > 0 || len(list(v["warnings"])) > 0 {
			t.Errorf("%s: the fixture has errors or warnings, so that its request schema check proves little: %v %v", f, v["errors"], v["warnings"])
		}
	}
	check(exchange{method: "POST", path: "/api/v1/sdk/users/" + user + "/logs", body: fixture(t, "sdk_logs__all_event_types.json"), want: 202})
	ts.indexed()

	u := "/api/v1/users/" + user
	wide := "start_time=2020-01-01&end_time=2030-01-01"
	dates := "start_date=2020-01-01&end_date=2030-01-01"
	reads := []exchange{
		{method: "GET", path: "/healthz", headers: []string{}, want: 200},
		{method: "GET", path: "/readyz", headers: []string{}, want: 200},
		{method: "GET", path: "/metrics", headers: []string{}, want: 200},
		{method: "GET", path: "/docs", headers: []string{}, want: 200},
		{method: "GET", path: "/openapi.json", headers: []string{}, want: 200},
		{method: "GET", path: "/api/v1/meta/coverage", headers: []string{}, want: 200},
		{method: "GET", path: "/api/v1/users?limit=5", want: 200},
		{method: "GET", path: u, want: 200},
		{method: "GET", path: u + "/timeseries?" + wide, want: 200},
		{method: "GET", path: u + "/timeseries?" + wide + "&resolution=1hour&limit=3", want: 200},
		{method: "GET", path: u + "/timeseries.csv?" + wide, want: 200},
		{method: "GET", path: u + "/events/workouts?" + dates, want: 200},
		{method: "GET", path: u + "/events/sleep?" + dates, want: 200},
		{method: "GET", path: u + "/summaries/activity?" + dates, want: 200},
		{method: "GET", path: u + "/summaries/sleep?" + dates, want: 200},
		{method: "GET", path: u + "/summaries/recovery?" + dates, want: 200},
		{method: "GET", path: u + "/summaries/body", want: 200},
		{method: "GET", path: u + "/summaries/data", want: 200},
		{method: "GET", path: u + "/data-sources", want: 200},
		{method: "GET", path: u + "/connections", want: 200},
		{method: "GET", path: u + "/sync/recent", want: 200},
		{method: "GET", path: u + "/sync/runs", want: 200},
		{method: "GET", path: "/api/v1/sync/runs?user_id=" + user, want: 200},
		{method: "GET", path: u + "/sdk-logs", want: 200},
		{method: "GET", path: "/api/v1/developer/api-keys", want: 200},
		{method: "GET", path: "/api/v1/applications", want: 200},
		{method: "GET", path: u + "/timeseries?" + wide + "&resolution=1day", want: 200},
		{method: "GET", path: "/api/v1/audit?limit=3&user_id=" + user, want: 200},
		{method: "GET", path: "/api/v1/console/overview", want: 200},
		{method: "GET", path: "/api/v1/console/accounts", want: 200},
		{method: "GET", path: "/api/v1/console/setup", headers: []string{}, want: 200},
	}
	for _, ex := range reads {
		v := check(ex)
		checkParams(t, ts, doc, ex)
		if strings.Contains(ex.path, "/timeseries?") && len(list(obj(v)["data"])) == 0 {
			t.Errorf("%s has no samples: its schema check proves little", ex.path)
		}
	}
	// A body summary has data only with body values; both answers are
	// documented.
	if v := check(exchange{method: "GET", path: "/api/v1/users/nobody/summaries/body", want: 200}); v != nil {
		t.Errorf("the body summary of a user without data is %v, want null", v)
	}

	workouts := list(obj(check(exchange{method: "GET", path: u + "/events/workouts?" + dates, want: 200}))["data"])
	var routed string
	for _, w := range workouts {
		id := obj(w)["id"].(string)
		check(exchange{method: "GET", path: u + "/events/workouts/" + id, want: 200})
		if r := send(t, ts.c, ts.base, "GET", u+"/events/workouts/"+id+"/route.gpx", nil, nil, "X-Open-Wearables-API-Key", adminKey); r.status == 200 {
			routed = id
		}
	}
	if routed == "" {
		t.Fatal("no workout has a route")
	}
	check(exchange{method: "GET", path: u + "/events/workouts/" + routed + "/route.gpx", want: 200})

	// Errors, on routes of each credential kind.
	check(exchange{method: "GET", path: u + "/timeseries", want: 400})
	check(exchange{method: "GET", path: u + "/timeseries?" + wide, headers: []string{}, want: 401})
	check(exchange{method: "GET", path: "/api/v1/users/no-such-user", want: 404})
	check(exchange{method: "POST", path: "/api/v1/sdk/users/" + user + "/sync", body: []byte(`{"provider":"nokia"}`), want: 400})
	check(exchange{method: "POST", path: "/api/v1/token/refresh", body: []byte(`{"refresh_token":"rt-nope"}`), headers: []string{}, want: 401})

	// Users, tokens, credentials.
	created := obj(check(exchange{method: "POST", path: "/api/v1/users", body: []byte(`{"first_name":"Ada","email":"ada@example.org"}`), want: 201}))
	check(exchange{method: "PATCH", path: "/api/v1/users/" + created["id"].(string), body: []byte(`{"last_name":"Lovelace","email":null}`), want: 200})
	tokens := obj(check(exchange{method: "POST", path: u + "/token", want: 200}))
	refreshed := obj(check(exchange{method: "POST", path: "/api/v1/token/refresh", headers: []string{},
		body: []byte(`{"refresh_token":"` + tokens["refresh_token"].(string) + `"}`), want: 200}))
	check(exchange{method: "POST", path: "/api/v1/sdk/users/" + user + "/sync", body: fixture(t, "malformed_payload_debug__valid.json"),
		headers: []string{"Authorization", "Bearer " + refreshed["access_token"].(string)}, want: 202})
	check(exchange{method: "POST", path: "/api/v1/token/revoke", headers: []string{},
		body: []byte(`{"refresh_token":"` + refreshed["refresh_token"].(string) + `"}`), want: 204})
	code := obj(check(exchange{method: "POST", path: u + "/invitation-code", want: 201}))["code"].(string)
	paired := obj(check(exchange{method: "POST", path: "/api/v1/invitation-code/redeem", headers: []string{},
		body: []byte(`{"code":"` + code + `"}`), want: 200}))
	check(exchange{method: "POST", path: "/api/v1/invitation-code/redeem", headers: []string{},
		body: []byte(`{"code":"` + code + `"}`), want: 404})
	check(exchange{method: "POST", path: "/api/v1/invitation-code/redeem", headers: []string{}, body: []byte(`{"code":"nope"}`), want: 400})
	check(exchange{method: "POST", path: "/api/v1/users/paired-phone/invitation-code", want: 201}) // a user created by it

	key := obj(check(exchange{method: "POST", path: "/api/v1/developer/api-keys", body: []byte(`{"name":"docs","scope":"read"}`), want: 201}))
	kid := key["id"].(string)
	check(exchange{method: "PATCH", path: "/api/v1/developer/api-keys/" + kid, body: []byte(`{"name":"renamed"}`), want: 200})
	rotated := obj(check(exchange{method: "POST", path: "/api/v1/developer/api-keys/" + kid + "/rotate", want: 201}))
	check(exchange{method: "DELETE", path: "/api/v1/developer/api-keys/" + rotated["id"].(string), want: 200})
	app := obj(check(exchange{method: "POST", path: "/api/v1/applications", body: []byte(`{"name":"docs"}`), want: 201}))
	minted := obj(check(exchange{method: "POST", path: u + "/token", headers: []string{},
		body: []byte(`{"app_id":"` + app["app_id"].(string) + `","app_secret":"` + app["app_secret"].(string) + `"}`), want: 200}))
	if minted["access_token"] == nil {
		t.Error("no token minted from application credentials")
	}
	check(exchange{method: "POST", path: "/api/v1/applications/" + app["app_id"].(string) + "/rotate-secret", want: 200})
	check(exchange{method: "DELETE", path: "/api/v1/applications/" + app["app_id"].(string), want: 204})
	check(exchange{method: "GET", path: "/api/v1/admin/backup", want: 200})

	// Deletions last.
	sleep := list(obj(check(exchange{method: "GET", path: u + "/events/sleep?" + dates, want: 200}))["data"])
	if len(sleep) == 0 {
		t.Fatal("no sleep session")
	}
	check(exchange{method: "DELETE", path: u + "/events/sleep/" + obj(sleep[0])["id"].(string), want: 204})
	check(exchange{method: "DELETE", path: u + "/events/workouts/" + routed, want: 204})
	check(exchange{method: "DELETE", path: u + "/connections/apple", headers: []string{"Authorization", "Bearer " + paired["access_token"].(string)}, want: 204})
	check(exchange{method: "DELETE", path: u + "/connections/apple", want: 204})
	check(exchange{method: "DELETE", path: u + "/connections/apple/data", want: 204})
	check(exchange{method: "DELETE", path: u, want: 200})
	check(exchange{method: "DELETE", path: u, want: 404})
}

// TestSchemaCheckRefuses shows that the validator sees a missing field, a
// field of the wrong type, an undeclared field and an answer of another
// type.
func TestSchemaCheckRefuses(t *testing.T) {
	ts := startServer(t, nil)
	doc := openAPIDoc(t, ts)
	user := map[string]any{"$ref": "#/components/schemas/UserRead"}
	good := `{"id":"u","created_at":"2026-01-01T00:00:00Z","first_name":null,"last_name":"L","email":null,` +
		`"external_user_id":null,"last_synced_at":null,"last_synced_provider":null,"has_active_connection":false}`
	for _, c := range []struct {
		body string
		bad  bool
	}{
		{good, false},
		{strings.Replace(good, `"id":"u",`, "", 1), true},                                                   // missing
		{strings.Replace(good, `"last_name":"L"`, `"last_name":7`, 1), true},                                // wrong type
		{strings.Replace(good, `"created_at":"2026-01-01T00:00:00Z"`, `"created_at":"yesterday"`, 1), true}, // not a date-time
		{strings.Replace(good, `{`, `{"password":"x",`, 1), true},                                           // undeclared
		{`{"items":[],"total":0,"page":1,"limit":20,"pages":0,"has_next":false,"has_prev":false}`, true},    // another type
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		sc := &schemaCheck{doc: doc, strict: true}
		sc.check(user, v, "$")
		if (len(sc.errs) > 0) != c.bad {
			t.Errorf("%s: errors %v, want bad=%v", c.body, sc.errs, c.bad)
		}
	}
}

// TestDocsPageIsSelfContained: the page loads nothing but the document.
func TestDocsPageIsSelfContained(t *testing.T) {
	ts := startServer(t, nil)
	r := send(t, ts.c, ts.base, "GET", "/docs", nil, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if len(r.body) > 30<<10 {
		t.Errorf("the page is %d bytes, over 30 KiB", len(r.body))
	}
	for _, ext := range []string{"src=", "href=\"http", "@import", "url(http", "//cdn"} {
		if bytes.Contains(r.body, []byte(ext)) {
			t.Errorf("the page refers to something outside it: %q", ext)
		}
	}
	if !bytes.Contains(r.body, []byte("openapi.json")) {
		t.Error("the page does not load the document")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}
