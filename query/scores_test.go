package query

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// scoredUser stores a week of nights of one user ("u1", zone +01:00) and
// their overnight RMSSD, whose scores are worked out by hand from Open
// Wearables' algorithms below.
//
// Night k (k = 1..6) goes to bed at 23:00 local on March k; night 7 at
// 00:30 local on March 8. Each night is light 120 min, deep 90, awake 10,
// rem 90, light 150: 450 minutes asleep (7.5 h: duration 100), deep and
// rem at target (stages 100), one 10-minute awakening (interruptions
// 80 + 20 = 100); it ends 7 h 40 after bedtime.
//
// Consistency: night 1 has no previous night: 0, so 0.4 + 0.2 + 0 + 0.2:
// 80. Nights 2 to 6 are at the median of the earlier ones: 100, overall
// 100. Night 7 is 90 minutes after the median 23:00, 75 past the grace:
// 100 − 75 / 105 × 100 = 28.57: 28; 0.4 + 0.2 + 0.28 × 0.2 + 0.2 =
// 0.856: 85.
//
// RMSSD, one average per UTC day of the deep stage (01:00 to 02:30 local,
// so March k+1 UTC): 30, 40, 50 (the average of 45 and 55), 60, 70, 45,
// 55 for March 2 to 8. A daytime sample (500) and one while awake (999)
// are not counted. Resilience of day D reads March D−7 to D−1:
//
//	March 7:  30 40 50 60 70       mean 50, sd √250 = 15.811, CV 0.316228: 100 × (40 − 31.62) / 33 = 25.39: 25
//	March 8:  + 45                 mean 49.17, sd 14.289, CV 0.290617: 33.15: 33
//	March 9:  + 55                 mean 50, sd √175 = 13.229, CV 0.264575: 41.04: 41
//	March 10: 40 50 60 70 45 55    mean 53.33, sd 10.801, CV 0.202523: 59.84: 60
//	March 11: 50 60 70 45 55       mean 56, sd √92.5 = 9.618, CV 0.171745: 69.17: 69
//
// March 3 to 6 have fewer than 5 days, March 12 on too.
func scoredUser(t *testing.T) (*pebblestore.Store, *Service, uint32) {
	t.Helper()
	s, q := openStore(t)
	b := s.NewBatch()
	u, err := b.CreateUser("u1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	ib := s.NewIndexBatch()
	defer ib.Close()
	sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: u.IID, Provider: "google", DeviceModel: "Pixel Watch 2"})
	if err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("", 3600)
	prov := health.ProviderCode("google")
	put := func(st health.Stage, from time.Time, minutes int) time.Time {
		to := from.Add(time.Duration(minutes) * time.Minute)
		if err := ib.PutSleepStage(u.IID, &pebblestore.SleepStageRecord{Provider: prov, Start: from.UnixMicro(),
			End: to.UnixMicro(), SID: sid, Stage: byte(st), Zone: "+01:00"}); err != nil {
			t.Fatal(err)
		}
		return to
	}
	rmssd := func(at time.Time, v float64) {
		ib.AddPoint(u.IID, serRMSSD, sid, pebblestore.Point{Start: at.UnixMicro(), End: at.UnixMicro(), Value: v, Zone: "+01:00"})
	}
	hrv := [][]float64{{30}, {40}, {45, 55}, {60}, {70}, {45}, {55}}
	for k := 1; k <= 7; k++ {
		bed := time.Date(2026, 3, k, 23, 0, 0, 0, zone)
		if k == 7 {
			bed = time.Date(2026, 3, 8, 0, 30, 0, 0, zone)
		}
		next := put(health.StageLight, bed, 120)
		deep := next
		next = put(health.StageDeep, next, 90)
		awake := next
		next = put(health.StageAwake, next, 10)
		next = put(health.StageRem, next, 90)
		put(health.StageLight, next, 150)
		for i, v := range hrv[k-1] {
			rmssd(deep.Add(time.Duration(10+i)*time.Minute), v)
		}
		if k == 1 {
			rmssd(awake.Add(5*time.Minute), 999)
			rmssd(bed.Add(13*time.Hour), 500)
		}
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	return s, q, sid
}

// scoreRow is a score as the tests compare it.
func scoreRow(h HealthScore) string {
	var parts string
	switch c := h.Components.(type) {
	case *SleepScoreComponents:
		parts = strings.Join([]string{fmtVal(c.Duration.Value), fmtVal(c.Stages.Value), fmtVal(c.Consistency.Value),
			fmtVal(c.Interruptions.Value)}, "/")
	case *ResilienceComponents:
		parts = fmtVal(c.DaysCounted.Value) + "d/" + *c.MetricType.Qualifier + "/" + fmtVal(c.ResilienceScore.Value)
	}
	return h.Category + " " + h.RecordedAt.Format("01-02T15:04") + " " + fmtVal(h.Value) + " " + parts
}

func fmtVal(v *float64) string {
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(*v)
	return string(b)
}

var allScores = []string{
	"resilience 03-11T00:00 0.172 5d/RMSSD/69",
	"resilience 03-10T00:00 0.203 6d/RMSSD/60",
	"resilience 03-09T00:00 0.265 7d/RMSSD/41",
	"sleep 03-08T08:10 85 100/100/28/100", // night 7 ends 08:10 local, written as UTC
	"resilience 03-08T00:00 0.291 6d/RMSSD/33",
	"sleep 03-07T06:40 100 100/100/100/100",
	"resilience 03-07T00:00 0.316 5d/RMSSD/25",
	"sleep 03-06T06:40 100 100/100/100/100",
	"sleep 03-05T06:40 100 100/100/100/100",
	"sleep 03-04T06:40 100 100/100/100/100",
	"sleep 03-03T06:40 100 100/100/100/100",
	"sleep 03-02T06:40 80 100/100/0/100",
}

func TestHealthScores(t *testing.T) {
	_, q, sid := scoredUser(t)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	date := func(d int) *time.Time { v := time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC); return &v }
	for _, c := range []struct {
		name  string
		p     HealthScoreParams
		want  []string
		total int
		more  bool
	}{
		{"all", HealthScoreParams{Limit: 50}, allScores, 12, false},
		{"provider internal", HealthScoreParams{Provider: "internal", Limit: 50}, allScores, 12, false},
		{"a page", HealthScoreParams{Limit: 3, Offset: 2}, allScores[2:5], 12, true},
		{"the last page", HealthScoreParams{Limit: 5, Offset: 10}, allScores[10:], 12, false},
		{"past the end", HealthScoreParams{Limit: 5, Offset: 12}, nil, 12, false},
		{"sleep", HealthScoreParams{Category: "sleep", Limit: 2, Offset: 1},
			[]string{allScores[5], allScores[7]}, 7, true},
		{"resilience", HealthScoreParams{Category: "resilience", Limit: 50},
			[]string{allScores[0], allScores[1], allScores[2], allScores[4], allScores[6]}, 5, false},
		// [March 7, March 8): night 6 (recorded 06:40) and the resilience
		// of March 7 (recorded at midnight, the start is inclusive).
		{"window", HealthScoreParams{Start: date(7), End: date(8), Limit: 50}, []string{allScores[5], allScores[6]}, 2, false},
		{"from March 10", HealthScoreParams{Start: date(10), Limit: 50}, allScores[:2], 2, false},
		// On March 9 the days after it have no resilience yet; March 9
		// has, from the seven days before it.
		{"read on March 9", HealthScoreParams{Now: time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC), Limit: 50},
			allScores[2:], 10, false},
		{"a provider's", HealthScoreParams{Provider: "garmin", Limit: 50}, nil, 0, false},
		{"a category never computed", HealthScoreParams{Category: "recovery", Limit: 50}, nil, 0, false},
	} {
		if c.p.Now.IsZero() {
			c.p.Now = now
		}
		page, err := q.HealthScores("u1", c.p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, h := range page.Data {
			got = append(got, scoreRow(h))
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
		if *page.Pagination.TotalCount != c.total || page.Pagination.HasMore != c.more || page.Metadata.SampleCount != len(c.want) ||
			page.Pagination.NextCursor != nil || page.Pagination.PreviousCursor != nil {
			t.Errorf("%s: pagination %+v, sample count %d; want total %d, more %v", c.name, page.Pagination,
				page.Metadata.SampleCount, c.total, c.more)
		}
	}

	// The shape: Open Wearables' fields in its order; a sleep score names
	// its data source, a resilience score none.
	page, err := q.HealthScores("u1", HealthScoreParams{Limit: 50, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]string{
		3: `{"category":"sleep","value":85,"qualifier":null,"recorded_at":"2026-03-08T08:10:00Z","zone_offset":null,` +
			`"components":{"duration":{"value":100,"qualifier":null},"stages":{"value":100,"qualifier":null},` +
			`"consistency":{"value":28,"qualifier":null},"interruptions":{"value":100,"qualifier":null}},` +
			`"id":"` + page.Data[3].ID + `","data_source_id":"` + hexID(uint64(sid)) + `","provider":"internal"}`,
		0: `{"category":"resilience","value":0.172,"qualifier":null,"recorded_at":"2026-03-11T00:00:00Z","zone_offset":null,` +
			`"components":{"days_counted":{"value":5,"qualifier":null},"metric_type":{"value":null,"qualifier":"RMSSD"},` +
			`"resilience_score":{"value":69,"qualifier":null}},"id":"` + page.Data[0].ID + `","data_source_id":null,"provider":"internal"}`,
	} {
		b, err := json.Marshal(page.Data[i])
		if err != nil || string(b) != want {
			t.Errorf("score %d:\n%s (%v)\nwant:\n%s", i, b, err, want)
		}
	}
	ids := map[string]bool{}
	for _, h := range page.Data {
		if ids[h.ID] {
			t.Errorf("id %s twice", h.ID)
		}
		ids[h.ID] = true
	}
}

func TestHealthScoresRefusalsAndStrangers(t *testing.T) {
	_, q, _ := scoredUser(t)
	start, end := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	for name, p := range map[string]HealthScoreParams{
		"category":      {Category: "sleepy", Limit: 50},
		"provider":      {Provider: "fitbitx", Limit: 50},
		"start not end": {Start: &start, End: &end, Limit: 50},
		"start is end":  {Start: &start, End: &start, Limit: 50},
	} {
		if _, err := q.HealthScores("u1", p); err == nil {
			t.Errorf("%s: no error", name)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("%s: %v is not bad input", name, err)
		}
	}
	page, err := q.HealthScores("nobody", HealthScoreParams{Limit: 50, Start: &end})
	if err != nil || len(page.Data) != 0 || *page.Pagination.TotalCount != 0 || page.Pagination.HasMore ||
		!page.Metadata.StartTime.Equal(end) || page.Metadata.EndTime != nil {
		t.Errorf("unknown user: %+v %v", page, err)
	}
	if b, _ := json.Marshal(page); string(b) != `{"data":[],"pagination":{"next_cursor":null,"previous_cursor":null,"has_more":false,"total_count":0},`+
		`"metadata":{"resolution":null,"sample_count":0,"start_time":"2026-03-07T00:00:00Z","end_time":null}}` {
		t.Errorf("empty page: %s", b)
	}
}

func TestMenstrualCycles(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	page, err := MenstrualCycles(MenstrualParams{Start: start})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(page)
	want := `{"data":[],"pagination":{"next_cursor":null,"previous_cursor":null,"has_more":false,"total_count":0},` +
		`"metadata":{"resolution":null,"sample_count":0,"start_time":"2026-03-01T00:00:00Z","end_time":null}}`
	if string(b) != want {
		t.Errorf("%s\nwant %s", b, want)
	}
	if _, err := MenstrualCycles(MenstrualParams{Start: start, Cursor: *encodeCursor(start, "x")}); err != nil {
		t.Errorf("a cursor: %v", err)
	}
	if _, err := MenstrualCycles(MenstrualParams{Start: start, Cursor: "prev_" + *encodeCursor(start, "x")}); err != nil {
		t.Errorf("a backward cursor: %v", err)
	}
	if _, err := MenstrualCycles(MenstrualParams{Start: start, Cursor: "not a cursor"}); err == nil {
		t.Error("a bad cursor is accepted")
	}
}

func TestAsleepSpans(t *testing.T) {
	at := func(m int) time.Time { return time.Unix(int64(m)*60, 0).UTC() }
	iv := func(s health.Stage, a, b int) health.SleepInterval {
		return health.SleepInterval{Stage: s, Start: at(a), End: at(b)}
	}
	nights := []scoreNight{
		{Session: health.Session{Stages: []health.SleepInterval{iv(health.StageLight, 0, 10), iv(health.StageAwake, 10, 20),
			iv(health.StageDeep, 20, 30), iv(health.StageRem, 30, 40)}}},
		{Session: health.Session{Stages: []health.SleepInterval{iv(health.StageSleeping, 35, 50)}}}, // another provider, overlapping
	}
	spans := asleepSpans(nights)
	if len(spans) != 2 || spans[0] != (span{0, 600e6}) || spans[1] != (span{1200e6, 3000e6}) {
		t.Fatalf("spans %v", spans)
	}
	for m, want := range map[int]bool{0: true, 9: true, 10: false, 19: false, 20: true, 45: true, 50: false, -1: false} {
		if got := inSpans(spans, int64(m)*60e6); got != want {
			t.Errorf("minute %d: %v", m, got)
		}
	}
}
