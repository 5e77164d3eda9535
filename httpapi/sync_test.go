package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"wearhouse/app"
)

func TestSeedExampleIsAccepted(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	r := ts.asAdmin("user-1", body)
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	want := map[string]any{
		"status_code": 202.0, "response": "Import task queued successfully", "user_id": "user-1",
		"dropped_count": 0.0, "records_saved": 0.0, "workouts_saved": 0.0, "sleep_saved": 0.0, "duplicate": false,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	acc := m["accepted"].(map[string]any)
	if acc["records"] != 1.0 || acc["sleep"] != 1.0 || acc["workouts"] != 1.0 {
		t.Errorf("accepted = %v, want 1 of each", acc)
	}
	if e := m["errors"].([]any); len(e) != 0 {
		t.Errorf("errors = %v", e)
	}
	if w, ok := m["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings = %v", m["warnings"])
	}
	q := ts.queue()
	e, ok := q[m["batch_id"].(string)]
	if !ok || len(q) != 1 {
		t.Fatalf("queue has %d entries, batch %v missing", len(q), m["batch_id"])
	}
	if !bytes.Equal(e.Body, queued(t, body)) || e.UserID != "user-1" || e.Provider != "samsung" {
		t.Errorf("queued entry differs: user %q provider %q batch equal %v", e.UserID, e.Provider, bytes.Equal(e.Body, queued(t, body)))
	}
	if _, err := ts.app.Store.User("user-1"); err != nil {
		t.Errorf("user not created on first sync: %v", err)
	}
}

func TestSyncAuth(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "malformed_payload_debug__valid.json")
	tokA := ts.token("alice")
	const upper = "6B2A5C1E-3F4D-4E5A-9B8C-7D6E5F4A3B2C"
	tokU := ts.token(upper)

	cases := []struct {
		name    string
		user    string
		headers []string
		status  int
		detail  string
	}{
		{"no credentials", "alice", nil, 401, "Authentication required: provide SDK token or API key"},
		{"unknown key", "alice", []string{"X-Open-Wearables-API-Key", "sk-00000000000000000000000000000000"}, 401, "Invalid or missing API key"},
		{"admin key", "alice", []string{"X-Open-Wearables-API-Key", adminKey}, 202, ""},
		{"own token", "alice", []string{"Authorization", "Bearer " + tokA}, 202, ""},
		{"lower-case bearer", "alice", []string{"Authorization", "bearer " + tokA}, 202, ""},
		{"another user's token", "bob", []string{"Authorization", "Bearer " + tokA}, 403, "Token does not match user_id"},
		{"token wins over a bad key", "alice", []string{"Authorization", "Bearer " + tokA, "X-Open-Wearables-API-Key", "sk-bad"}, 202, ""},
		{"token wins over the admin key", "bob", []string{"Authorization", "Bearer " + tokA, "X-Open-Wearables-API-Key", adminKey}, 403, "Token does not match user_id"},
		{"bad token falls through to the key", "bob", []string{"Authorization", "Bearer nope", "X-Open-Wearables-API-Key", adminKey}, 202, ""},
		{"bad token alone", "bob", []string{"Authorization", "Bearer nope"}, 401, "Authentication required: provide SDK token or API key"},
		{"tampered token", "alice", []string{"Authorization", "Bearer " + tokA[:len(tokA)-2] + "xx"}, 401, "Authentication required: provide SDK token or API key"},
		{"UUID compared case-insensitively", strings.ToLower(upper), []string{"Authorization", "Bearer " + tokU}, 202, ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Vary the body so that no case is answered as a replay.
			b := bytes.Replace(body, []byte(`"rec-1"`), []byte(fmt.Sprintf(`"rec-auth-%d"`, i)), 1)
			r := ts.sync(c.user, b, c.headers...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" && r.detail(t) != c.detail {
				t.Errorf("detail %q, want %q", r.detail(t), c.detail)
			}
		})
	}
}

func TestTokenRoute(t *testing.T) {
	ts := startServer(t, nil)
	if r := ts.do("POST", "/api/v1/users/nobody/token", nil); r.status != 401 {
		t.Errorf("no credentials: %d %s", r.status, r.body)
	}
	if r := ts.do("POST", "/api/v1/users/nobody/token", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 ||
		r.detail(t) != "User with ID: nobody not found." {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}
	if r := ts.do("POST", "/api/v1/users/nobody/token", []byte(`{"app_id":"app_x","app_secret":"s"}`)); r.status != 401 ||
		r.detail(t) != "Invalid app credentials" {
		t.Errorf("unknown app: %d %s", r.status, r.body)
	}
	ts.asAdmin("carol", fixture(t, "malformed_payload_debug__valid.json"))
	r := ts.do("POST", "/api/v1/users/carol/token/", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != 200 {
		t.Fatalf("mint: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["token_type"] != "bearer" || m["expires_in"] != 3600.0 || !strings.HasPrefix(m["refresh_token"].(string), "rt-") ||
		len(m["refresh_token"].(string)) != 35 {
		t.Errorf("token answer %v", m)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer may be cached")
	}
}

func TestSyncValidation(t *testing.T) {
	ts := startServer(t, nil)
	cases := []struct {
		name   string
		user   string
		body   string
		status int
		detail string // substring
	}{
		{"bad provider", "u", string(fixture(t, "malformed_payload_debug__bad_provider.json")), 400, "Unsupported provider: nope. Supported: apple, samsung, google"},
		{"provider of the unified spec draft", "u", string(fixture(t, "spec__005-unified-health-payload__example_7_1_apple_health.json")), 400, "Unsupported provider: apple_health."},
		{"provider inside data", "u", string(fixture(t, "sdk_sync_auth__auth_tests_body.json")), 400, "Unsupported provider: . Supported"},
		{"not JSON", "u", "provider=apple", 400, "byte offset"},
		{"truncated JSON", "u", `{"provider":"apple","data":{`, 400, "not valid JSON"},
		{"not an object", "u", `[{"provider":"apple"}]`, 400, "must be a JSON object"},
		{"invalid UTF-8", "u", "{\"provider\":\"apple\",\"sdkVersion\":\"\xff\"}", 400, "byte offset 34"},
		{"empty body", "u", "", 400, "empty"},
		{"data not an object", "u", `{"provider":"apple","data":[]}`, 400, "data must be an object."},
		{"records not an array", "u", `{"provider":"apple","data":{"records":{}}}`, 400, "data.records must be an array."},
		{"workouts not an array", "u", `{"provider":"apple","data":{"workouts":"x"}}`, 400, "data.workouts must be an array."},
		{"null collections are empty", "u", `{"provider":"Apple","sdkVersion":"1","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":null,"sleep":null}}`, 202, ""},
		{"user id with a space", "bad%20id", `{"provider":"apple"}`, 400, "Invalid user_id"},
		{"user id too long", strings.Repeat("a", 129), `{"provider":"apple"}`, 400, "Invalid user_id"},
		{"user id of 128 allowed characters", strings.Repeat("a", 120) + "._-:@AZ9", `{"provider":"apple"}`, 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.asAdmin(c.user, []byte(c.body))
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" && !strings.Contains(r.detail(t), c.detail) {
				t.Errorf("detail %q does not contain %q", r.detail(t), c.detail)
			}
		})
	}
}

func TestSyncDropsBadItemsAndKeepsTheRest(t *testing.T) {
	ts := startServer(t, nil)
	body := `{"provider":"apple","sdkVersion":"1.0","syncTimestamp":"2026-07-16T00:00:00Z","data":{"records":[
	 {"id":"a","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":61,"unit":"bpm"},
	 {"id":"b","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":"abc","unit":"bpm"},
	 {"id":"c","type":"HKQuantityTypeIdentifierHeartRate","startDate":"yesterday","endDate":"2026-07-16T00:00:01Z","value":62,"unit":"bpm"},
	 {"id":"d","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-07-16T00:00:02.5+02:00","endDate":"2026-07-16T00:00:03Z","value":"61.5","unit":"bpm","zoneOffset":"+99:00"},
	 {"id":5,"type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":63,"unit":"bpm"}
	],"sleep":[{"id":"s","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T01:00:00Z"}]}}`
	r := ts.asAdmin("dora", []byte(body))
	if r.status != 202 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["dropped_count"] != 4.0 {
		t.Errorf("dropped_count %v, want 4", m["dropped_count"])
	}
	acc := m["accepted"].(map[string]any)
	if acc["records"] != 2.0 || acc["sleep"] != 0.0 {
		t.Errorf("accepted %v, want 2 records and no sleep", acc)
	}
	paths := map[string]bool{}
	for _, e := range m["errors"].([]any) {
		paths[e.(map[string]any)["path"].(string)] = true
	}
	for _, p := range []string{"data.records[1].value", "data.records[2].startDate", "data.records[4].id", "data.sleep[0].stage"} {
		if !paths[p] {
			t.Errorf("errors lack %s: %v", p, m["errors"])
		}
	}
	warned := false
	for _, w := range m["warnings"].([]any) {
		if w.(map[string]any)["path"] == "data.records[3].zoneOffset" {
			warned = true
		}
	}
	if !warned {
		t.Errorf("the bad zoneOffset is not reported: %v", m["warnings"])
	}
}

func TestSyncLimits(t *testing.T) {
	ts := startServer(t, func(o *app.Options) {
		o.HTTP.MaxBody = 64 << 10
		o.Ingest.MaxItems = 10
	})
	valid := fixture(t, "malformed_payload_debug__valid.json")

	big := append([]byte(`{"provider":"apple","pad":"`), bytes.Repeat([]byte("x"), 70<<10)...)
	big = append(big, `"}`...)
	// The server may answer and close before the body is all sent, so the
	// body is written from the side and errors writing it are expected.
	if res := rawPost(t, ts.app.Addr().String(), "/api/v1/sdk/users/u/sync", big); res.StatusCode != 413 ||
		res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("oversized body: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}

	// A gzip bomb: small on the wire, far over the limit once inflated.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(" "), 8<<20))
	zw.Close()
	if r := ts.asAdmin("u", bomb.Bytes(), "Content-Encoding", "gzip"); r.status != 413 || !strings.Contains(r.detail(t), "after decompression") {
		t.Errorf("gzip bomb: %d %s", r.status, r.body)
	}

	var items strings.Builder
	items.WriteString(`{"provider":"apple","data":{"records":[`)
	for i := 0; i < 11; i++ {
		if i > 0 {
			items.WriteString(",")
		}
		fmt.Fprintf(&items, `{"id":"r%d","startDate":"2026-01-01T00:00:00Z","endDate":"2026-01-01T00:00:00Z","value":1,"unit":"x"}`, i)
	}
	items.WriteString(`]}}`)
	if r := ts.asAdmin("u", []byte(items.String())); r.status != 413 || !strings.Contains(r.detail(t), "11 items") {
		t.Errorf("too many items: %d %s", r.status, r.body)
	}

	var gz bytes.Buffer
	zw = gzip.NewWriter(&gz)
	zw.Write(valid)
	zw.Close()
	if r := ts.asAdmin("gz", gz.Bytes(), "Content-Encoding", "gzip"); r.status != 202 {
		t.Errorf("gzip body: %d %s", r.status, r.body)
	}
	enc, _ := zstd.NewWriter(nil)
	zb := enc.EncodeAll(fixture(t, "sync_request__SyncRequest_json_schema_example.json"), nil)
	r := ts.asAdmin("zs", zb, "Content-Encoding", "zstd")
	if r.status != 202 || r.json(t)["accepted"].(map[string]any)["workouts"] != 1.0 {
		t.Errorf("zstd body: %d %s", r.status, r.body)
	}
	if r := ts.asAdmin("u", valid, "Content-Encoding", "snappy"); r.status != 415 {
		t.Errorf("unknown encoding: %d %s", r.status, r.body)
	}
	if r := ts.asAdmin("u", []byte("garbage"), "Content-Encoding", "gzip"); r.status != 400 {
		t.Errorf("corrupt gzip: %d %s", r.status, r.body)
	}
}

// rawExchange writes requests on one connection and reads the answers, as a
// mobile client on a keep-alive connection does.
func rawExchange(t *testing.T, addr string, reqs ...string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var out []*http.Response
	for _, r := range reqs {
		if _, err := io.WriteString(conn, r); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(bytes.NewReader(b))
		out = append(out, res)
	}
	return out
}

// rawPost sends a body with the admin key while reading the answer, so
// that an answer sent before the whole body is read is still seen.
func rawPost(t *testing.T, addr, path string, body []byte) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n", path, adminKey, len(body))
		conn.Write(body)
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	return res
}

func TestChunkedBody(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	var chunked strings.Builder
	for i := 0; i < len(body); i += 100 {
		end := min(i+100, len(body))
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", end-i, body[i:end])
	}
	chunked.WriteString("0\r\n\r\n")
	req := "POST /api/v1/sdk/users/chunky/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: " + adminKey +
		"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked.String()
	res := rawExchange(t, ts.app.Addr().String(), req)[0]
	if res.StatusCode != 202 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("chunked: %d %s", res.StatusCode, b)
	}
	for _, e := range ts.queue() {
		if !bytes.Equal(e.Body, queued(t, body)) {
			t.Errorf("chunked body queued differently")
		}
	}
}

// TestQueuedBytesAreNotAliased sends batch A then batch B on one keep-alive
// connection: fasthttp reuses the request buffer, and A's queued bytes must
// still be A's.
func TestQueuedBytesAreNotAliased(t *testing.T) {
	ts := startServer(t, nil)
	a := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	b := bytes.ReplaceAll(a, []byte("abc-xyz-123"), []byte("BBB-BBB-BBB"))
	b = bytes.ReplaceAll(b, []byte(`"samsung"`), []byte(`"google"`))
	// "google" is one byte shorter than "samsung": pad B to A's length so
	// that B overwrites every byte of A's buffer.
	b = append(b, ' ')
	mk := func(body []byte) string {
		return fmt.Sprintf("POST /api/v1/sdk/users/alias/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
			adminKey, len(body), body)
	}
	res := rawExchange(t, ts.app.Addr().String(), mk(a), mk(b))
	var ids []string
	for _, r := range res {
		if r.StatusCode != 202 {
			t.Fatalf("status %d", r.StatusCode)
		}
		body, _ := io.ReadAll(r.Body)
		var m struct {
			BatchID string `json:"batch_id"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.BatchID)
	}
	q := ts.queue()
	if !bytes.Equal(q[ids[0]].Body, queued(t, a)) {
		t.Errorf("batch A's queued bytes changed:\n%q", q[ids[0]].Body)
	}
	if q[ids[0]].Provider != "samsung" || q[ids[1]].Provider != "google" {
		t.Errorf("providers %q %q", q[ids[0]].Provider, q[ids[1]].Provider)
	}
	if !bytes.Equal(q[ids[1]].Body, queued(t, b)) {
		t.Errorf("batch B's queued bytes differ")
	}
}

func TestReplaysAndIdempotencyKeys(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "apple_sdk_import__sample_sdk_payload.json")
	first := ts.asAdmin("eve", body).json(t)
	second := ts.asAdmin("eve", body).json(t)
	if second["duplicate"] != true || second["batch_id"] != first["batch_id"] || first["duplicate"] != false {
		t.Errorf("replay: first %v, second %v", first, second)
	}
	if r := ts.asAdmin("frank", body).json(t); r["duplicate"] != false || r["batch_id"] == first["batch_id"] {
		t.Errorf("the same body for another user is not a replay: %v", r)
	}
	if n := len(ts.queue()); n != 2 {
		t.Errorf("queue has %d entries, want 2", n)
	}

	other := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	k1 := ts.asAdmin("gina", other, "Idempotency-Key", "key-1")
	k2 := ts.asAdmin("gina", other, "Idempotency-Key", "key-1")
	if k1.status != 202 || k2.status != 202 || !bytes.Equal(k1.body, k2.body) || k2.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("same key, same body: %d %s / %d %s", k1.status, k1.body, k2.status, k2.body)
	}
	if r := ts.asAdmin("gina", body, "Idempotency-Key", "key-1"); r.status != 422 {
		t.Errorf("same key, other body: %d %s", r.status, r.body)
	}
	// Keys are namespaced per credential: another principal may use key-1.
	tok := ts.token("gina")
	if r := ts.sync("gina", body, "Authorization", "Bearer "+tok, "Idempotency-Key", "key-1"); r.status != 202 {
		t.Errorf("key of another principal: %d %s", r.status, r.body)
	}
	if r := ts.asAdmin("gina", body, "Idempotency-Key", strings.Repeat("k", 256)); r.status != 400 {
		t.Errorf("overlong key: %d", r.status)
	}
}

func TestAutoCreateUsersOff(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Ingest.AutoCreateUsers = false })
	body := fixture(t, "malformed_payload_debug__valid.json")
	if r := ts.asAdmin("ghost", body); r.status != 404 {
		t.Fatalf("unknown user: %d %s", r.status, r.body)
	}
	if n := len(ts.queue()); n != 0 {
		t.Errorf("queue has %d entries after a refused sync", n)
	}
	r := ts.do("POST", "/api/v1/users", []byte(`{"external_user_id":"ext-1"}`), "X-Open-Wearables-API-Key", adminKey)
	if r.status != 201 {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := ts.asAdmin(id, body); r.status != 202 {
		t.Errorf("sync for a created user: %d %s", r.status, r.body)
	}
}

func TestDiskReserve(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Ingest.DiskReserve = 1 << 62 })
	r := ts.asAdmin("u", fixture(t, "malformed_payload_debug__valid.json"))
	if r.status != 507 {
		t.Fatalf("status %d, want 507: %s", r.status, r.body)
	}
	if r := ts.do("GET", "/readyz", nil); r.status != 503 {
		t.Errorf("readyz with a full disk: %d", r.status)
	}
}

func TestRoutingErrorsAreJSON(t *testing.T) {
	ts := startServer(t, nil)
	if r := ts.do("GET", "/api/v1/sdk/users/u/sync", nil); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on sync: %d %v", r.status, r.header)
	}
	if r := ts.do("GET", "/nope", nil); r.status != 404 || r.detail(t) == "" {
		t.Errorf("unknown route: %d %s", r.status, r.body)
	}
	if r := ts.do("GET", "/healthz/", nil); r.status != 200 {
		t.Errorf("healthz with a trailing slash: %d", r.status)
	}
	// A request fasthttp itself cannot parse still gets JSON.
	res := rawExchange(t, ts.app.Addr().String(), "POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")[0]
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("malformed request: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// The body's first 16 KiB are sent, as a client does: the server
	// answers from the headers once a body is on its way.
	res = rawExchange(t, ts.app.Addr().String(), fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 100<<20, strings.Repeat("x", 16<<10)))[0]
	if res.StatusCode != 413 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("declared oversize body: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
