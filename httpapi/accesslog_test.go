package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
)

// requestLines are the JSON lines of a log with event "request".
func requestLines(t *testing.T, logs *lockedBuffer) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["event"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// One line per request says who asked what and how it went, with the
// request id the client sent (or one made and returned), and never a
// health value, a secret or the query string.
func TestAccessLog(t *testing.T) {
	var logs lockedBuffer
	ts := startServer(t, func(o *app.Options) { o.Logger = zerolog.New(&logs).Level(zerolog.InfoLevel) })
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	r := ts.asAdmin("log-user", body, "X-Request-Id", "req-123", "X-Open-Wearables-SDK-Version", "0.15.0",
		"X-Open-Wearables-SDK-Platform", "ios")
	if r.status != 202 || r.header.Get("X-Request-Id") != "req-123" {
		t.Fatalf("sync: %d, X-Request-Id %q", r.status, r.header.Get("X-Request-Id"))
	}
	r2 := ts.do("GET", "/api/v1/users/log-user/timeseries?start_time=2026-02-24&end_time=2026-02-25&types=heart_rate",
		nil, "X-Open-Wearables-API-Key", adminKey, "X-Request-Id", "bad id with spaces")
	made := r2.header.Get("X-Request-Id")
	if r2.status != 200 || len(made) != 32 {
		t.Fatalf("read: %d, made X-Request-Id %q", r2.status, made)
	}
	ts.do("GET", "/api/v1/users/log-user/timeseries", nil, "X-Open-Wearables-API-Key", "wrong-key-0123456789")

	// An event stream is logged when it ends, and logging does not read it.
	req, _ := http.NewRequest("GET", ts.base+"/api/v1/users/log-user/sync/stream", nil)
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	c := &http.Client{Timeout: 300 * time.Millisecond}
	if res, err := c.Do(req); err == nil {
		if res.StatusCode != 200 {
			t.Fatalf("stream: %d", res.StatusCode)
		}
		res.Body.Close()
	}

	var lines []map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for len(lines) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		lines = requestLines(t, &logs)
	}
	if len(lines) < 3 {
		t.Fatalf("%d request lines, want at least 3", len(lines))
	}
	sync, read, refused := lines[0], lines[1], lines[2]
	for k, want := range map[string]any{"method": "POST", "route": "/api/v1/sdk/users/{user_id}/sync", "status": 202.0,
		"user_id": "log-user", "request_id": "req-123", "sdk_version": "0.15.0", "sdk_platform": "ios",
		"records": 1.0, "sleep": 1.0, "workouts": 1.0, "dropped": 0.0, "duplicate": false, "bytes_in": float64(len(body))} {
		if sync[k] != want {
			t.Errorf("sync line %s = %v, want %v (%v)", k, sync[k], want, sync)
		}
	}
	if c, _ := sync["credential"].(string); !strings.HasPrefix(c, "key:") || strings.Contains(c, adminKey) {
		t.Errorf("sync line credential %q, want the key's id", c)
	}
	if read["request_id"] != made || read["status"] != 200.0 || read["route"] != "/api/v1/users/{user_id}/timeseries" {
		t.Errorf("read line %v", read)
	}
	if refused["status"] != 401.0 || refused["credential"] != nil {
		t.Errorf("refused line %v", refused)
	}
	all, _ := json.Marshal(lines)
	for _, secret := range []string{adminKey, "wrong-key-0123456789", "start_time", "heart_rate", "abc-xyz-123-sys", "shealth"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("the access log holds %q: %s", secret, all)
		}
	}
}

// A body sent in chunks (Android's SDK does) has no Content-Length: the
// line counts what was read of it.
func TestAccessLogCountsAChunkedBody(t *testing.T) {
	var logs lockedBuffer
	ts := startServer(t, func(o *app.Options) { o.Logger = zerolog.New(&logs).Level(zerolog.InfoLevel) })
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	req, err := http.NewRequest("POST", ts.base+"/api/v1/sdk/users/chunked-user/sync",
		io.MultiReader(bytes.NewReader(body))) // a reader of unknown length: chunked
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	res, err := ts.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 202 || req.ContentLength != 0 {
		t.Fatalf("chunked sync: %d, declared length %d", res.StatusCode, req.ContentLength)
	}
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		lines = requestLines(t, &logs)
	}
	if len(lines) != 1 || lines[0]["bytes_in"] != float64(len(body)) {
		t.Fatalf("lines %v, want one with bytes_in %d", lines, len(body))
	}
}
