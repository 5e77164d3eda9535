package httpapi

import (
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/query"
)

// The OpenAPI 3.1 document of GET /openapi.json. Each route is described
// once, in the operation table (openapi_ops.go), by what its handler reads
// (query parameters, headers, body) and answers (each status and its body);
// the shapes of bodies are the Go types themselves (openapi_schema.go). A
// test holds the table to the route table, both ways, and real answers to
// the schemas the document gives them.

// operation describes one route.
type operation struct {
	method, path string // path in the route table's {name} style
	id           string // operationId: Open Wearables' name where it has the route
	tag          string
	summary      string
	desc         string
	access       access
	params       []param
	body         *reqBody
	replies      []reply // the answers that are not errors
	errs         []int   // error statuses, each answered {"detail": "..."}
	// fhir: a FHIR route, whose errors are OperationOutcomes.
	fhir bool
}

// param is a query parameter or a request header.
type param struct {
	name, in string // in: "query" or "header"
	desc     string
	schema   map[string]any
	required bool
	multi    bool // may be repeated (?types=a&types=b)
}

// reqBody is a JSON request body: shape is a value of its Go type; or,
// when media is set, a body of those content types (an upload), described
// as binary, or as a form with a file field "file" for multipart/form-data.
type reqBody struct {
	shape    any
	required bool
	desc     string
	media    []string
}

// reply is an answer that is not an error. shape is a value of the Go type
// of its JSON body; media, for other bodies, is their content type.
type reply struct {
	status  int
	desc    string
	shape   any
	media   string
	headers map[string]string // name: description
}

// access is who may call a route: the credentials its handler accepts.
type access int

const (
	accessNone       access = iota // no credential
	accessSDKWrite                 // an SDK token of the path's user, or an admin or write key
	accessCreateUser               // an admin or write key
	accessRead                     // an admin or read key
	accessWrite                    // an admin or write key
	accessAdmin                    // an admin key
	accessMint                     // application credentials in the body, or an admin key
	accessRefresh                  // the refresh token in the body
	accessCode                     // the invitation code in the body
	accessSession                  // a console session
	accessLogin                    // an account's e-mail address and password, or the setup token, in the body
)

const (
	schemeAPIKey  = "APIKeyHeader"
	schemeSDK     = "SDKToken"
	schemeSession = "ConsoleSession"
)

// credentials are what an access takes, for the document: the OpenAPI
// security requirements, a sentence that says it, a short label (the
// extension x-credentials, which the page shows), and whether the route
// counts refused credentials (401, then 429).
type credentials struct {
	security []any
	says     string
	label    string
	limited  bool
}

func (a access) credentials() credentials {
	key := map[string]any{schemeAPIKey: []any{}}
	switch a {
	case accessSDKWrite:
		return credentials{[]any{map[string]any{schemeSDK: []any{}}, key},
			"An SDK token of the path's user (it wins when both are sent), or an API key with the admin or write scope.",
			"SDK token, or key: admin, write", true}
	case accessCreateUser:
		return credentials{[]any{key}, "An API key with the admin or write scope; SDK tokens are refused (403).", "key: admin, write", true}
	case accessRead:
		return credentials{[]any{key}, "An API key with the admin or read scope. SDK tokens cannot read data back.", "key: admin, read", true}
	case accessWrite:
		return credentials{[]any{key}, "An API key with the admin or write scope.", "key: admin, write", true}
	case accessAdmin:
		return credentials{[]any{key}, "An API key with the admin scope.", "key: admin", true}
	case accessMint:
		return credentials{[]any{key, map[string]any{}},
			"Application credentials (app_id and app_secret) in the body, or an API key with the admin scope; body credentials win when both are given.",
			"app credentials, or key: admin", true}
	case accessRefresh:
		return credentials{[]any{map[string]any{}}, "The refresh token in the body is the credential.", "refresh token", false}
	case accessSession:
		return credentials{[]any{map[string]any{schemeSession: []any{}}}, "A console session (its cookie); changes carry its X-CSRF-Token.",
			"session", false}
	case accessLogin:
		return credentials{[]any{map[string]any{}}, "The credential is in the body.", "in the body", false}
	case accessCode:
		return credentials{[]any{map[string]any{}}, "The invitation code in the body is the credential: a wrong one counts " +
			"as a bad credential of the client address (429 past the limit, or past the cap on wrong codes of all addresses).",
			"invitation code", false}
	}
	return credentials{[]any{}, "No credential: this route holds no user data.", "", false}
}

// takesSession reports whether the routes of an access take a console
// session where they take an API key.
func (a access) takesSession() bool {
	switch a {
	case accessSDKWrite, accessCreateUser, accessRead, accessWrite, accessAdmin:
		return true
	}
	return false
}

// errorSays is the description of each error status the routes answer.
var errorSays = map[int]string{
	400: "Bad request: a parameter, the user_id or the body is not valid; detail says which.",
	401: "No credential, or one that is unknown, expired or revoked.",
	403: "The credential may not do this (its scope, or an SDK token of another user).",
	404: "Not found; detail says what.",
	409: "Conflict with what exists; detail says what.",
	413: "The body is larger than the limit, as sent or after decompression.",
	415: "Unsupported Content-Encoding: use gzip, zstd, deflate or none.",
	422: "The Idempotency-Key was used before with another body.",
	429: "Too many bad credentials from this client address: retry after Retry-After seconds.",
	500: "Internal server error; the detail holds no internals.",
	503: "Not ready or overloaded; retry after Retry-After seconds when it is sent.",
	507: "Free disk space is below the reserve: the batch is not accepted.",
}

// operationOutcome is the shape of a FHIR route's error.
var operationOutcome = map[string]any{"type": "object", "required": []any{"resourceType", "issue"},
	"description": "A FHIR R4 OperationOutcome: issue[0].diagnostics is the detail.",
	"properties": map[string]any{"resourceType": map[string]any{"const": "OperationOutcome"},
		"issue": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}}

// retryAfter is the header of the answers that say when to retry.
var retryAfter = map[string]string{"Retry-After": "Seconds to wait before retrying."}

// errorDetail is the body of every error: {"detail": "..."}, as codec.Detail
// writes it.
type errorDetail struct {
	Detail string `json:"detail"`
}

// openAPIJSON is the encoded document, built once.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := openAPIDocument()
	if err != nil {
		return nil, err
	}
	return codec.Marshal(doc)
})

// openAPIDocument builds the document from the operation table.
func openAPIDocument() (map[string]any, error) {
	g := newSchemaGen()
	detail := map[string]any{"$ref": "#/components/schemas/" + g.component(reflect.TypeFor[errorDetail](), answerMode)}
	paths := map[string]any{}
	seen := map[string]bool{}
	var errs []error
	for i := range operations {
		op := &operations[i]
		key := op.method + " " + op.path
		if seen[key] || seen[op.id] {
			errs = append(errs, errors.New("openapi: "+key+" ("+op.id+") is described twice"))
		}
		seen[key], seen[op.id] = true, true
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = op.document(g, detail)
	}
	tags := make([]any, 0, len(tagSays))
	for _, t := range tagOrder {
		tags = append(tags, map[string]any{"name": t, "description": tagSays[t]})
	}
	for i := range operations {
		if _, ok := tagSays[operations[i].tag]; !ok {
			errs = append(errs, errors.New("openapi: "+operations[i].id+" has the unknown tag "+operations[i].tag))
		}
	}
	if err := errors.Join(append(errs, g.errs...)...); err != nil {
		return nil, err
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "wearhouse",
			"version": "v1",
			"summary": "Receives Open Wearables mobile SDK batches and serves them back through the Open Wearables read API.",
			"description": "Every route accepts a trailing slash and answers HEAD as GET. Every error is JSON, " +
				"{\"detail\": \"...\"}: besides the statuses each operation lists, any route answers 404 for a path " +
				"it does not have, 405 (with Allow) for a method it does not take, 400 for a path segment that is . or .. " +
				"or hides a slash or backslash in percent-encoding, and 500 on a fault. Time parameters take RFC 3339, " +
				"a date (YYYY-MM-DD) or Unix seconds; windows are half-open, and a date-only end means the end of that day.",
			"license": map[string]any{"name": "See the repository"},
		},
		"tags":  tags,
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				schemeAPIKey: map[string]any{
					"type": "apiKey", "in": "header", "name": "X-Open-Wearables-API-Key",
					"description": "An API key, sk-…. Its scope is admin (everything), read (read data, " +
						"never change it) or write (send and delete data, never read it back). Each operation says which scopes it takes.",
				},
				schemeSession: map[string]any{
					"type": "apiKey", "in": "cookie", "name": sessionCookie,
					"description": "A console session, set by POST /api/v1/console/login. An admin account acts as an admin key, " +
						"a viewer as a read key; a request that changes something carries the session's CSRF token in X-CSRF-Token.",
				},
				schemeSDK: map[string]any{
					"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "An SDK token (HS256 JWT) minted by POST /api/v1/users/{user_id}/token, " +
						"for the SDK routes of its own user only.",
				},
			},
		},
	}, nil
}

// document is the operation object of op.
func (op *operation) document(g *schemaGen, detail map[string]any) map[string]any {
	creds := op.access.credentials()
	desc := op.desc
	if desc != "" {
		desc += "\n\n"
	}
	says := creds.says
	if op.access.takesSession() {
		// A session stands for a key wherever one is taken (apiKey).
		creds.security = append(creds.security, map[string]any{schemeSession: []any{}})
		says += " A console session stands for a key: an admin account's as an admin key, a viewer's as a read key; changes carry X-CSRF-Token."
	}
	out := map[string]any{
		"operationId": op.id,
		"summary":     op.summary,
		"description": desc + "Credentials: " + says,
		"tags":        []any{op.tag},
		"security":    creds.security,
	}
	if creds.label != "" {
		out["x-credentials"] = creds.label
	}
	var params []any
	for _, name := range pathNames(op.path) {
		s, ok := pathParams[name]
		if !ok {
			g.errs = append(g.errs, errors.New("openapi: "+op.id+": no description of the path parameter "+name))
			continue
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true,
			"description": s.desc, "schema": s.schema})
	}
	for _, p := range op.params {
		s := p.schema
		if p.multi {
			s = map[string]any{"type": "array", "items": s}
		}
		q := map[string]any{"name": p.name, "in": p.in, "description": p.desc, "schema": s}
		if p.required {
			q["required"] = true
		}
		if p.multi {
			q["style"], q["explode"] = "form", true
		}
		params = append(params, q)
	}
	errs := append([]int(nil), op.errs...)
	if op.body != nil {
		params = append(params, map[string]any{"name": "Content-Encoding", "in": "header",
			"description": "The body's encoding; x-gzip is gzip.",
			"schema":      map[string]any{"type": "string", "enum": []any{"identity", "gzip", "x-gzip", "deflate", "zstd"}}})
		content := map[string]any{}
		for _, m := range op.body.media {
			schema := map[string]any{"type": "string", "format": "binary"}
			if m == "multipart/form-data" {
				schema = map[string]any{"type": "object", "required": []any{"file"},
					"properties": map[string]any{"file": schema}}
			}
			content[m] = map[string]any{"schema": schema}
		}
		if op.body.media == nil {
			content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(op.body.shape), requestMode)}
		}
		out["requestBody"] = map[string]any{
			"required":    op.body.required,
			"description": op.body.desc,
			"content":     content,
		}
		errs = append(errs, 413, 415)
	}
	if len(params) > 0 {
		out["parameters"] = params
	}
	if creds.limited {
		errs = append(errs, 401, 429)
	}
	errs = append(errs, 500)
	responses := map[string]any{}
	for _, r := range op.replies {
		responses[strconv.Itoa(r.status)] = r.document(g)
	}
	for _, status := range errs {
		d := errorSays[status]
		if d == "" {
			g.errs = append(g.errs, errors.New("openapi: "+op.id+": no description of the status "+strconv.Itoa(status)))
		}
		resp := map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{"schema": detail}}}
		if op.fhir {
			resp["content"] = map[string]any{"application/fhir+json": map[string]any{"schema": operationOutcome}}
		}
		if status == 429 || status == 503 {
			resp["headers"] = headerObjects(retryAfter)
		}
		responses[strconv.Itoa(status)] = resp
	}
	out["responses"] = responses
	return out
}

// document is the response object of r.
func (r *reply) document(g *schemaGen) map[string]any {
	out := map[string]any{"description": r.desc}
	switch {
	case r.shape != nil:
		out["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.shape), answerMode)}}
	case r.media != "":
		out["content"] = map[string]any{r.media: map[string]any{"schema": map[string]any{"type": "string"}}}
	}
	if len(r.headers) > 0 {
		out["headers"] = headerObjects(r.headers)
	}
	return out
}

func headerObjects(h map[string]string) map[string]any {
	out := map[string]any{}
	for name, desc := range h {
		out[name] = map[string]any{"description": desc, "schema": map[string]any{"type": "string"}}
	}
	return out
}

// pathNames are the {name} segments of a path, in order.
func pathNames(path string) []string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// Helpers of the operation table.

func str() map[string]any { return map[string]any{"type": "string"} }

func enum(def string, values ...string) map[string]any {
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = v
	}
	s := map[string]any{"type": "string", "enum": vs}
	if def != "" {
		s["default"] = def
	}
	return s
}

func queryParam(name, desc string, s map[string]any) param {
	return param{name: name, in: "query", desc: desc, schema: s}
}

func must(p param) param { p.required = true; return p }

// intRange is an integer parameter from lo to hi, def when absent.
func intRange(name string, def, lo, hi int, desc string) param {
	return queryParam(name, desc, map[string]any{"type": "integer", "minimum": lo, "maximum": hi, "default": def})
}

// limit is the limit parameter of a list.
func limit(def, hi int) param {
	return intRange("limit", def, 1, hi, "Most items in the answer.")
}

// timeParam is a time parameter: RFC 3339, a date or Unix seconds.
func timeParam(name, desc string) param {
	return queryParam(name, desc+" RFC 3339, a date (YYYY-MM-DD, midnight UTC; as an end, the end of that day) or Unix seconds.",
		map[string]any{"type": "string", "examples": []any{"2026-01-31T00:00:00Z", "2026-01-31", "1769817600"}})
}

// dateParam is a summary's local date: YYYY-MM-DD, or a time whose date is
// taken as written.
func dateParam(name, desc string) param {
	return must(queryParam(name, desc+" YYYY-MM-DD, or an RFC 3339 time (its date as written) or Unix seconds (the UTC date).",
		map[string]any{"type": "string", "examples": []any{"2026-01-31"}}))
}

func cursor() param {
	return queryParam("cursor", "The next_cursor of the previous page.", str())
}

// pathParam is the description of a path parameter.
type pathParam struct {
	desc   string
	schema map[string]any
}

var pathParams = map[string]pathParam{
	"user_id": {"The user: 1 to 128 characters of A-Z a-z 0-9 . _ - : @. A UUID names the same user in any case.",
		map[string]any{"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$"}},
	"workout_id": {"A workout's id, as the workout list gives it.", str()},
	"group_id":   {"A Group: all, every user.", str()},
	"job_id":     {"A bulk export's id, from its kick-off's Content-Location.", str()},
	"file":       {"A file of the manifest: Patient.ndjson, Device.ndjson or Observation-<n>.ndjson.", str()},
	"sleep_id":   {"A sleep session's id, as the sleep list gives it.", str()},
	"provider":   {"An SDK provider.", enum("", codec.Providers...)},
	"key_id":     {"An API key's id (key_…), not the key.", str()},
	"app_id":     {"An application's app_id.", str()},
	"cycle_id":   {"A menstrual cycle's id.", str()},
	"name":       {"A file name.", str()},
	"import_id":  {"An import's id, as the import route answered it.", str()},
	"email":      {"An account's e-mail address.", str()},
	"page":       {"A page of the console.", enum("", "users", "connect", "credentials", "accounts", "import", "exports", "login", "audit")},
}

// Bodies that handlers read or write with types of their own, declared in
// the handler: these mirror them, and the test holds real answers (and the
// requests it sends) to them.

type healthStatus struct {
	Status string `json:"status" doc:"ok"`
}

type readiness struct {
	Status    string              `json:"status" doc:"ready"`
	Compactor *readinessCompactor `json:"compactor,omitempty"`
}

type readinessCompactor struct {
	LagBatches      uint64  `json:"lag_batches" doc:"Acknowledged batches not yet indexed."`
	LagSeconds      float64 `json:"lag_seconds" doc:"Age of the oldest batch not yet indexed."`
	IndexedBatches  uint64  `json:"indexed_batches"`
	IndexedRecords  uint64  `json:"indexed_records"`
	SetAsideBatches int     `json:"set_aside_batches" doc:"Batches that could not be indexed, kept for inspection; they do not make the server unready."`
}

type dataSourceList struct {
	Items []query.DataSourceView `json:"items"`
	Total int                    `json:"total"`
}

type apiKeyCreate struct {
	Name  string `json:"name" doc:"At most 100 characters."`
	Scope string `json:"scope" doc:"admin, read or write."`
}

type apiKeyRename struct {
	Name string `json:"name" doc:"At most 100 characters."`
}

type applicationCreate struct {
	Name string `json:"name" doc:"1 to 100 characters."`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" doc:"rt-…"`
}

type invitationRedeem struct {
	Code string `json:"code" doc:"The 8 letters and digits of the code, in any case, spaces and dashes allowed."`
}

// syncRequest is Open Wearables' SyncRequest, as codec.DecodeSync reads it.
type syncRequest struct {
	Provider      string   `json:"provider" doc:"apple, samsung or google, in any case."`
	SDKVersion    string   `json:"sdkVersion" doc:"At most 64 bytes; missing is a warning, not an error."`
	SyncTimestamp any      `json:"syncTimestamp" doc:"RFC 3339 or Unix seconds; missing is a warning, not an error."`
	Data          syncData `json:"data" doc:"null is empty."`
}

type syncData struct {
	Records  []codec.Record     `json:"records"`
	Sleep    []codec.SleepStage `json:"sleep"`
	Workouts []codec.Workout    `json:"workouts"`
}

// sdkLogRequest is Open Wearables' SDKLogRequest, as codec.DecodeSDKLogs
// reads it.
type sdkLogRequest struct {
	SDKVersion    string        `json:"sdkVersion"`
	Provider      *string       `json:"provider" doc:"Stored lower-cased; unknown when absent."`
	SyncSessionID *string       `json:"syncSessionId"`
	Events        []sdkLogEvent `json:"events" doc:"1 to 100 events."`
}

// sdkLogEvent is one event: its eventType says which of the other fields
// it has. Fields the schema does not name are kept as sent.
type sdkLogEvent struct {
	EventType         string            `json:"eventType"`
	Timestamp         any               `json:"timestamp" doc:"RFC 3339 or Unix seconds."`
	DataTypeCounts    []sdkLogTypeCount `json:"dataTypeCounts" doc:"historical_data_sync_start."`
	TimeRange         *sdkLogTimeRange  `json:"timeRange" doc:"historical_data_sync_start."`
	DataType          string            `json:"dataType" doc:"historical_data_type_sync_end: required."`
	Success           bool              `json:"success" doc:"historical_data_type_sync_end: required."`
	RecordCount       *int64            `json:"recordCount" doc:"historical_data_type_sync_end."`
	DurationMs        *int64            `json:"durationMs" doc:"historical_data_type_sync_end."`
	BatteryLevel      *float64          `json:"batteryLevel" doc:"device_state: 0 to 1, or -1 when unknown."`
	IsLowPowerMode    *bool             `json:"isLowPowerMode" doc:"device_state."`
	BatteryState      *string           `json:"batteryState" doc:"device_state."`
	ThermalState      *string           `json:"thermalState" doc:"device_state."`
	TaskType          *string           `json:"taskType" doc:"device_state."`
	AvailableRAMBytes *int64            `json:"availableRamBytes" doc:"device_state."`
	TotalRAMBytes     *int64            `json:"totalRamBytes" doc:"device_state."`
}

type sdkLogTypeCount struct {
	Type  string `json:"type"`
	Count int64  `json:"count" doc:"At least 0."`
}

type sdkLogTimeRange struct {
	StartDate any `json:"startDate"`
	EndDate   any `json:"endDate"`
}

// requestRequired are the fields a request body must have, by type.
var requestRequired = map[reflect.Type][]string{
	reflect.TypeFor[syncRequest]():       {"provider"},
	reflect.TypeFor[codec.Record]():      {"startDate", "endDate", "value"},
	reflect.TypeFor[codec.SleepStage]():  {"startDate", "endDate", "stage"},
	reflect.TypeFor[codec.Workout]():     {"startDate", "endDate"},
	reflect.TypeFor[sdkLogRequest]():     {"sdkVersion", "events"},
	reflect.TypeFor[sdkLogEvent]():       {"eventType", "timestamp"},
	reflect.TypeFor[sdkLogTypeCount]():   {"type", "count"},
	reflect.TypeFor[sdkLogTimeRange]():   {"endDate"},
	reflect.TypeFor[apiKeyCreate]():      {"scope"},
	reflect.TypeFor[apiKeyRename]():      {"name"},
	reflect.TypeFor[applicationCreate](): {"name"},
	reflect.TypeFor[refreshRequest]():    {"refresh_token"},
}

// Schemas that reflection cannot see: what an interface field of the
// decoders takes, and the values of a named string type.
var (
	timeOrUnix = func() map[string]any {
		return map[string]any{"type": []any{"string", "number"}, "description": "RFC 3339 or Unix seconds."}
	}
	numberish = func() map[string]any {
		return map[string]any{"type": []any{"number", "string"}, "description": "A finite number, or a numeric string such as \"61.5\"."}
	}
	zoneOffset = func() map[string]any {
		return map[string]any{"type": []any{"string", "null"}, "description": "+HH:MM, -HH:MM or Z; a bad one drops only this field (a warning)."}
	}
	spanFields = map[string]func() map[string]any{"startDate": timeOrUnix, "endDate": timeOrUnix, "zoneOffset": zoneOffset}
)

var fieldSchemas = map[reflect.Type]map[string]func() map[string]any{
	reflect.TypeFor[syncRequest]():  {"syncTimestamp": timeOrUnix, "provider": func() map[string]any { return enumAnyCase(codec.Providers) }},
	reflect.TypeFor[codec.Record](): withSpan(map[string]func() map[string]any{"value": numberish}),
	reflect.TypeFor[codec.SleepStage](): withSpan(map[string]func() map[string]any{
		"values": func() map[string]any { return map[string]any{"description": "Any JSON, at most 8 KiB; kept as sent."} }}),
	reflect.TypeFor[codec.Workout](): withSpan(nil),
	reflect.TypeFor[codec.WorkoutStatistic](): {"value": func() map[string]any {
		return map[string]any{"type": []any{"number", "string", "boolean"}, "description": "A finite number or numeric string; true is 1, false 0."}
	}},
	reflect.TypeFor[sdkLogEvent]():     {"timestamp": timeOrUnix},
	reflect.TypeFor[sdkLogTimeRange](): {"startDate": timeOrUnix, "endDate": timeOrUnix},
}

func withSpan(m map[string]func() map[string]any) map[string]func() map[string]any {
	out := map[string]func() map[string]any{}
	for k, v := range spanFields {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// enumAnyCase is a string that is one of values in any case.
func enumAnyCase(values []string) map[string]any {
	vs := append([]string(nil), values...)
	sort.Strings(vs)
	return map[string]any{"type": "string", "description": "One of " + strings.Join(vs, ", ") + ", in any case."}
}

// componentNames name the request types whose Go names are those of
// answers (codec.Workout and query.Workout), and spell initialisms.
var componentNames = map[reflect.Type]string{
	reflect.TypeFor[codec.Record]():           "SyncRecord",
	reflect.TypeFor[codec.SleepStage]():       "SyncSleepStage",
	reflect.TypeFor[codec.Workout]():          "SyncWorkout",
	reflect.TypeFor[codec.WorkoutStatistic](): "SyncWorkoutStatistic",
	reflect.TypeFor[codec.Source]():           "SyncSource",
	reflect.TypeFor[codec.OSVersion]():        "SyncOSVersion",
	reflect.TypeFor[sdkLogRequest]():          "SDKLogRequest",
	reflect.TypeFor[sdkLogEvent]():            "SDKLogEvent",
	reflect.TypeFor[sdkLogTypeCount]():        "SDKLogTypeCount",
	reflect.TypeFor[sdkLogTimeRange]():        "SDKLogTimeRange",
	reflect.TypeFor[apiKeyCreate]():           "APIKeyCreate",
	reflect.TypeFor[apiKeyRename]():           "APIKeyRename",
}

var typeSchemas = map[reflect.Type]func() map[string]any{
	reflect.TypeFor[auth.Scope](): func() map[string]any { return enum("", "admin", "read", "write") },
}
