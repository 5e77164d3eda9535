package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"wearhouse/app"
)

func (ts *testServer) logs(user string, body []byte, headers ...string) resp {
	ts.t.Helper()
	return ts.do("POST", "/api/v1/sdk/users/"+user+"/logs", body, headers...)
}

func (ts *testServer) adminLogs(user string, body []byte) resp {
	ts.t.Helper()
	return ts.logs(user, body, "X-Open-Wearables-API-Key", adminKey)
}

func TestSDKLogsFixturesAccepted(t *testing.T) {
	ts := startServer(t, nil)
	tok := ts.token("ana")
	for _, name := range []string{"sdk_logs__all_event_types.json", "sdk_logs__android_types.json"} {
		for _, h := range [][]string{{"X-Open-Wearables-API-Key", adminKey}, {"Authorization", "Bearer " + tok}} {
			r := ts.logs("ana", fixture(t, name), h...)
			if r.status != http.StatusAccepted {
				t.Fatalf("%s with %s: %d %s", name, h[0], r.status, r.body)
			}
			const want = `{"status_code":202,"response":"Log events stored successfully","user_id":"ana","dropped_count":0,"records_saved":0,"workouts_saved":0,"sleep_saved":0}`
			if string(r.body) != want {
				t.Errorf("answer %s\nwant   %s", r.body, want)
			}
		}
	}
	if n := len(ts.syncList("/api/v1/users/ana/sdk-logs")); n != 8 {
		t.Errorf("%d events stored, want 8", n)
	}
}

func TestSDKLogsValidation(t *testing.T) {
	ts := startServer(t, nil)
	ev := `{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z"}`
	cases := []struct{ name, body, detail string }{
		{"sdkVersion missing", `{"events":[` + ev + `]}`, "sdkVersion is required."},
		{"events empty", `{"sdkVersion":"1","events":[]}`, "events must hold 1 to 100 events; it holds 0."},
		{"101 events", `{"sdkVersion":"1","events":[` + strings.Repeat(ev+",", 100) + ev + `]}`, "events must hold 1 to 100 events; it holds 101."},
		{"unknown eventType", `{"sdkVersion":"1","events":[` + ev + `,{"eventType":"crash","timestamp":"2026-04-09T10:00:00Z"}]}`, "events[1].eventType must be one of"},
		{"missing timestamp", `{"sdkVersion":"1","events":[{"eventType":"device_state"}]}`, "events[0].timestamp is required."},
		{"bad count", `{"sdkVersion":"1","events":[{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":[{"type":"a","count":-3}]}]}`, "events[0].dataTypeCounts[0].count"},
		{"success missing", `{"sdkVersion":"1","events":[{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x"}]}`, "events[0].success is required."},
		{"battery over", `{"sdkVersion":"1","events":[{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":7}]}`, "events[0].batteryLevel"},
		{"not JSON", `{"sdkVersion":`, "not valid JSON"},
		{"not an object", `[]`, "must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.adminLogs("val", []byte(c.body))
			if r.status != http.StatusBadRequest || !strings.Contains(r.detail(t), c.detail) {
				t.Errorf("%d %s, want 400 with %q", r.status, r.body, c.detail)
			}
		})
	}
	if r := ts.do("GET", "/api/v1/users/val/sdk-logs", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 {
		t.Errorf("invalid requests created the user: %d %s", r.status, r.body)
	}
	// The SDKs send batteryLevel -1 when they do not know it.
	r := ts.adminLogs("val", []byte(`{"sdkVersion":"1","events":[{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":-1}]}`))
	if r.status != http.StatusAccepted {
		t.Errorf("batteryLevel -1: %d %s", r.status, r.body)
	}
	if r := ts.adminLogs("bad%20id", fixture(t, "sdk_logs__android_types.json")); r.status != 400 || !strings.Contains(r.detail(t), "Invalid user_id") {
		t.Errorf("invalid user id: %d %s", r.status, r.body)
	}
	big := `{"sdkVersion":"` + strings.Repeat("x", 1<<20) + `","events":[` + ev + `]}`
	if r := ts.adminLogs("val", []byte(big)); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("body over 1 MiB: %d %s", r.status, r.body)
	}
}

func TestSDKLogsAuth(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sdk_logs__android_types.json")
	tokA := ts.token("amy")
	cases := []struct {
		name    string
		user    string
		headers []string
		status  int
		detail  string
	}{
		{"no credentials", "amy", nil, 401, "Authentication required: provide SDK token or API key"},
		{"unknown key", "amy", []string{"X-Open-Wearables-API-Key", "sk-00000000000000000000000000000000"}, 401, "Invalid or missing API key"},
		{"bad token alone", "amy", []string{"Authorization", "Bearer nope"}, 401, "Authentication required: provide SDK token or API key"},
		{"own token", "amy", []string{"Authorization", "Bearer " + tokA}, 202, ""},
		{"admin key", "bea", []string{"X-Open-Wearables-API-Key", adminKey}, 202, ""},
		{"another user's token", "bea", []string{"Authorization", "Bearer " + tokA}, 403, "Token does not match user_id"},
		{"token wins over the admin key", "bea", []string{"Authorization", "Bearer " + tokA, "X-Open-Wearables-API-Key", adminKey}, 403, "Token does not match user_id"},
		{"bad token falls through to the key", "bea", []string{"Authorization", "Bearer nope", "X-Open-Wearables-API-Key", adminKey}, 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.logs(c.user, body, c.headers...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.detail != "" && r.detail(t) != c.detail {
				t.Errorf("detail %q, want %q", r.detail(t), c.detail)
			}
		})
	}
	// Reading needs an API key: an SDK token cannot read.
	if r := ts.do("GET", "/api/v1/users/amy/sdk-logs", nil, "Authorization", "Bearer "+tokA); r.status != 401 {
		t.Errorf("read with an SDK token: %d %s", r.status, r.body)
	}
	if r := ts.do("GET", "/api/v1/users/amy/sdk-logs", nil); r.status != 401 {
		t.Errorf("read without credentials: %d %s", r.status, r.body)
	}
}

func TestSDKLogsReadBack(t *testing.T) {
	ts := startServer(t, nil)
	all := fixture(t, "sdk_logs__all_event_types.json")
	android := fixture(t, "sdk_logs__android_types.json")
	for _, b := range [][]byte{all, android} {
		if r := ts.adminLogs("rae", b); r.status != 202 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	var sent struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(all, &sent); err != nil {
		t.Fatal(err)
	}
	got := ts.syncList("/api/v1/users/rae/sdk-logs")
	var types []string
	for _, e := range got {
		types = append(types, e["event_type"].(string))
	}
	want := []string{"historical_data_sync_start", "device_state", "historical_data_type_sync_end", "historical_data_sync_start"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("event types %v, want %v (newest first)", types, want)
	}
	dev := got[1]
	if dev["sdk_version"] != "1.2.0" || dev["provider"] != "apple" || dev["timestamp"] != "2026-04-09T10:00:00Z" ||
		dev["sync_session_id"] != nil || dev["received_at"] == nil {
		t.Errorf("entry %v", dev)
	}
	stored, _ := json.Marshal(dev["event"])
	var a, b any
	json.Unmarshal(stored, &a)
	json.Unmarshal(sent.Events[2], &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("stored event %s, sent %s", stored, sent.Events[2])
	}
	if got := ts.syncList("/api/v1/users/rae/sdk-logs?limit=1"); len(got) != 1 || got[0]["event_type"] != "historical_data_sync_start" ||
		got[0]["event"].(map[string]any)["dataTypeCounts"].([]any)[0].(map[string]any)["type"] != "HEART_RATE" {
		t.Errorf("limit=1: %v", got)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x"} {
		r := ts.do("GET", "/api/v1/users/rae/sdk-logs?"+q, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 || r.detail(t) != "limit must be an integer from 1 to 1000." {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/users/nobody/sdk-logs", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 || r.detail(t) != "User not found" {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}

	// A gzip body is read like any other.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(android)
	w.Close()
	if r := ts.logs("rae", gz.Bytes(), "X-Open-Wearables-API-Key", adminKey, "Content-Encoding", "gzip"); r.status != 202 {
		t.Errorf("gzip body: %d %s", r.status, r.body)
	}
}

// Only the last 1,000 events of a user are kept.
func TestSDKLogsKeepTheLastThousand(t *testing.T) {
	ts := startServer(t, nil)
	n := 0
	for req := range 11 {
		size := 92
		if req == 10 {
			size = 90
		}
		var evs []string
		for range size {
			evs = append(evs, fmt.Sprintf(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","taskType":"n%d"}`, n))
			n++
		}
		body := `{"sdkVersion":"1","provider":"google","events":[` + strings.Join(evs, ",") + `]}`
		if r := ts.adminLogs("kim", []byte(body)); r.status != 202 {
			t.Fatalf("request %d: %d %s", req, r.status, r.body)
		}
	}
	if n != 1010 {
		t.Fatalf("posted %d events", n)
	}
	got := ts.syncList("/api/v1/users/kim/sdk-logs?limit=1000")
	if len(got) != 1000 {
		t.Fatalf("%d events kept, want 1000", len(got))
	}
	for i, e := range got {
		want := fmt.Sprintf("n%d", 1009-i)
		if task := e["event"].(map[string]any)["taskType"]; task != want {
			t.Fatalf("event %d is %v, want %s", i, task, want)
		}
	}
	if n := len(ts.syncList("/api/v1/users/kim/sdk-logs")); n != 100 {
		t.Errorf("default limit: %d events, want 100", n)
	}
}

func TestSDKLogsUnknownUser(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Ingest.AutoCreateUsers = false })
	r := ts.adminLogs("stranger", fixture(t, "sdk_logs__android_types.json"))
	if r.status != 404 {
		t.Errorf("unknown user with auto-create off: %d %s", r.status, r.body)
	}
	ts2 := startServer(t, nil)
	if r := ts2.adminLogs("newcomer", fixture(t, "sdk_logs__android_types.json")); r.status != 202 {
		t.Fatalf("new user: %d %s", r.status, r.body)
	}
	if _, err := ts2.app.Store.User("newcomer"); err != nil {
		t.Errorf("telemetry did not create the user: %v", err)
	}
}
