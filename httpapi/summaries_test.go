package httpapi_test

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"
)

// recordJSON is one data.records[] item; zone "" sends no zoneOffset.
func recordJSON(id, typ string, start, end time.Time, value float64, zone, model string) string {
	z := ""
	if zone != "" {
		z = fmt.Sprintf(`,"zoneOffset":%q`, zone)
	}
	return fmt.Sprintf(`{"id":%q,"type":%q,"startDate":%q,"endDate":%q,"value":%v%s,"source":{"deviceModel":%q,"name":%q}}`,
		id, typ, start.Format(time.RFC3339), end.Format(time.RFC3339), value, z, model, model)
}

// syncBody wraps records and workouts into a sync request.
func syncBody(provider string, records, workouts []string) []byte {
	return []byte(fmt.Sprintf(`{"provider":%q,"sdkVersion":"1.0.0","syncTimestamp":"2026-03-01T00:00:00Z","data":{"records":[%s],"workouts":[%s]}}`,
		provider, strings.Join(records, ","), strings.Join(workouts, ",")))
}

func (ts *testServer) postBody(user string, body []byte) {
	ts.t.Helper()
	if r := ts.asAdmin(user, body); r.status != 202 {
		ts.t.Fatalf("sync: %d %s", r.status, r.body)
	}
}

func (ts *testServer) summaries(user, kind string, q url.Values) map[string]any {
	ts.t.Helper()
	return ts.get("/api/v1/users/"+user+"/summaries/"+kind, q)
}

func rows(page map[string]any) []map[string]any {
	var out []map[string]any
	for _, d := range page["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// TestActivitySummaryOfAMinuteLevelDay posts a day of minute-level steps
// and heart rate with energy, distance and floors, and checks the day's
// summary against sums computed here from the generator's own numbers.
func TestActivitySummaryOfAMinuteLevelDay(t *testing.T) {
	ts := startIndexing(t)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const watch = "Watch7,1"
	stepsAt := func(i int) int { return (i * 7) % 50 } // 0..49 steps in minute i
	hrAt := func(i int) int { return 60 + (i*13)%130 } // 60..189 bpm at the start of minute i
	var recs []string
	for i := 0; i < 1440; i++ {
		t0 := day.Add(time.Duration(i) * time.Minute)
		recs = append(recs,
			recordJSON(fmt.Sprintf("s%d", i), "STEP_COUNT", t0, t0.Add(time.Minute), float64(stepsAt(i)), "", watch),
			recordJSON(fmt.Sprintf("h%d", i), "HEART_RATE", t0, t0, float64(hrAt(i)), "", watch))
		if i%15 == 0 { // 96 × 2.5 kcal active
			recs = append(recs, recordJSON(fmt.Sprintf("e%d", i), "ACTIVE_CALORIES_BURNED", t0, t0.Add(15*time.Minute), 2.5, "", watch))
		}
		if i%60 == 0 { // 24 × 60 kcal basal
			recs = append(recs, recordJSON(fmt.Sprintf("b%d", i), "BASAL_METABOLIC_RATE", t0, t0.Add(time.Hour), 60, "", watch))
		}
		if i%10 == 0 { // 144 × 100 m walking
			recs = append(recs, recordJSON(fmt.Sprintf("d%d", i), "DISTANCE", t0, t0.Add(10*time.Minute), 100, "", watch))
		}
		if i%480 == 0 { // 3 × 2 floors
			recs = append(recs, recordJSON(fmt.Sprintf("f%d", i), "FLOORS_CLIMBED", t0, t0.Add(time.Minute), 2, "", watch))
		}
	}
	// A ride: cycling distance counts in the day's distance.
	ride := day.Add(17 * time.Hour)
	recs = append(recs, recordJSON("ride", "HKQuantityTypeIdentifierDistanceCycling", ride, ride.Add(30*time.Minute), 5000, "", watch))
	ts.postBody("act", syncBody("google", recs, nil))
	ts.indexed()

	// Expectations, from the generator.
	steps, active, sedentary := 0, 0, 0
	hrSum, hrMin, hrMax := 0, 1000, 0
	light, moderate, vigorous := 0, 0, 0
	for i := 0; i < 1440; i++ {
		steps += stepsAt(i)
		if stepsAt(i) >= 30 {
			active++
		} else {
			sedentary++
		}
		hr := hrAt(i)
		hrSum += hr
		hrMin, hrMax = min(hrMin, hr), max(hrMax, hr)
		// No birth date: maximum heart rate 190; light 95-119 bpm
		// (50-63 %), moderate 120-144 (to 76 %), vigorous above.
		switch {
		case hr >= 145:
			vigorous++
		case hr >= 120:
			moderate++
		case hr >= 95:
			light++
		}
	}
	got := rows(ts.summaries("act", "activity", url.Values{"start_date": {"2026-03-01"}, "end_date": {"2026-03-02"}}))
	if len(got) != 1 {
		t.Fatalf("%d days: %v", len(got), got)
	}
	d := got[0]
	want := map[string]any{
		"date": "2026-03-01", "steps": float64(steps), "active_minutes": float64(active), "sedentary_minutes": float64(sedentary),
		"active_calories_kcal": 240.0, "total_calories_kcal": 240.0 + 1440.0, "distance_meters": 14400.0 + 5000.0,
		"floors_climbed": 6.0, "elevation_meters": nil,
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	hr := d["heart_rate"].(map[string]any)
	if hr["avg_bpm"] != math.Round(float64(hrSum)/1440) || hr["min_bpm"] != float64(hrMin) || hr["max_bpm"] != float64(hrMax) {
		t.Errorf("heart_rate %v, want avg %v min %d max %d", hr, math.Round(float64(hrSum)/1440), hrMin, hrMax)
	}
	im := d["intensity_minutes"].(map[string]any)
	if im["light"] != float64(light) || im["moderate"] != float64(moderate) || im["vigorous"] != float64(vigorous) {
		t.Errorf("intensity_minutes %v, want %d/%d/%d", im, light, moderate, vigorous)
	}
	if src := d["source"].(map[string]any); src["provider"] != "google" || src["device"] != watch || src["device_type"] != "watch" {
		t.Errorf("source %v", src)
	}
	// The window is of local dates, end exclusive: the next day is empty.
	if n := len(rows(ts.summaries("act", "activity", url.Values{"start_date": {"2026-03-02"}, "end_date": {"2026-03-03"}}))); n != 0 {
		t.Errorf("next day: %d rows", n)
	}
	// A replay of the whole day changes nothing.
	ts.postBody("act", append(syncBody("google", recs, nil), ' '))
	ts.indexed()
	again := rows(ts.summaries("act", "activity", url.Values{"start_date": {"2026-03-01"}, "end_date": {"2026-03-02"}}))
	if len(again) != 1 || again[0]["steps"] != float64(steps) || again[0]["total_calories_kcal"] != 1680.0 {
		t.Errorf("after a replay: %v", again)
	}
}

// TestActivitySummaryZoneOffsets checks that a sample counts on its local
// date: its start shifted by its own zone offset, UTC without one.
func TestActivitySummaryZoneOffsets(t *testing.T) {
	ts := startIndexing(t)
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	recs := []string{
		// 20:00Z +05:00 is 01:00 on March 2.
		recordJSON("a", "STEP_COUNT", at("2026-03-01T20:00:00Z"), at("2026-03-01T20:01:00Z"), 100, "+05:00", "Watch7,1"),
		// 05:00Z -08:00 is 21:00 on March 1.
		recordJSON("b", "STEP_COUNT", at("2026-03-02T05:00:00Z"), at("2026-03-02T05:01:00Z"), 20, "-08:00", "Watch7,1"),
		// No zone offset: UTC, March 1.
		recordJSON("c", "STEP_COUNT", at("2026-03-01T23:30:00Z"), at("2026-03-01T23:31:00Z"), 3, "", "Watch7,1"),
		// 23:59Z +00:01 is 00:00 on March 4.
		recordJSON("d", "STEP_COUNT", at("2026-03-03T23:59:00Z"), at("2026-03-04T00:00:00Z"), 4000, "+00:01", "Watch7,1"),
	}
	ts.postBody("tz", syncBody("apple", recs, nil))
	ts.indexed()
	q := url.Values{"start_date": {"2026-03-01"}, "end_date": {"2026-03-05"}}
	got := rows(ts.summaries("tz", "activity", q))
	want := []struct {
		date  string
		steps float64
	}{{"2026-03-01", 23}, {"2026-03-02", 100}, {"2026-03-04", 4000}}
	if len(got) != len(want) {
		t.Fatalf("%d days: %v", len(got), got)
	}
	for i, w := range want {
		if got[i]["date"] != w.date || got[i]["steps"] != w.steps {
			t.Errorf("day %d: %v %v, want %s %v", i, got[i]["date"], got[i]["steps"], w.date, w.steps)
		}
	}
	// March 1 has two minutes of steps, neither active (the 100 steps
	// belong to March 2); heart rate, energy and distance are absent: null.
	if d := got[0]; d["active_minutes"] != 0.0 || d["sedentary_minutes"] != 2.0 || d["heart_rate"] != nil ||
		d["active_calories_kcal"] != nil || d["total_calories_kcal"] != nil || d["distance_meters"] != nil || d["intensity_minutes"] != nil {
		t.Errorf("March 1: %v", d)
	}
	// Descending, one day per page: the cursor walks back through the days,
	// and a "prev_" cursor returns the page before.
	q.Set("sort_order", "desc")
	q.Set("limit", "1")
	var dates, cursors []string
	for {
		page := ts.summaries("tz", "activity", q)
		for _, d := range rows(page) {
			dates = append(dates, d["date"].(string))
		}
		pg := page["pagination"].(map[string]any)
		if pg["has_more"] != true {
			break
		}
		cursors = append(cursors, pg["next_cursor"].(string))
		q.Set("cursor", pg["next_cursor"].(string))
	}
	if strings.Join(dates, ",") != "2026-03-04,2026-03-02,2026-03-01" {
		t.Errorf("descending pages: %v", dates)
	}
	q.Set("cursor", cursors[1]) // after 2026-03-02: the last page
	last := ts.summaries("tz", "activity", q)
	prev := last["pagination"].(map[string]any)["previous_cursor"].(string)
	q.Set("cursor", prev)
	back := rows(ts.summaries("tz", "activity", q))
	if len(back) != 1 || back[0]["date"] != "2026-03-02" {
		t.Errorf("previous page: %v", back)
	}
	// An end before the start, and the exclusive end.
	if r := ts.do("GET", "/api/v1/users/tz/summaries/activity?start_date=2026-03-02&end_date=2026-03-01", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 400 {
		t.Errorf("reversed window: %d", r.status)
	}
	if n := len(rows(ts.summaries("tz", "activity", url.Values{"start_date": {"2026-03-01"}, "end_date": {"2026-03-02"}}))); n != 1 {
		t.Errorf("one-day window: %d rows", n)
	}
}

// TestActivitySummarySourcesAndWorkouts: one row per date from the
// best-ranked data source; a workout's legacy total is not added to the
// samples its source already sent; elevation comes from workouts.
func TestActivitySummarySourcesAndWorkouts(t *testing.T) {
	ts := startIndexing(t)
	d1 := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	d2 := d1.AddDate(0, 0, 1)
	d3 := d1.AddDate(0, 0, 2)
	var recs []string
	for i := 0; i < 10; i++ {
		t0 := d1.Add(time.Duration(i) * time.Minute)
		recs = append(recs,
			recordJSON(fmt.Sprintf("w%d", i), "HKQuantityTypeIdentifierStepCount", t0, t0.Add(time.Minute), 40, "", "Watch7,1"),
			recordJSON(fmt.Sprintf("p%d", i), "HKQuantityTypeIdentifierStepCount", t0, t0.Add(time.Minute), 60, "", "iPhone15,2"))
	}
	// Day 2: the phone's steps and the watch's heart rate only.
	recs = append(recs,
		recordJSON("p-d2", "HKQuantityTypeIdentifierStepCount", d2, d2.Add(time.Minute), 500, "", "iPhone15,2"),
		recordJSON("h-d2", "HKQuantityTypeIdentifierHeartRate", d2, d2, 70, "", "Watch7,1"))
	workout := func(id string, start time.Time, stats string) string {
		return fmt.Sprintf(`{"id":%q,"type":"walking","startDate":%q,"endDate":%q,"source":{"deviceModel":"Watch7,1","name":"Watch7,1"},"values":[%s]}`,
			id, start.Format(time.RFC3339), start.Add(10*time.Minute).Format(time.RFC3339), stats)
	}
	workouts := []string{
		// During the watch's own step samples: its total is not added.
		workout("wk1", d1, `{"type":"totalSteps","unit":"count","value":400},{"type":"elevationAscended","unit":"m","value":12}`),
		// Day 3: no samples of its own; the total is the day's steps.
		workout("wk2", d3, `{"type":"totalSteps","unit":"count","value":1234}`),
	}
	ts.postBody("src", syncBody("apple", recs, workouts))
	ts.indexed()
	got := rows(ts.summaries("src", "activity", url.Values{"start_date": {"2026-04-01"}, "end_date": {"2026-04-04"}}))
	if len(got) != 3 {
		t.Fatalf("%d days: %v", len(got), got)
	}
	src := func(d map[string]any) any { return d["source"].(map[string]any)["device"] }
	// Day 1: the watch ranks before the phone; 10 × 40 steps, the workout's
	// 400 not added again; 12 m of elevation gives 4 floors.
	if d := got[0]; src(d) != "Watch7,1" || d["steps"] != 400.0 || d["elevation_meters"] != 12.0 || d["floors_climbed"] != 4.0 ||
		d["active_minutes"] != 10.0 {
		t.Errorf("day 1: %v", d)
	}
	// Day 2: the watch (heart rate only) ranks first: its steps are null,
	// not 0.
	if d := got[1]; src(d) != "Watch7,1" || d["steps"] != nil || d["heart_rate"].(map[string]any)["avg_bpm"] != 70.0 {
		t.Errorf("day 2: %v", d)
	}
	if d := got[2]; src(d) != "Watch7,1" || d["steps"] != 1234.0 || d["active_minutes"] != nil {
		t.Errorf("day 3: %v", d)
	}
}

// TestSleepSummaryOfANight: the detailed-stages night with heart rate, HRV,
// respiratory rate and SpO2 samples, computed by hand.
func TestSleepSummaryOfANight(t *testing.T) {
	ts := startIndexing(t)
	ts.post("night", "sleep_service__DETAILED_STAGES_PAYLOAD.json")
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	// The session runs from 22:15 to 05:45 (its first and last detailed
	// stages). Samples outside it do not count.
	var recs []string
	hr := map[string]float64{
		"2026-03-10T22:00:00Z": 90, // before the session
		"2026-03-10T22:15:00Z": 62, "2026-03-11T00:00:00Z": 55, "2026-03-11T02:00:00Z": 50, "2026-03-11T04:00:00Z": 52,
		"2026-03-11T05:45:00Z": 80, // the end is excluded
	}
	i := 0
	for ts0, v := range hr {
		recs = append(recs, recordJSON(fmt.Sprintf("hr%d", i), "HKQuantityTypeIdentifierHeartRate", at(ts0), at(ts0), v, "", "Watch7,1"))
		i++
	}
	recs = append(recs,
		recordJSON("sdnn1", "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", at("2026-03-11T01:00:00Z"), at("2026-03-11T01:00:00Z"), 40, "", "Watch7,1"),
		recordJSON("sdnn2", "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", at("2026-03-11T03:00:00Z"), at("2026-03-11T03:00:00Z"), 45, "", "Watch7,1"),
		recordJSON("rr1", "HKQuantityTypeIdentifierRespiratoryRate", at("2026-03-11T01:00:00Z"), at("2026-03-11T01:00:00Z"), 14, "", "Watch7,1"),
		recordJSON("rr2", "HKQuantityTypeIdentifierRespiratoryRate", at("2026-03-11T02:00:00Z"), at("2026-03-11T02:00:00Z"), 15, "", "Watch7,1"),
		recordJSON("rr3", "HKQuantityTypeIdentifierRespiratoryRate", at("2026-03-11T03:00:00Z"), at("2026-03-11T03:00:00Z"), 16, "", "Watch7,1"),
		// HealthKit sends SpO2 as a fraction: 0.95 and 0.97 are 96 %.
		recordJSON("o1", "HKQuantityTypeIdentifierOxygenSaturation", at("2026-03-11T01:30:00Z"), at("2026-03-11T01:30:00Z"), 0.95, "", "Watch7,1"),
		recordJSON("o2", "HKQuantityTypeIdentifierOxygenSaturation", at("2026-03-11T02:30:00Z"), at("2026-03-11T02:30:00Z"), 0.97, "", "Watch7,1"),
	)
	ts.postBody("night", syncBody("apple", recs, nil))
	ts.indexed()
	got := rows(ts.summaries("night", "sleep", url.Values{"start_date": {"2026-03-11"}, "end_date": {"2026-03-12"}}))
	if len(got) != 1 {
		t.Fatalf("%d nights: %v", len(got), got)
	}
	s := got[0]
	// Stages: light 45+90+45, deep 90+65, rem 45+60, awake 10 (one spell
	// between sleep stages); asleep 440 of 480 minutes in bed.
	want := map[string]any{
		"date": "2026-03-11", "start_time": "2026-03-10T22:15:00Z", "end_time": "2026-03-11T05:45:00Z",
		"duration_minutes": 440.0, "total_duration_minutes": 440.0, "time_in_bed_minutes": 480.0,
		"efficiency_percent": 91.67, "interruptions_count": 1.0, "nap_count": 0.0, "nap_duration_minutes": 0.0,
		"avg_heart_rate_bpm": math.Round((62 + 55 + 50 + 52) / 4.0), // 54.75
		"avg_hrv_sdnn_ms":    42.5, "avg_hrv_rmssd_ms": nil, "avg_respiratory_rate": 15.0, "avg_spo2_percent": 96.0,
	}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %v, want %v", k, s[k], v)
		}
	}
	st := s["stages"].(map[string]any)
	if st["light_minutes"] != 180.0 || st["deep_minutes"] != 155.0 || st["rem_minutes"] != 105.0 || st["awake_minutes"] != 10.0 {
		t.Errorf("stages %v", st)
	}
	if ss := s["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["duration_minutes"] != 440.0 {
		t.Errorf("sessions %v", ss)
	}
	// Keyed by the wake-up date: the night is not on March 10.
	if n := len(rows(ts.summaries("night", "sleep", url.Values{"start_date": {"2026-03-10"}, "end_date": {"2026-03-11"}}))); n != 0 {
		t.Errorf("March 10: %d nights", n)
	}
}

// TestBodySummary checks the latest slow-changing values, the averages of
// the period and the latest window, relative to the current time.
func TestBodySummary(t *testing.T) {
	ts := startIndexing(t)
	now := time.Now().UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	day := 24 * time.Hour
	rec := func(id, typ string, when time.Time, v float64) string {
		return recordJSON(id, typ, when, when, v, "", "Watch7,1")
	}
	recs := []string{
		rec("w1", "HKQuantityTypeIdentifierBodyMass", ago(3*day), 80),
		rec("w2", "HKQuantityTypeIdentifierBodyMass", ago(day), 81),
		rec("h", "HKQuantityTypeIdentifierHeight", ago(10*day), 1.8), // meters, stored as 180 cm
		rec("r1", "HKQuantityTypeIdentifierRestingHeartRate", ago(day-time.Hour), 50),
		rec("r2", "HKQuantityTypeIdentifierRestingHeartRate", ago(2*day-time.Hour), 60),
		rec("r3", "HKQuantityTypeIdentifierRestingHeartRate", ago(3*day-time.Hour), 70),
		rec("r4", "HKQuantityTypeIdentifierRestingHeartRate", ago(10*day), 100), // outside 7 days
		rec("s1", "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", ago(day), 40),
		rec("s2", "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", ago(2*day), 45),
		rec("t1", "HKQuantityTypeIdentifierBodyTemperature", ago(30*time.Minute), 36.6),
		rec("t2", "HKQuantityTypeIdentifierBodyTemperature", ago(2*time.Hour), 36.8),
		rec("bs1", "HKQuantityTypeIdentifierBloodPressureSystolic", ago(time.Hour), 120),
		rec("bd1", "HKQuantityTypeIdentifierBloodPressureDiastolic", ago(time.Hour), 80),
		rec("bs2", "HKQuantityTypeIdentifierBloodPressureSystolic", ago(3*time.Hour), 130),
		rec("bd2", "HKQuantityTypeIdentifierBloodPressureDiastolic", ago(3*time.Hour-2*time.Second), 85),
		rec("bs3", "HKQuantityTypeIdentifierBloodPressureSystolic", ago(2*time.Hour), 150), // no diastolic within 5 s
	}
	ts.postBody("body", syncBody("apple", recs, nil))
	// RMSSD from Health Connect, on another source.
	ts.postBody("body", syncBody("google", []string{recordJSON("rm", "HEART_RATE_VARIABILITY", ago(day), ago(day), 30, "", "Pixel Watch 2")}, nil))
	ts.indexed()
	b := ts.summaries("body", "body", nil)
	sc := b["slow_changing"].(map[string]any)
	if sc["weight_kg"] != 81.0 || sc["height_cm"] != 180.0 || sc["bmi"] != 25.0 || sc["body_fat_percent"] != nil ||
		sc["muscle_mass_kg"] != nil || sc["age"] != nil {
		t.Errorf("slow_changing %v", sc)
	}
	if src := b["source"].(map[string]any); src["provider"] != "apple" || src["device"] != "Watch7,1" {
		t.Errorf("source %v", src)
	}
	av := b["averaged"].(map[string]any)
	if av["period_days"] != 7.0 || av["resting_heart_rate_bpm"] != 60.0 || av["avg_hrv_sdnn_ms"] != 42.5 || av["avg_hrv_rmssd_ms"] != 30.0 {
		t.Errorf("averaged %v", av)
	}
	lt := b["latest"].(map[string]any)
	bp, _ := lt["blood_pressure"].(map[string]any)
	// Two readings: 120/80 an hour ago and 130/85 three hours ago.
	if lt["body_temperature_celsius"] != 36.6 || lt["body_temperature_measured_at"] != ago(30*time.Minute).Format(time.RFC3339) ||
		bp == nil || bp["reading_count"] != 2.0 || bp["avg_systolic_mmhg"] != 125.0 || bp["avg_diastolic_mmhg"] != 83.0 ||
		bp["max_systolic_mmhg"] != 130.0 || bp["min_diastolic_mmhg"] != 80.0 ||
		lt["blood_pressure_measured_at"] != ago(time.Hour).Format(time.RFC3339) || lt["skin_temperature_celsius"] != nil {
		t.Errorf("latest %v", lt)
	}
	// Shorter period and window.
	b = ts.summaries("body", "body", url.Values{"average_period": {"2"}, "latest_window_hours": {"2"}})
	if av := b["averaged"].(map[string]any); av["resting_heart_rate_bpm"] != 55.0 || av["period_days"] != 2.0 {
		t.Errorf("2-day average %v", av)
	}
	if bp := b["latest"].(map[string]any)["blood_pressure"].(map[string]any); bp["reading_count"] != 1.0 || bp["avg_systolic_mmhg"] != 120.0 {
		t.Errorf("2-hour blood pressure %v", bp)
	}
	// Nothing of the body: null, with 200.
	ts.postBody("steps-only", syncBody("apple", []string{recordJSON("x", "HKQuantityTypeIdentifierStepCount", ago(day), ago(day), 5, "", "Watch7,1")}, nil))
	ts.indexed()
	for _, user := range []string{"steps-only", "nobody"} {
		r := ts.do("GET", "/api/v1/users/"+user+"/summaries/body", nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 200 || string(r.body) != "null" {
			t.Errorf("%s: %d %s", user, r.status, r.body)
		}
	}
}

// TestDataSummaryCounts counts points per series and provider, workouts
// per type and sleep sessions.
func TestDataSummaryCounts(t *testing.T) {
	ts := startIndexing(t)
	ts.post("counts", "sleep_service__DETAILED_STAGES_PAYLOAD.json") // apple: one session
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	var google []string
	for i := 0; i < 3; i++ {
		t0 := base.Add(time.Duration(i) * time.Hour)
		google = append(google, recordJSON(fmt.Sprintf("g%d", i), "HEART_RATE", t0, t0, 70, "", "Pixel Watch 2"))
	}
	google = append(google,
		recordJSON("gs1", "STEP_COUNT", base, base.Add(time.Minute), 10, "", "Pixel Watch 2"),
		recordJSON("gs2", "STEP_COUNT", base.AddDate(0, 1, 0), base.AddDate(0, 1, 0).Add(time.Minute), 10, "", "Pixel Watch 2"))
	ts.postBody("counts", syncBody("google", google, nil))
	w := func(id, typ string, start time.Time) string {
		return fmt.Sprintf(`{"id":%q,"type":%q,"startDate":%q,"endDate":%q}`, id, typ, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	}
	ts.postBody("counts", syncBody("apple",
		[]string{recordJSON("a1", "HKQuantityTypeIdentifierHeartRate", base, base, 80, "", "Watch7,1")},
		[]string{w("r1", "running", base), w("r2", "running", base.AddDate(0, 0, 1)), w("y1", "yoga", base.AddDate(0, 1, 0))}))
	ts.indexed()
	all := ts.summaries("counts", "data", nil)
	if all["user_id"] != "counts" || all["total_data_points"] != 6.0 || all["total_workouts"] != 3.0 || all["total_sleep_events"] != 1.0 ||
		all["has_womens_health_data"] != false {
		t.Errorf("totals %v", all)
	}
	if sc := all["series_type_counts"].(map[string]any); len(sc) != 2 || sc["heart_rate"] != 4.0 || sc["steps"] != 2.0 {
		t.Errorf("series_type_counts %v", sc)
	}
	if wc := all["workout_type_counts"].(map[string]any); len(wc) != 2 || wc["running"] != 2.0 || wc["yoga"] != 1.0 {
		t.Errorf("workout_type_counts %v", wc)
	}
	bp := all["by_provider"].([]any)
	if len(bp) != 2 {
		t.Fatalf("by_provider %v", bp)
	}
	apple, google2 := bp[0].(map[string]any), bp[1].(map[string]any)
	if apple["provider"] != "apple" || apple["data_points"] != 1.0 || apple["workout_count"] != 3.0 || apple["sleep_count"] != 1.0 ||
		apple["series_counts"].(map[string]any)["heart_rate"] != 1.0 {
		t.Errorf("apple %v", apple)
	}
	if google2["provider"] != "google" || google2["data_points"] != 5.0 || google2["workout_count"] != 0.0 || google2["sleep_count"] != 0.0 ||
		google2["series_counts"].(map[string]any)["steps"] != 2.0 {
		t.Errorf("google %v", google2)
	}
	// May only (a date-only end is the end of that day): the June step and
	// yoga and the March night are left out.
	may := ts.summaries("counts", "data", url.Values{"start_date": {"2026-05-01"}, "end_date": {"2026-05-31"}})
	if may["total_data_points"] != 5.0 || may["total_workouts"] != 2.0 || may["total_sleep_events"] != 0.0 {
		t.Errorf("May %v", may)
	}
	empty := ts.summaries("nobody", "data", nil)
	if empty["total_data_points"] != 0.0 || len(empty["by_provider"].([]any)) != 0 || empty["user_id"] != "nobody" {
		t.Errorf("unknown user %v", empty)
	}
}

func TestSummaryParametersAndAuth(t *testing.T) {
	ts := startIndexing(t)
	ts.post("p", "malformed_payload_debug__valid.json")
	win := "start_date=2026-01-01&end_date=2026-02-01"
	bad := []string{
		"activity?end_date=2026-02-01",                      // start_date missing
		"activity?start_date=2026-01-01",                    // end_date missing
		"activity?start_date=yesterday&end_date=2026-02-01", // not a date
		"activity?" + win + "&limit=0",
		"activity?" + win + "&limit=401",
		"activity?" + win + "&sort_order=up",
		"activity?" + win + "&cursor=%21%21",
		"activity?start_date=2026-02-01&end_date=2026-02-01", // empty window
		"sleep?" + win + "&limit=101",
		"sleep?" + win + "&cursor=bm90LWEtY3Vyc29y",
		"sleep?end_date=2026-02-01",
		"recovery?" + win + "&limit=101",
		"body?average_period=8",
		"body?average_period=0",
		"body?latest_window_hours=25",
		"body?latest_window_hours=x",
		"data?start_date=soon",
		"data?start_date=2026-02-01&end_date=2026-01-01",
	}
	for _, path := range bad {
		r := ts.do("GET", "/api/v1/users/p/summaries/"+path, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 400 || r.detail(t) == "" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/users/p/summaries/activity?"+win+"&limit=400&sort_order=desc", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 200 {
		t.Errorf("limit 400: %d %s", r.status, r.body)
	}
	tok := ts.token("p")
	for _, kind := range []string{"activity", "sleep", "recovery", "body", "data"} {
		path := "/api/v1/users/p/summaries/" + kind + "?" + win
		if r := ts.do("GET", path, nil); r.status != 401 {
			t.Errorf("%s without credentials: %d", kind, r.status)
		}
		if r := ts.do("GET", path, nil, "Authorization", "Bearer "+tok); r.status != 401 {
			t.Errorf("%s with an SDK token: %d", kind, r.status)
		}
		if r := ts.do("GET", path, nil, "X-Open-Wearables-API-Key", "sk-wrong"); r.status != 401 {
			t.Errorf("%s with a wrong key: %d", kind, r.status)
		}
	}
	// An unknown user reads as empty.
	for _, kind := range []string{"activity", "sleep", "recovery"} {
		page := ts.summaries("nobody", kind, url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}})
		if len(page["data"].([]any)) != 0 || page["pagination"].(map[string]any)["has_more"] != false {
			t.Errorf("%s of an unknown user: %v", kind, page)
		}
	}
}
