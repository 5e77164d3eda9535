package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// scoreList reads a user's health scores as "category recorded_at value
// components".
func scoreList(t *testing.T, ts *testServer, user string, q url.Values) (rows []string, page map[string]any) {
	t.Helper()
	page = ts.get("/api/v1/users/"+user+"/health-scores", q)
	for _, d := range page["data"].([]any) {
		m := d.(map[string]any)
		var parts []string
		comps := m["components"].(map[string]any)
		for _, k := range []string{"duration", "stages", "consistency", "interruptions", "days_counted", "resilience_score"} {
			if c, ok := comps[k].(map[string]any); ok {
				parts = append(parts, fmt.Sprint(c["value"]))
			}
		}
		if m["provider"] != "internal" || m["qualifier"] != nil || m["zone_offset"] != nil {
			t.Errorf("score %v", m)
		}
		rows = append(rows, fmt.Sprintf("%s %s %v %s", m["category"], m["recorded_at"], m["value"], strings.Join(parts, "/")))
	}
	return rows, page
}

func sameRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSleepScoresOfFixtures syncs Open Wearables' sleep fixtures and reads
// their scores back, worked out by hand from its algorithm.
func TestSleepScoresOfFixtures(t *testing.T) {
	ts := startIndexing(t)
	ts.post("detailed", "sleep_service__DETAILED_STAGES_PAYLOAD.json")
	ts.post("oldwatch", "sleep_service__OLD_WATCH_PAYLOAD.json")
	ts.indexed()

	// The detailed night (no zone offset): in_bed is dropped for the
	// detailed stages, 22:15 to 05:45 UTC. Light 180, deep 155, rem 105
	// minutes: 440 asleep, 7.33 h: duration 100; stages 100; the first
	// night has no history: consistency 0; 10 minutes awake in one
	// awakening: interruptions 100. 0.4 + 0.2 + 0 + 0.2: 80.
	rows, page := scoreList(t, ts, "detailed", nil)
	sameRows(t, "detailed", rows, []string{"sleep 2026-03-11T05:45:00Z 80 100/100/0/100"})
	// Its data source is that of the detailed stages, the watch.
	var watch string
	for _, d := range ts.get("/api/v1/users/detailed/data-sources", nil)["items"].([]any) {
		if m := d.(map[string]any); m["device_model"] == "Watch7,1" {
			watch = m["id"].(string)
		}
	}
	if s := page["data"].([]any)[0].(map[string]any); watch == "" || s["data_source_id"] != watch {
		t.Errorf("data source %v, want the watch's %q", s["data_source_id"], watch)
	}

	// The old watch records only "sleeping": 50 + 53 + 43 = 146 minutes,
	// 2.43 h: 100 × (1 + e^−3) / (1 + e^(−1.5 × (2.43 − 5))) = 2.19: 2;
	// no deep or rem: 0; no history: 0; no awake stage: 100.
	// 0.02 × 0.4 + 0 + 0 + 1 × 0.2 = 0.208: 20.
	rows, _ = scoreList(t, ts, "oldwatch", nil)
	sameRows(t, "old watch", rows, []string{"sleep 2026-03-11T01:30:00Z 20 2/0/0/100"})
}

// hrvWeek is a Health Connect user's six nights (at +02:00) with RMSSD
// during each.
func hrvWeek() []byte {
	src := `{"deviceModel":"Pixel Watch 2","name":"Pixel Watch 2"}`
	var sleep, recs []string
	stage := func(id, st string, from, to time.Time) {
		sleep = append(sleep, fmt.Sprintf(`{"id":%q,"stage":%q,"startDate":%q,"endDate":%q,"zoneOffset":"+02:00","source":%s}`,
			id, st, from.Format(time.RFC3339), to.Format(time.RFC3339), src))
	}
	for k, v := range []float64{30, 40, 50, 60, 70, 45} {
		bed := time.Date(2026, 3, 1+k, 23, 0, 0, 0, time.UTC)
		stage(fmt.Sprintf("l%d", k), "light", bed, bed.Add(4*time.Hour))
		stage(fmt.Sprintf("d%d", k), "deep", bed.Add(4*time.Hour), bed.Add(7*time.Hour))
		at := bed.Add(3 * time.Hour)
		recs = append(recs, recordJSON(fmt.Sprintf("h%d", k), "HEART_RATE_VARIABILITY", at, at, v, "+02:00", "Pixel Watch 2"))
		// Awake, in the afternoon: not counted.
		day := bed.Add(15 * time.Hour)
		recs = append(recs, recordJSON(fmt.Sprintf("x%d", k), "HEART_RATE_VARIABILITY", day, day, 500, "+02:00", "Pixel Watch 2"))
	}
	return []byte(fmt.Sprintf(`{"provider":"google","sdkVersion":"1.0.0","syncTimestamp":"2026-03-08T00:00:00Z",`+
		`"data":{"records":[%s],"sleep":[%s]}}`, strings.Join(recs, ","), strings.Join(sleep, ",")))
}

// TestHealthScoresOfAWeek syncs six nights of Health Connect sleep and
// RMSSD and reads back the sleep and resilience scores, worked out by hand
// from Open Wearables' algorithms.
//
// Each night is 23:00 to 06:00 UTC (01:00 to 08:00 local, recorded at the
// local end written as UTC): 420 minutes asleep, 7 h: duration 100; deep
// 180: 100, rem none: 0, stages 50; no awake time: 100. The first night
// has no history: consistency 0, 0.4 + 0.1 + 0 + 0.2 = 0.7: 70. The others
// start at the median of the earlier bedtimes: 100, and 0.4 + 0.1 + 0.2 +
// 0.2 evaluates to 0.8999999999999999 in floats, so 89.
//
// RMSSD at 02:00 UTC of March 2 to 7: 30, 40, 50, 60, 70, 45. Resilience
// of day D reads D−7 to D−1:
//
//	March 7:  30 40 50 60 70      mean 50, sd 15.811, CV 0.316228: 100 × (40 − 31.62) / 33 = 25.39: 25
//	March 8:  30 40 50 60 70 45   mean 49.17, sd 14.289, CV 0.290617: 33.15: 33
//	March 9:  the same six days
//	March 10: 40 50 60 70 45      mean 53, sd √145 = 12.042, CV 0.227200: 52.36: 52
//
// March 11 has four days: no score.
func TestHealthScoresOfAWeek(t *testing.T) {
	ts := startIndexing(t)
	ts.postBody("hc", hrvWeek())
	ts.indexed()

	all := []string{
		"resilience 2026-03-10T00:00:00Z 0.227 5/52",
		"resilience 2026-03-09T00:00:00Z 0.291 6/33",
		"resilience 2026-03-08T00:00:00Z 0.291 6/33",
		"sleep 2026-03-07T08:00:00Z 89 100/50/100/100",
		"resilience 2026-03-07T00:00:00Z 0.316 5/25",
		"sleep 2026-03-06T08:00:00Z 89 100/50/100/100",
		"sleep 2026-03-05T08:00:00Z 89 100/50/100/100",
		"sleep 2026-03-04T08:00:00Z 89 100/50/100/100",
		"sleep 2026-03-03T08:00:00Z 89 100/50/100/100",
		"sleep 2026-03-02T08:00:00Z 70 100/50/0/100",
	}
	rows, page := scoreList(t, ts, "hc", nil)
	sameRows(t, "all", rows, all)
	want := `{"has_more":false,"next_cursor":null,"previous_cursor":null,"total_count":10}`
	if b, _ := json.Marshal(page["pagination"]); string(b) != want {
		t.Errorf("pagination %s, want %s", b, want)
	}
	if b, _ := json.Marshal(page["metadata"]); string(b) != `{"end_time":null,"resolution":null,"sample_count":10,"start_time":null}` {
		t.Errorf("metadata %s", b)
	}

	rows, page = scoreList(t, ts, "hc", url.Values{"category": {"resilience"}, "limit": {"2"}, "offset": {"1"}})
	sameRows(t, "resilience, a page", rows, []string{all[1], all[2]})
	if p := page["pagination"].(map[string]any); p["has_more"] != true || p["total_count"] != 4.0 {
		t.Errorf("pagination %v", p)
	}
	// A window of dates: the end date counts whole.
	rows, _ = scoreList(t, ts, "hc", url.Values{"start_date": {"2026-03-06"}, "end_date": {"2026-03-07"}})
	sameRows(t, "March 6 and 7", rows, all[3:6])
	rows, _ = scoreList(t, ts, "hc", url.Values{"category": {"sleep"}, "provider": {"internal"}, "limit": {"1"}})
	sameRows(t, "the latest sleep score", rows, all[3:4])
	for _, q := range []url.Values{{"provider": {"google"}}, {"category": {"readiness"}}} {
		if rows, page := scoreList(t, ts, "hc", q); len(rows) != 0 || page["pagination"].(map[string]any)["total_count"] != 0.0 {
			t.Errorf("%v: %v", q, rows)
		}
	}
	if rows, _ := scoreList(t, ts, "nobody", nil); len(rows) != 0 {
		t.Errorf("an unknown user has scores: %v", rows)
	}

	for _, q := range []string{"category=sleepy", "provider=fitbitx", "limit=0", "limit=1001", "offset=-1", "offset=x",
		"start_date=2026-03-08&end_date=2026-03-07", "start_date=tomorrow"} {
		r := ts.do("GET", "/api/v1/users/hc/health-scores?"+q, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 || r.detail(t) == "" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestMenstrualCycles(t *testing.T) {
	ts := startIndexing(t)
	ts.postBody("mc", hrvWeek())
	ts.indexed()
	path := "/api/v1/users/mc/events/menstrual-cycles"
	page := ts.get(path, url.Values{"start_date": {"2026-03-01"}, "end_date": {"2026-04-01"}})
	b, _ := json.Marshal(page)
	want := `{"data":[],"metadata":{"end_time":null,"resolution":null,"sample_count":0,"start_time":"2026-03-01T00:00:00Z"},` +
		`"pagination":{"has_more":false,"next_cursor":null,"previous_cursor":null,"total_count":0}}`
	if string(b) != want {
		t.Errorf("%s\nwant %s", b, want)
	}
	for _, q := range []string{"start_date=2026-03-01", "end_date=2026-04-01", "start_date=2026-03-01&end_date=2026-04-01&limit=101",
		"start_date=2026-03-01&end_date=2026-04-01&cursor=nonsense"} {
		if r := ts.do("GET", path+"?"+q, nil, "X-Open-Wearables-API-Key", adminKey); r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	r := ts.do("DELETE", path+"/0b5c4f7e-2a41-4c8e-9d3f-6e1a2b3c4d5e", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != 404 || r.detail(t) != "Menstrual cycle record not found" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
}
