package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"wearhouse/app"
)

// startIndexing starts a server whose compactor runs.
func startIndexing(t *testing.T) *testServer {
	return startServer(t, func(o *app.Options) { o.Compactor.Paused = false })
}

// indexed waits until every acknowledged batch is indexed.
func (ts *testServer) indexed() {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.app.Compactor.WaitIndexed(ctx, ts.app.Ingest.Watermark()); err != nil {
		ts.t.Fatalf("compactor did not catch up: %v", err)
	}
}

func (ts *testServer) get(path string, q url.Values) map[string]any {
	ts.t.Helper()
	r := ts.do("GET", path+"?"+q.Encode(), nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != 200 {
		ts.t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), r.status, r.body)
	}
	return r.json(ts.t)
}

func (ts *testServer) post(user, name string) {
	ts.t.Helper()
	if r := ts.asAdmin(user, fixture(ts.t, name)); r.status != 202 {
		ts.t.Fatalf("post %s: %d %s", name, r.status, r.body)
	}
}

func series(ts *testServer, user string, extra url.Values) []map[string]any {
	ts.t.Helper()
	q := url.Values{"start_time": {"2020-01-01"}, "end_time": {"2030-01-01"}, "limit": {"1000"}}
	for k, v := range extra {
		q[k] = v
	}
	var out []map[string]any
	for _, d := range ts.get("/api/v1/users/"+user+"/timeseries", q)["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestUnitConversionsReadBack(t *testing.T) {
	ts := startIndexing(t)
	cases := []struct {
		fixture, typ, unit string
		value              float64
	}{
		{"apple_sdk_import__TestSDKImportUnitConversion__apple_body_fat_ratio.json", "body_fat_percentage", "percent", 30.4},
		{"apple_sdk_import__TestSDKImportUnitConversion__apple_height_m.json", "height", "cm", 175.26},
		{"apple_sdk_import__TestSDKImportUnitConversion__samsung_glucose_mmol_L.json", "blood_glucose", "mg_dl", 110.1092202},
	}
	for i, c := range cases {
		user := fmt.Sprintf("units-%d", i)
		ts.post(user, c.fixture)
		ts.indexed()
		got := series(ts, user, url.Values{"types": {c.typ}})
		if len(got) != 1 {
			t.Fatalf("%s: %d samples", c.typ, len(got))
		}
		if v := got[0]["value"].(float64); !near(v, c.value) || got[0]["unit"] != c.unit {
			t.Errorf("%s: %v %v, want %v %s", c.typ, v, got[0]["unit"], c.value, c.unit)
		}
	}
}

func TestSeedReadBack(t *testing.T) {
	ts := startIndexing(t)
	ts.post("seed", "sync_request__SyncRequest_json_schema_example.json")
	ts.indexed()
	bp := series(ts, "seed", url.Values{"types": {"blood_pressure_systolic"}})
	if len(bp) != 1 || bp[0]["value"] != 122.0 || bp[0]["unit"] != "mmHg" || bp[0]["timestamp"] != "2026-02-24T08:30:00Z" ||
		bp[0]["zone_offset"] != "+01:00" {
		t.Fatalf("systolic: %v", bp)
	}
	src := bp[0]["source"].(map[string]any)
	if src["provider"] != "samsung" || src["device"] != "SM-R960" || src["source"] != "Galaxy Watch7" {
		t.Errorf("source %v", src)
	}

	list := ts.get("/api/v1/users/seed/events/workouts", url.Values{"start_date": {"2026-02-24"}, "end_date": {"2026-02-25"}})["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("%d workouts", len(list))
	}
	w := list[0].(map[string]any)
	want := map[string]any{"type": "running", "duration_seconds": 2700.0, "calories_kcal": 345.5, "distance_meters": 5234.0,
		"avg_heart_rate_bpm": 142.0, "max_heart_rate_bpm": 178.0, "start_time": "2026-02-24T06:00:00Z", "end_time": "2026-02-24T06:45:00Z"}
	for k, v := range want {
		if w[k] != v {
			t.Errorf("workout %s = %v, want %v", k, w[k], v)
		}
	}
	d := ts.get("/api/v1/users/seed/events/workouts/"+w["id"].(string), nil)
	if d["notes"] != "Morning run in the park" || len(d["route"].([]any)) != 1 || len(d["samples"].([]any)) != 3 {
		t.Errorf("detail: notes %v, route %v, samples %v", d["notes"], d["route"], d["samples"])
	}
	if p, ok := d["avg_pace_sec_per_km"].(float64); !ok || !near(p, math.Round(2700/5.234*100)/100) {
		t.Errorf("pace %v", d["avg_pace_sec_per_km"])
	}
	route := d["route"].([]any)[0].(map[string]any)
	if route["latitude"] == nil || route["longitude"] == nil {
		t.Errorf("route point %v", route)
	}
	// Statistics that become series: vo2Max at the workout's end.
	if vo2 := series(ts, "seed", url.Values{"types": {"vo2_max"}}); len(vo2) != 1 || vo2[0]["timestamp"] != "2026-02-24T06:45:00Z" {
		t.Errorf("vo2_max from the workout: %v", vo2)
	}
	if r := ts.do("GET", "/api/v1/users/seed/events/workouts/00ff", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 {
		t.Errorf("unknown workout: %d", r.status)
	}
	ready := ts.do("GET", "/readyz", nil).json(t)
	c, _ := ready["compactor"].(map[string]any)
	// The seed holds one record (series samples of its workout are not counted).
	if ready["status"] != "ready" || c["lag_batches"] != 0.0 || c["indexed_batches"] != 1.0 || c["indexed_records"] != 1.0 {
		t.Errorf("readyz %v", ready)
	}
}

func TestWorkoutDurationEnergyAndSteps(t *testing.T) {
	ts := startIndexing(t)
	for _, f := range []string{"apple_sdk_import__sample_sdk_payload.json", "apple_sdk_import__test_import_workout_with_fractional_steps.json",
		"apple_sdk_import__test_import_workout_with_zero_duration.json"} {
		ts.post("w", f)
	}
	ts.indexed()
	list := ts.get("/api/v1/users/w/events/workouts", url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}})["data"].([]any)
	if len(list) != 3 {
		t.Fatalf("%d workouts", len(list))
	}
	byType := map[string]map[string]any{}
	for _, x := range list {
		m := x.(map[string]any)
		if m["start_time"] != "2025-02-10T10:00:00Z" { // the other walk
			byType[m["type"].(string)] = m
		}
	}
	// Newest first.
	if list[0].(map[string]any)["start_time"].(string) < list[1].(map[string]any)["start_time"].(string) {
		t.Errorf("workouts not newest first")
	}
	walk := byType["walking"]
	if walk == nil || walk["duration_seconds"] != 1683.0 || walk["calories_kcal"] != 180.0 {
		// 1683.27 s truncated; energy = 131.41 active + 48.59 basal.
		t.Errorf("walking: %v", walk)
	}
	yoga := byType["yoga"]
	if yoga == nil || yoga["duration_seconds"] != 1800.0 || yoga["calories_kcal"] != nil {
		// No duration statistic: from the dates; empty values: energy 0, shown as null.
		t.Errorf("yoga: %v", yoga)
	}
	var steps *map[string]any
	for _, x := range list {
		m := x.(map[string]any)
		if m["start_time"] == "2025-02-10T10:00:00Z" {
			steps = &m
		}
	}
	if steps == nil {
		t.Fatal("fractional-steps workout missing")
	}
	d := ts.get("/api/v1/users/w/events/workouts/"+(*steps)["id"].(string), nil)
	if det := d["details"].(map[string]any); det["steps_count"] != 2981.0 {
		t.Errorf("steps %v, want 2981 (truncated)", det["steps_count"])
	}
	if r := ts.get("/api/v1/users/w/events/workouts", url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}, "record_type": {"YOG"}}); len(r["data"].([]any)) != 1 {
		t.Errorf("record_type filter: %v", r["data"])
	}
}

func TestSleepSessionReadBack(t *testing.T) {
	ts := startIndexing(t)
	ts.post("sleeper", "sleep_service__DETAILED_STAGES_PAYLOAD.json")
	ts.post("old", "sleep_service__OLD_WATCH_PAYLOAD.json")
	ts.indexed()
	q := url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}}
	list := ts.get("/api/v1/users/sleeper/events/sleep", q)["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("%d sessions", len(list))
	}
	s := list[0].(map[string]any)
	st := s["stages"].(map[string]any)
	if s["start_time"] != "2026-03-10T22:15:00Z" || s["end_time"] != "2026-03-11T05:45:00Z" ||
		st["light_minutes"] != 180.0 || st["deep_minutes"] != 155.0 || st["rem_minutes"] != 105.0 || st["awake_minutes"] != 10.0 ||
		s["sleep_duration_seconds"] != 440.0*60 || s["time_in_bed_minutes"] != 480.0 || s["efficiency_percent"] != 91.67 {
		t.Errorf("session %v", s)
	}
	if src := s["source"].(map[string]any); src["device_type"] != "watch" {
		t.Errorf("the session's source is not the watch of its detailed stages: %v", src)
	}
	old := ts.get("/api/v1/users/old/events/sleep", q)["data"].([]any)
	if len(old) != 1 {
		t.Fatalf("old watch: %d sessions", len(old))
	}
	o := old[0].(map[string]any)
	if o["sleep_duration_seconds"] != 146.0*60 || o["time_in_bed_minutes"] != 160.0 || o["stages"].(map[string]any)["deep_minutes"] != 0.0 {
		t.Errorf("old watch session %v", o)
	}
}

func TestReplaysChangeNothingAndCorrectionsReplace(t *testing.T) {
	ts := startIndexing(t)
	body := fixture(t, "apple_sdk_import__sample_sdk_payload.json")
	ts.asAdmin("r", body)
	ts.indexed()
	before := ts.do("GET", "/api/v1/users/r/timeseries?start_time=2020-01-01&end_time=2030-01-01&limit=1000", nil, "X-Open-Wearables-API-Key", adminKey).body
	// A byte-identical replay is not even queued; a re-encoded one (same
	// items, other bytes) is queued and indexed again, and must change
	// nothing.
	ts.asAdmin("r", body)
	ts.asAdmin("r", append(bytes.Clone(body), '\n'))
	ts.indexed()
	after := ts.do("GET", "/api/v1/users/r/timeseries?start_time=2020-01-01&end_time=2030-01-01&limit=1000", nil, "X-Open-Wearables-API-Key", adminKey).body
	if !bytes.Equal(before, after) {
		t.Errorf("a replay changed the series:\n%s\n%s", before, after)
	}
	wq := url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}}
	if n := len(ts.get("/api/v1/users/r/events/workouts", wq)["data"].([]any)); n != 1 {
		t.Errorf("%d workouts after replays", n)
	}
	// A corrected workout (same source and dates, new statistics) replaces
	// the stored one.
	corrected := bytes.Replace(body, []byte(`"value": 131.41`), []byte(`"value": 231.41`), 1)
	if bytes.Equal(corrected, body) {
		t.Fatal("fixture changed: nothing to correct")
	}
	ts.asAdmin("r", corrected)
	ts.indexed()
	ws := ts.get("/api/v1/users/r/events/workouts", wq)["data"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["calories_kcal"] != 280.0 {
		t.Errorf("corrected workout: %v", ws)
	}
}

func TestResolutionBucketsAndPagination(t *testing.T) {
	ts := startIndexing(t)
	var b strings.Builder
	b.WriteString(`{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[`)
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	for i := 0; i < 180; i++ { // three minutes of 1 Hz heart rate: 60+i%10
		ts := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		if n > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"hr-%d","type":"HEART_RATE","startDate":"%s","endDate":"%s","value":%d,"unit":"bpm","source":{"deviceModel":"Pixel Watch 2"}}`, i, ts, ts, 60+i%10)
		n++
	}
	for i := 0; i < 3; i++ { // steps: 10, 20, 30 in the first minute
		ts := base.Add(time.Duration(i*10) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&b, `,{"id":"st-%d","type":"STEP_COUNT","startDate":"%s","endDate":"%s","value":%d,"unit":"count","source":{"deviceModel":"Pixel Watch 2"}}`, i, ts, ts, 10*(i+1))
	}
	fmt.Fprintf(&b, `,{"id":"x","type":"SOMETHING_NEW","startDate":"%s","endDate":"%s","value":7,"unit":"zz"}`, base.Format(time.RFC3339), base.Format(time.RFC3339))
	b.WriteString(`]}}`)
	if r := ts.asAdmin("res", []byte(b.String())); r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	ts.indexed()
	hr := series(ts, "res", url.Values{"types": {"heart_rate"}, "resolution": {"1min"}})
	if len(hr) != 3 {
		t.Fatalf("%d heart rate buckets: %v", len(hr), series(ts, "res", nil))
	}
	for i, bk := range hr {
		if bk["value"] != 64.5 || bk["min"] != 60.0 || bk["max"] != 69.0 || bk["sample_count"] != 60.0 ||
			bk["timestamp"] != base.Add(time.Duration(i)*time.Minute).Format(time.RFC3339) {
			t.Errorf("bucket %d: %v", i, bk)
		}
	}
	if st := series(ts, "res", url.Values{"types": {"steps"}, "resolution": {"1hour"}}); len(st) != 1 || st[0]["value"] != 60.0 {
		t.Errorf("steps summed per hour: %v", st)
	}
	if raw := series(ts, "res", url.Values{"types": {"heart_rate"}}); len(raw) != 180 || raw[5]["value"] != 65.0 {
		t.Errorf("raw: %d samples", len(raw))
	}
	if un := series(ts, "res", url.Values{"types": {"SOMETHING_NEW"}}); len(un) != 1 || un[0]["unit"] != "zz" || un[0]["value"] != 7.0 {
		t.Errorf("unmapped type: %v", un)
	}
	// Pages of 50 walk all 184 samples once, in order.
	q := url.Values{"start_time": {"2026-01-01"}, "end_time": {"2026-01-02"}, "limit": {"50"}}
	seen, pages := 0, 0
	last := ""
	for {
		page := ts.get("/api/v1/users/res/timeseries", q)
		pg := page["pagination"].(map[string]any)
		if pg["total_count"] != 184.0 {
			t.Fatalf("total_count %v", pg["total_count"])
		}
		for _, d := range page["data"].([]any) {
			stamp := d.(map[string]any)["timestamp"].(string)
			if stamp < last {
				t.Fatalf("out of order: %s after %s", stamp, last)
			}
			last = stamp
			seen++
		}
		pages++
		if pg["has_more"] != true {
			break
		}
		q.Set("cursor", pg["next_cursor"].(string))
	}
	if seen != 184 || pages != 4 {
		t.Errorf("paged %d samples in %d pages, want 184 in 4", seen, pages)
	}
}

func TestReadAuthAndParameters(t *testing.T) {
	ts := startIndexing(t)
	ts.post("p", "malformed_payload_debug__valid.json")
	tok := ts.token("p")
	path := "/api/v1/users/p/timeseries?start_time=2020-01-01&end_time=2030-01-01"
	if r := ts.do("GET", path, nil); r.status != 401 {
		t.Errorf("no credentials: %d", r.status)
	}
	if r := ts.do("GET", path, nil, "Authorization", "Bearer "+tok); r.status != 401 {
		t.Errorf("an SDK token reads: %d", r.status)
	}
	if r := ts.do("GET", "/api/v1/users/p/timeseries?start_time=yesterday&end_time=2030-01-01", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 400 ||
		!strings.Contains(r.detail(t), "Invalid datetime format") {
		t.Errorf("bad time: %d %s", r.status, r.body)
	}
	if r := ts.do("GET", path+"&resolution=2min", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 400 {
		t.Errorf("bad resolution: %d", r.status)
	}
	if r := ts.do("GET", path+"&cursor=%21%21", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
	// An unknown user reads as empty, as Open Wearables.
	empty := ts.get("/api/v1/users/nobody/timeseries", url.Values{"start_time": {"2020-01-01"}, "end_time": {"2030-01-01"}})
	if len(empty["data"].([]any)) != 0 {
		t.Errorf("unknown user has data")
	}
	// Unix seconds are accepted, and the window is half-open.
	ts.ts(t, "p")
}

// ts checks the half-open window on the valid fixture's one record
// (2026-07-16T00:00:00Z).
func (ts *testServer) ts(t *testing.T, user string) {
	at := time.Date(2026, 7, 16, 0, 0, 0, 0, time.UTC).Unix()
	for _, c := range []struct {
		start, end int64
		want       int
	}{{at, at + 1, 1}, {at - 10, at, 0}, {at + 1, at + 10, 0}} {
		got := ts.get("/api/v1/users/"+user+"/timeseries", url.Values{"start_time": {fmt.Sprint(c.start)}, "end_time": {fmt.Sprint(c.end)}})
		if n := len(got["data"].([]any)); n != c.want {
			t.Errorf("[%d, %d): %d samples, want %d", c.start, c.end, n, c.want)
		}
	}
}

// TestEmptyEventPagesListNothing: a window without workouts or sleep lists
// [] as data, as the time series do, not null.
func TestEmptyEventPagesListNothing(t *testing.T) {
	ts := startServer(t, nil)
	id := adminDo(t, ts, "POST", "/api/v1/users", []byte(`{"external_user_id":"empty-1"}`), 201).json(t)["id"].(string)
	for _, p := range []string{"/events/workouts", "/events/sleep"} {
		r := adminDo(t, ts, "GET", "/api/v1/users/"+id+p+"?start_date=2026-01-01&end_date=2026-02-01", nil, 200)
		if !bytes.Contains(r.body, []byte(`"data":[]`)) {
			t.Errorf("GET %s: %s", p, r.body)
		}
	}
}

// TestDailyBuckets: resolution=1day buckets by UTC day, with the min, max
// and count of each.
func TestDailyBuckets(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Compactor.Paused = false })
	rec := func(id string, at string, v int) string {
		return fmt.Sprintf(`{"id":%q,"type":"HKQuantityTypeIdentifierHeartRate","unit":"count/min","value":%d,"startDate":%q,"endDate":%q,`+
			`"source":{"name":"Watch","bundleIdentifier":"com.apple.health"}}`, id, v, at, at)
	}
	body := `{"provider":"apple","sdkVersion":"1.0.0","syncTimestamp":"2026-03-12T00:00:00Z","data":{"records":[` +
		rec("a", "2026-03-10T10:00:00Z", 60) + "," + rec("b", "2026-03-10T23:30:00Z", 80) + "," + rec("c", "2026-03-11T01:00:00Z", 100) + `]}}`
	adminDo(t, ts, "POST", "/api/v1/sdk/users/daily-1/sync", []byte(body), 202)
	ts.indexed()
	r := adminDo(t, ts, "GET", "/api/v1/users/daily-1/timeseries?start_time=2026-03-10&end_time=2026-03-12&types=heart_rate&resolution=1day", nil, 200)
	var page struct {
		Data []struct {
			Timestamp string  `json:"timestamp"`
			Value     float64 `json:"value"`
			Min, Max  float64
			Count     int `json:"sample_count"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].Timestamp != "2026-03-10T00:00:00Z" || page.Data[0].Value != 70 ||
		page.Data[0].Min != 60 || page.Data[0].Max != 80 || page.Data[0].Count != 2 ||
		page.Data[1].Timestamp != "2026-03-11T00:00:00Z" || page.Data[1].Value != 100 || page.Data[1].Count != 1 {
		t.Fatalf("daily buckets: %s", r.body)
	}
}
