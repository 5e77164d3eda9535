package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wearhouse/app"
)

// syncList GETs a route that answers a JSON array, with the admin key.
func (ts *testServer) syncList(path string) []map[string]any {
	ts.t.Helper()
	r := ts.do("GET", path, nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != http.StatusOK {
		ts.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil || out == nil {
		ts.t.Fatalf("GET %s: not a JSON array: %s", path, r.body)
	}
	return out
}

// postBatch posts a body for a user and returns its batch id.
func (ts *testServer) postBatch(user string, body []byte) string {
	ts.t.Helper()
	r := ts.asAdmin(user, body)
	if r.status != http.StatusAccepted {
		ts.t.Fatalf("post for %s: %d %s", user, r.status, r.body)
	}
	return r.json(ts.t)["batch_id"].(string)
}

// indexAll runs the paused compactor and waits until everything
// acknowledged is indexed.
func (ts *testServer) indexAll() {
	ts.t.Helper()
	ts.app.Compactor.Resume()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.app.Compactor.WaitIndexed(ctx, ts.app.Ingest.Watermark()); err != nil {
		ts.t.Fatalf("compactor did not catch up: %v", err)
	}
}

// itemCounts counts the items of a sync fixture as encoding/json sees them.
func itemCounts(t *testing.T, body []byte) (records, sleep, workouts int) {
	t.Helper()
	b := decodeSyncFixture(t, body)
	return len(b.Data.Records), len(b.Data.Sleep), len(b.Data.Workouts)
}

type syncFixture struct {
	Data struct {
		Records  []json.RawMessage        `json:"records"`
		Sleep    []struct{ Stage string } `json:"sleep"`
		Workouts []json.RawMessage        `json:"workouts"`
	} `json:"data"`
}

func decodeSyncFixture(t *testing.T, body []byte) *syncFixture {
	t.Helper()
	var b syncFixture
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}

// unmappedStages counts the sleep stages of a fixture that are not one of
// the stages of Open Wearables (fact sheet §3.3), in any case and with or
// without underscores ("inBed" is in_bed): they are stored as "unknown" and
// counted as unmapped.
func unmappedStages(t *testing.T, body []byte) int {
	known := map[string]bool{"inbed": true, "sleeping": true, "awake": true, "light": true, "deep": true, "rem": true, "unknown": true}
	n := 0
	for _, s := range decodeSyncFixture(t, body).Data.Sleep {
		if !known[strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s.Stage)), "_", "")] {
			n++
		}
	}
	return n
}

func stages(evs []map[string]any) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e["run_id"].(string)[:4]+":"+e["stage"].(string))
	}
	return out
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// Batches are queued runs until the compactor indexes them; then each has
// started and completed events with the counts of what was stored.
func TestSyncStatusQueuedThenCompleted(t *testing.T) {
	ts := startServer(t, nil)
	sample := fixture(t, "apple_sdk_import__sample_sdk_payload.json")
	sleep := fixture(t, "sleep_service__DETAILED_STAGES_PAYLOAD.json")
	bad := fixture(t, "malformed_payload_debug__malformed_value_null.json")
	a := ts.postBatch("alice", sample)
	b := ts.postBatch("alice", sleep)
	c := ts.postBatch("bob", bad)

	evs := ts.syncList("/api/v1/users/alice/sync/recent")
	if got, want := stages(evs), []string{b[:4] + ":queued", a[:4] + ":queued"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("queued events %v, want %v", got, want)
	}
	for _, e := range evs {
		if e["source"] != "sdk" || e["status"] != "in_progress" || e["provider"] != "apple" || e["user_id"] != "alice" ||
			e["message"] != "Queued apple SDK batch" || e["progress"] != nil || e["ended_at"] != nil {
			t.Errorf("queued event %v", e)
		}
		md := e["metadata"].(map[string]any)
		if md["batch_id"] != e["run_id"] || md["dropped_count"] != 0.0 {
			t.Errorf("queued metadata %v", md)
		}
	}
	runs := ts.syncList("/api/v1/users/alice/sync/runs")
	if len(runs) != 2 || runs[0]["run_id"] != b || runs[1]["run_id"] != a ||
		runs[0]["stage"] != "queued" || runs[0]["status"] != "in_progress" || runs[0]["last_update"] != evs[0]["timestamp"] {
		t.Fatalf("queued runs %v", runs)
	}

	ts.indexAll()

	evs = ts.syncList("/api/v1/users/alice/sync/recent")
	want := []string{b[:4] + ":completed", b[:4] + ":started", a[:4] + ":completed", a[:4] + ":started", b[:4] + ":queued", a[:4] + ":queued"}
	if got := stages(evs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	ids := map[string]bool{}
	for _, e := range evs {
		ids[e["event_id"].(string)] = true
	}
	if len(ids) != len(evs) {
		t.Errorf("event ids repeat: %v", ids)
	}
	for _, tc := range []struct {
		ev   map[string]any
		body []byte
	}{{evs[0], sleep}, {evs[2], sample}} {
		nr, ns, nw := itemCounts(t, tc.body)
		e := tc.ev
		md := e["metadata"].(map[string]any)
		if num(md["records_saved"]) != nr || num(md["sleep_saved"]) != ns || num(md["workouts_saved"]) != nw ||
			md["dropped_count"] != 0.0 || num(md["unmapped_count"]) != unmappedStages(t, tc.body) || md["batch_id"] != e["run_id"] {
			t.Errorf("completed metadata %v, want %d records, %d sleep, %d workouts, %d unmapped",
				md, nr, ns, nw, unmappedStages(t, tc.body))
		}
		if e["status"] != "success" || e["message"] != "Apple batch saved" || e["progress"] != 1.0 ||
			num(e["items_processed"]) != nr+ns+nw || num(e["items_total"]) != nr+ns+nw ||
			e["ended_at"] != e["timestamp"] || e["started_at"] == nil || e["error"] != nil {
			t.Errorf("completed event %v", e)
		}
	}
	if started := evs[1]; started["status"] != "in_progress" || started["message"] != "Processing apple SDK batch" ||
		started["started_at"] != started["timestamp"] {
		t.Errorf("started event %v", started)
	}

	runs = ts.syncList("/api/v1/users/alice/sync/runs")
	if len(runs) != 2 || runs[0]["run_id"] != b || runs[1]["run_id"] != a {
		t.Fatalf("runs %v", runs)
	}
	for i, r := range runs {
		src := evs[2*i]
		if r["stage"] != "completed" || r["status"] != "success" || r["last_update"] != src["timestamp"] ||
			r["started_at"] != src["started_at"] || r["ended_at"] != src["ended_at"] || r["source"] != "sdk" ||
			r["items_processed"] != src["items_processed"] || fmt.Sprint(r["metadata"]) != fmt.Sprint(src["metadata"]) {
			t.Errorf("run %d = %v, want it to match its completed event %v", i, r, src)
		}
	}

	bobs := ts.syncList("/api/v1/users/bob/sync/runs")
	nr, _, _ := itemCounts(t, bad)
	if len(bobs) != 1 || bobs[0]["run_id"] != c || bobs[0]["message"] != "Apple batch saved (1 record(s) dropped by validation)" ||
		num(bobs[0]["items_processed"]) != nr-1 || bobs[0]["metadata"].(map[string]any)["dropped_count"] != 1.0 {
		t.Errorf("bob's run %v", bobs)
	}
}

// A record of an unknown type is stored and counted as unmapped.
func TestSyncStatusUnmappedCount(t *testing.T) {
	ts := startServer(t, nil)
	body := `{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-07-16T00:00:00Z","data":{"records":[
	 {"type":"HEART_RATE","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":61,"unit":"bpm"},
	 {"type":"com.example.Custom","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":3,"unit":"u"},
	 {"type":"HEART_RATE","startDate":"2026-07-16T00:00:00Z","endDate":"2026-07-16T00:00:01Z","value":"x","unit":"bpm"}]}}`
	id := ts.postBatch("gina", []byte(body))
	ts.indexAll()
	runs := ts.syncList("/api/v1/users/gina/sync/runs")
	if len(runs) != 1 || runs[0]["run_id"] != id {
		t.Fatalf("runs %v", runs)
	}
	md := runs[0]["metadata"].(map[string]any)
	if md["records_saved"] != 2.0 || md["unmapped_count"] != 1.0 || md["dropped_count"] != 1.0 ||
		runs[0]["items_total"] != 3.0 || runs[0]["provider"] != "google" || runs[0]["message"] != "Google batch saved (1 record(s) dropped by validation)" {
		t.Errorf("run %v", runs[0])
	}
}

func TestSyncRunsAcrossUsers(t *testing.T) {
	ts := startServer(t, nil)
	valid := fixture(t, "malformed_payload_debug__valid.json")
	a := ts.postBatch("alice", valid)
	s := ts.postBatch("sam", fixture(t, "sync_request__SyncRequest_json_schema_example.json"))
	ts.indexAll()
	// The compactor runs from now on: gus's run is indexed after the others.
	g := ts.postBatch("gus", bytes.Replace(valid, []byte(`"apple"`), []byte(`"google"`), 1))
	ts.indexAll()

	ids := func(runs []map[string]any) string {
		var out []string
		for _, r := range runs {
			out = append(out, r["run_id"].(string))
		}
		return strings.Join(out, ",")
	}
	all := ts.syncList("/api/v1/sync/runs")
	if got, want := ids(all), strings.Join([]string{g, s, a}, ","); got != want {
		t.Fatalf("all runs %s, want %s (newest first)", got, want)
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"limit=1", []string{g}},
		{"limit=2", []string{g, s}},
		{"user_id=alice", []string{a}},
		{"user_id=nobody", nil},
		{"provider=samsung", []string{s}},
		{"provider=Google", []string{g}},
		{"provider=garmin", nil},
		{"status=success", []string{g, s, a}},
		{"status=completed", []string{g, s, a}},
		{"status=queued", nil},
		{"status=failed", nil},
		{"source=sdk", []string{g, s, a}},
		{"source=pull", nil},
		{"user_id=sam&provider=samsung&status=success&source=sdk", []string{s}},
		{"user_id=sam&provider=apple", nil},
	}
	for _, c := range cases {
		if got := ids(ts.syncList("/api/v1/sync/runs?" + c.query)); got != strings.Join(c.want, ",") {
			t.Errorf("%s: %s, want %s", c.query, got, strings.Join(c.want, ","))
		}
	}
	for _, q := range []string{"limit=0", "limit=10001", "limit=x", "limit=-1"} {
		r := ts.do("GET", "/api/v1/sync/runs?"+q, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 || !strings.Contains(r.detail(t), "limit must be an integer from 1 to 10000") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/sync/runs?limit=10000", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 200 {
		t.Errorf("limit=10000: %d %s", r.status, r.body)
	}
}

// A queued run is found by the status and stage it is in.
func TestSyncRunsQueuedFilter(t *testing.T) {
	ts := startServer(t, nil)
	q := ts.postBatch("quinn", fixture(t, "malformed_payload_debug__valid.json"))
	for _, query := range []string{"status=queued", "status=in_progress"} {
		runs := ts.syncList("/api/v1/sync/runs?" + query)
		if len(runs) != 1 || runs[0]["run_id"] != q {
			t.Errorf("%s: %v", query, runs)
		}
	}
	if runs := ts.syncList("/api/v1/sync/runs?status=success"); len(runs) != 0 {
		t.Errorf("status=success lists a queued run: %v", runs)
	}
}

func TestSyncStatusLimits(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "malformed_payload_debug__valid.json")
	var ids []string
	for i := range 3 {
		ids = append(ids, ts.postBatch("lee", bytes.Replace(body, []byte(`"rec-1"`), []byte(fmt.Sprintf(`"rec-%d"`, i)), 1)))
	}
	if evs := ts.syncList("/api/v1/users/lee/sync/recent?limit=2"); len(evs) != 2 || evs[0]["run_id"] != ids[2] || evs[1]["run_id"] != ids[1] {
		t.Errorf("recent limit=2: %v", stages(evs))
	}
	if runs := ts.syncList("/api/v1/users/lee/sync/runs?limit=1"); len(runs) != 1 || runs[0]["run_id"] != ids[2] {
		t.Errorf("runs limit=1: %v", runs)
	}
	ts.indexAll()
	if evs := ts.syncList("/api/v1/users/lee/sync/recent?limit=3"); len(evs) != 3 || evs[0]["run_id"] != ids[2] ||
		evs[0]["stage"] != "completed" || evs[2]["run_id"] != ids[1] || evs[2]["stage"] != "completed" {
		t.Errorf("recent limit=3 after indexing: %v", stages(evs))
	}
	if evs := ts.syncList("/api/v1/users/lee/sync/recent/"); len(evs) != 9 {
		t.Errorf("recent, default limit: %d events, want 9", len(evs))
	}
	for _, c := range []struct{ path, detail string }{
		{"/api/v1/users/lee/sync/recent?limit=0", "limit must be an integer from 1 to 200."},
		{"/api/v1/users/lee/sync/recent?limit=201", "limit must be an integer from 1 to 200."},
		{"/api/v1/users/lee/sync/runs?limit=201", "limit must be an integer from 1 to 200."},
		{"/api/v1/users/lee/sync/runs?limit=1.5", "limit must be an integer from 1 to 200."},
		{"/api/v1/users/lee/sync/stream?replay=0", "replay must be an integer from 1 to 200."},
		{"/api/v1/users/lee/sync/stream?replay=201", "replay must be an integer from 1 to 200."},
	} {
		r := ts.do("GET", c.path, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 || r.detail(t) != c.detail {
			t.Errorf("%s: %d %s", c.path, r.status, r.body)
		}
	}
}

func TestSyncStatusUnknownUserAndAuth(t *testing.T) {
	ts := startServer(t, nil)
	ts.postBatch("known", fixture(t, "malformed_payload_debug__valid.json"))
	tok := ts.token("known")
	for _, route := range []string{"sync/recent", "sync/runs", "sync/stream"} {
		r := ts.do("GET", "/api/v1/users/ghost/"+route, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 404 || r.detail(t) != "User not found" {
			t.Errorf("%s of an unknown user: %d %s", route, r.status, r.body)
		}
		r = ts.do("GET", "/api/v1/users/bad%20id/"+route, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 {
			t.Errorf("%s of an invalid user id: %d %s", route, r.status, r.body)
		}
		if r := ts.do("GET", "/api/v1/users/known/"+route, nil); r.status != 401 {
			t.Errorf("%s without credentials: %d %s", route, r.status, r.body)
		}
		if r := ts.do("GET", "/api/v1/users/known/"+route, nil, "Authorization", "Bearer "+tok); r.status != 401 {
			t.Errorf("%s with an SDK token: %d %s", route, r.status, r.body)
		}
		if r := ts.do("GET", "/api/v1/users/known/"+route, nil, "X-Open-Wearables-API-Key", "sk-00000000000000000000000000000000"); r.status != 401 {
			t.Errorf("%s with an unknown key: %d %s", route, r.status, r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/sync/runs", nil); r.status != 401 {
		t.Errorf("all runs without credentials: %d", r.status)
	}
	if r := ts.do("POST", "/api/v1/users/known/sync/runs", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 405 {
		t.Errorf("POST to a read route: %d", r.status)
	}
}

// Runs last updated more than 30 days ago are not listed.
func TestSyncStatusRetention(t *testing.T) {
	var offset atomic.Int64 // how far in the past the write path's clock is
	ts := startServer(t, func(o *app.Options) {
		o.Ingest.Now = func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }
	})
	body := fixture(t, "malformed_payload_debug__valid.json")
	offset.Store(int64(31 * 24 * time.Hour))
	ts.postBatch("old", body)
	ts.postBatch("ret", body)
	offset.Store(0)
	fresh := ts.postBatch("ret", bytes.Replace(body, []byte(`"rec-1"`), []byte(`"rec-2"`), 1))

	if runs := ts.syncList("/api/v1/users/ret/sync/runs"); len(runs) != 1 || runs[0]["run_id"] != fresh {
		t.Errorf("runs %v, want only the fresh one", runs)
	}
	if evs := ts.syncList("/api/v1/users/ret/sync/recent"); len(evs) != 1 || evs[0]["run_id"] != fresh {
		t.Errorf("events %v, want only the fresh run's", stages(evs))
	}
	if runs := ts.syncList("/api/v1/users/old/sync/runs"); len(runs) != 0 {
		t.Errorf("old runs listed: %v", runs)
	}
	if runs := ts.syncList("/api/v1/sync/runs"); len(runs) != 1 {
		t.Errorf("all runs %v, want only the fresh one", runs)
	}
	// Indexed now, the old runs were updated now: they are listed again.
	ts.indexAll()
	if runs := ts.syncList("/api/v1/sync/runs"); len(runs) != 3 {
		t.Errorf("after indexing: %d runs, want 3", len(runs))
	}
}

// sseFrame is one Server-Sent Events frame.
type sseFrame struct {
	comment string
	event   string
	data    map[string]any
}

type sseStream struct {
	t      *testing.T
	res    *http.Response
	frames chan sseFrame
	cancel context.CancelFunc
}

// openStream connects to a user's sync status stream.
func (ts *testServer) openStream(user, query string) *sseStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.base+"/api/v1/users/"+user+"/sync/stream?"+query, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		cancel()
		ts.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		cancel()
		ts.t.Fatalf("stream: %d %s", res.StatusCode, b)
	}
	st := &sseStream{t: ts.t, res: res, frames: make(chan sseFrame, 64), cancel: cancel}
	go func() {
		defer close(st.frames)
		br := bufio.NewReader(res.Body)
		var f sseFrame
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				st.frames <- f
				f = sseFrame{}
			case strings.HasPrefix(line, ": "):
				f.comment = line[2:]
			case strings.HasPrefix(line, "event: "):
				f.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &f.data); err != nil {
					f.comment = "bad data: " + line
				}
			default:
				f.comment = "unexpected line: " + line
			}
		}
	}()
	ts.t.Cleanup(st.close)
	return st
}

func (st *sseStream) close() {
	st.cancel()
	st.res.Body.Close()
}

// next returns the next frame, failing after a generous wait.
func (st *sseStream) next() sseFrame {
	st.t.Helper()
	select {
	case f, ok := <-st.frames:
		if !ok {
			st.t.Fatal("stream ended")
		}
		return f
	case <-time.After(10 * time.Second):
		st.t.Fatal("no frame within 10s")
	}
	return sseFrame{}
}

// nextEvent returns the next event, skipping heartbeats.
func (st *sseStream) nextEvent() map[string]any {
	st.t.Helper()
	for {
		f := st.next()
		if f.comment == "heartbeat" {
			continue
		}
		if f.event != "sync.status" || f.data == nil {
			st.t.Fatalf("frame %+v, want a sync.status event", f)
		}
		return f.data
	}
}

func TestSyncStream(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "malformed_payload_debug__valid.json")
	a := ts.postBatch("sia", body)
	ts.postBatch("other", body)

	st := ts.openStream("sia", "replay=5")
	h := st.res.Header
	if h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache, no-transform" ||
		h.Get("X-Accel-Buffering") != "no" {
		t.Errorf("headers %v", h)
	}
	if f := st.next(); f.comment != "connected" || f.event != "" {
		t.Fatalf("first frame %+v, want the connected comment", f)
	}
	if e := st.nextEvent(); e["run_id"] != a || e["stage"] != "queued" {
		t.Fatalf("replayed %v, want %s queued", e, a)
	}

	// Live: a new batch is seen queued, then both complete.
	b := ts.postBatch("sia", bytes.Replace(body, []byte(`"rec-1"`), []byte(`"rec-2"`), 1))
	if e := st.nextEvent(); e["run_id"] != b || e["stage"] != "queued" || e["user_id"] != "sia" {
		t.Fatalf("live %v, want %s queued", e, b)
	}
	ts.indexAll()
	var got []string
	for range 4 {
		e := st.nextEvent()
		got = append(got, e["run_id"].(string)[:4]+":"+e["stage"].(string))
	}
	want := []string{a[:4] + ":started", a[:4] + ":completed", b[:4] + ":started", b[:4] + ":completed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("live events %v, want %v", got, want)
	}
	// What the stream sent is what the list holds.
	evs := ts.syncList("/api/v1/users/sia/sync/recent?limit=1")
	if evs[0]["run_id"] != b || evs[0]["stage"] != "completed" {
		t.Errorf("recent %v", evs)
	}

	// A new stream replays the last events oldest first.
	st2 := ts.openStream("sia", "replay=3")
	st2.next()
	got = nil
	for range 3 {
		e := st2.nextEvent()
		got = append(got, e["run_id"].(string)[:4]+":"+e["stage"].(string))
	}
	want = []string{a[:4] + ":completed", b[:4] + ":started", b[:4] + ":completed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replay %v, want %v", got, want)
	}

	// HEAD answers the headers and does not hold a stream open.
	req, _ := http.NewRequest("HEAD", ts.base+"/api/v1/users/sia/sync/stream", nil)
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	res, err := ts.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD: %d %v", res.StatusCode, res.Header)
	}
	waitFor(t, "HEAD released its subscription", func() bool { return ts.app.Ingest.Events().Subscribers() == 2 })
}

func TestSyncStreamHeartbeat(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.HTTP.SSEHeartbeat = 50 * time.Millisecond })
	ts.postBatch("hal", fixture(t, "malformed_payload_debug__valid.json"))
	st := ts.openStream("hal", "")
	if f := st.next(); f.comment != "connected" {
		t.Fatalf("first frame %+v", f)
	}
	st.nextEvent() // the replay
	for range 2 {
		if f := st.next(); f.comment != "heartbeat" || f.event != "" {
			t.Fatalf("frame %+v, want a heartbeat", f)
		}
	}
}

// waitFor polls cond with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A stream ends when its client goes away: its subscription is released.
func TestSyncStreamEndsWhenClientGoes(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.HTTP.SSEHeartbeat = 20 * time.Millisecond })
	ts.postBatch("cat", fixture(t, "malformed_payload_debug__valid.json"))
	st := ts.openStream("cat", "")
	st.next()
	events := ts.app.Ingest.Events()
	if events.Subscribers() != 1 {
		t.Fatalf("%d subscribers, want 1", events.Subscribers())
	}
	st.close()
	waitFor(t, "stream released after the client left", func() bool { return events.Subscribers() == 0 })
}

// Shutdown ends open streams rather than waiting for them.
func TestSyncStreamEndsOnShutdown(t *testing.T) {
	ts := startServer(t, nil)
	ts.postBatch("sol", fixture(t, "malformed_payload_debug__valid.json"))
	st := ts.openStream("sol", "")
	st.next()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.app.HTTP.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	for f := range st.frames {
		if f.event != "" || (f.comment != "heartbeat" && f.comment != "connected") {
			if f.event != "sync.status" {
				t.Errorf("unexpected frame %+v", f)
			}
		}
	}
	if n := ts.app.Ingest.Events().Subscribers(); n != 0 {
		t.Errorf("%d subscribers after shutdown", n)
	}
}
