package query

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

func TestZoneOffsetsAndLocalDays(t *testing.T) {
	for z, want := range map[string]int64{
		"+05:30": 5*hourUsec + 30*minuteUsec, "-08:00": -8 * hourUsec, "+00:00": 0, "": 0, "Z": 0, "+5:00": 0, "+0a:00": 0,
	} {
		if got := zoneOffsetUsec(z); got != want {
			t.Errorf("%q: %d, want %d", z, got, want)
		}
	}
	mar1 := dayOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC).UnixMicro()
	if d := localDay(at, zoneOffsetUsec("+05:00")); d != mar1+1 {
		t.Errorf("20:00Z +05:00 on day %d, want %d", d, mar1+1)
	}
	if d := localDay(at, zoneOffsetUsec("-08:00")); d != mar1 {
		t.Errorf("20:00Z -08:00 on day %d, want %d", d, mar1)
	}
	// Before 1970: floored, not truncated.
	if d := localDay(-1, 0); d != -1 {
		t.Errorf("the last µs of 1969 on day %d", d)
	}
	if s := dayString(mar1); s != "2026-03-01" {
		t.Errorf("day string %s", s)
	}
}

func TestParseDate(t *testing.T) {
	for v, want := range map[string]string{
		"2026-03-01": "2026-03-01", "2026-03-01T23:30:00-05:00": "2026-03-01", "1772409600": "2026-03-02",
	} {
		d, err := ParseDate("start_date", v)
		if err != nil || d.Format("2006-01-02") != want || !d.Equal(d.Truncate(24*time.Hour)) {
			t.Errorf("%s: %v %v, want %s", v, d, err, want)
		}
	}
	if _, err := ParseDate("start_date", "tomorrow"); err == nil {
		t.Error("a word parsed as a date")
	}
}

// block builds a LeanBlock of one data source from (start, end, value).
func block(sid uint32, zone string, pts ...[3]int64) *pebblestore.LeanBlock {
	b := &pebblestore.LeanBlock{SID: sid, Zones: []pebblestore.ZoneRun{{N: len(pts), Zone: zone}}}
	for _, p := range pts {
		b.Start = append(b.Start, p[0])
		b.End = append(b.End, p[1])
		b.Value = append(b.Value, float64(p[2]))
		b.Plain = append(b.Plain, false)
	}
	return b
}

func TestStepMinutes(t *testing.T) {
	a := newActivityAcc(0, 10, maxHR)
	m := minuteUsec
	a.addSteps(block(1, "",
		[3]int64{0, m, 30},                     // minute 0: 30, active
		[3]int64{m, m, 10},                     // minute 1: 10 + 25 below
		[3]int64{m + 30e6, 2 * m, 25},          // minute 1: 35 in all, active
		[3]int64{5 * m, 9 * m, 100},            // 4 minutes of 25: sedentary
		[3]int64{9*m + 30e6, 11*m + 30e6, 120}, // 30 in minutes 9 and 11, 60 in 10: active
	))
	a.finish()
	d := a.days[0][1]
	if d.sum[fSteps] != 285 || d.stepMinutes != 9 || d.activeMinutes != 5 {
		t.Errorf("steps %v, %d minutes, %d active; want 285, 9, 5", d.sum[fSteps], d.stepMinutes, d.activeMinutes)
	}
}

func TestIntensityZones(t *testing.T) {
	// Maximum heart rate 190: light 95-119, moderate above 119 to 144,
	// vigorous above 144.
	a := newActivityAcc(0, 10, 190)
	var pts [][3]int64
	for i, hr := range []int64{94, 95, 119, 120, 144, 145, 200} {
		pts = append(pts, [3]int64{int64(i) * minuteUsec, int64(i) * minuteUsec, hr})
	}
	// Two samples in minute 7 averaging 119.5: moderate.
	pts = append(pts, [3]int64{7 * minuteUsec, 7 * minuteUsec, 119}, [3]int64{7*minuteUsec + 1, 7*minuteUsec + 1, 120})
	a.addHeartRate(block(1, "", pts...))
	a.finish()
	d := a.days[0][1]
	if d.hrMinutes != 8 || d.light != 2 || d.moderate != 3 || d.vigorous != 2 {
		t.Errorf("%d minutes: light %d, moderate %d, vigorous %d; want 8: 2, 3, 2", d.hrMinutes, d.light, d.moderate, d.vigorous)
	}
	if d.hrMin != 94 || d.hrMax != 200 || d.hrN != 9 {
		t.Errorf("min %v max %v n %d", d.hrMin, d.hrMax, d.hrN)
	}
}

func TestActivityDaysFollowZones(t *testing.T) {
	// 23:30Z on day 0 in +01:00 is day 1; in -01:00 day 0.
	at := 23*hourUsec + 30*minuteUsec
	a := newActivityAcc(0, 2, maxHR)
	a.addSum(serEnergy, fEnergy, block(1, "+01:00", [3]int64{at, at, 5}))
	a.addSum(serEnergy, fEnergy, block(1, "-01:00", [3]int64{at, at, 7}))
	a.addSum(serEnergy, fEnergy, block(1, "+14:00", [3]int64{2*dayUsec + at, 2*dayUsec + at, 9})) // day 3: outside
	if a.days[1][1].sum[fEnergy] != 5 || a.days[0][1].sum[fEnergy] != 7 || len(a.days) != 2 {
		t.Errorf("days %v", a.days)
	}
}

func TestSummaryNullsNotZeros(t *testing.T) {
	d := &activityDay{day: 0, hrMin: math.Inf(1), hrMax: math.Inf(-1)}
	d.sum[fBasal], d.n[fBasal] = 1500, 1
	s := d.summary(&SourceMetadata{Provider: "apple"})
	if s.Steps != nil || s.ActiveCaloriesKcal != nil || s.DistanceMeters != nil || s.HeartRate != nil ||
		s.IntensityMinutes != nil || s.ActiveMinutes != nil || s.FloorsClimbed != nil {
		t.Errorf("absent values are not null: %+v", s)
	}
	if s.TotalCaloriesKcal == nil || *s.TotalCaloriesKcal != 1500 {
		t.Errorf("total calories %v", s.TotalCaloriesKcal)
	}
	d.sum[fElevation], d.n[fElevation] = 10, 1
	if s := d.summary(nil); s.FloorsClimbed == nil || *s.FloorsClimbed != 3 {
		t.Errorf("floors from 10 m: %v", s.FloorsClimbed)
	}
}

func TestSummariseBP(t *testing.T) {
	s := int64(1_000_000)
	// The pairs of health's TestPairBloodPressure fixture.
	got := []health.BloodPressureReading{{At: 4 * s, Systolic: 120, Diastolic: 80}, {At: 10 * s, Systolic: 130, Diastolic: 85}}
	bp, at, _ := summariseBP(got)
	if bp.AvgSystolicMmhg != 125 || bp.AvgDiastolicMmhg != 83 || bp.MinSystolicMmhg != 120 || bp.MaxDiastolicMmhg != 85 ||
		bp.ReadingCount != 2 || !at.Equal(fromMicro(10*s)) {
		t.Errorf("%+v at %v", bp, at)
	}
}

func TestPaginate(t *testing.T) {
	cur := func(v *int) string { return string(rune('a' + *v)) }
	// Forward: more, with a cursor.
	p := &Page[int]{}
	paginate(p, []int{1, 2, 3}, 2, true, false, cur)
	if len(p.Data) != 2 || !p.Pagination.HasMore || *p.Pagination.NextCursor != "c" || *p.Pagination.PreviousCursor != "prev_b" {
		t.Errorf("forward %+v", p.Pagination)
	}
	// Backward: rows read away from the cursor come back in order.
	p = &Page[int]{}
	paginate(p, []int{5, 4, 3}, 2, true, true, cur)
	if len(p.Data) != 2 || p.Data[0] != 4 || p.Data[1] != 5 || *p.Pagination.PreviousCursor != "prev_e" || *p.Pagination.NextCursor != "f" {
		t.Errorf("backward %v %+v", p.Data, p.Pagination)
	}
	// Last page without a cursor: no cursors.
	p = &Page[int]{}
	paginate(p, []int{1}, 2, false, false, cur)
	if p.Pagination.HasMore || p.Pagination.NextCursor != nil || p.Pagination.PreviousCursor != nil {
		t.Errorf("single %+v", p.Pagination)
	}
}

func TestActivityCursor(t *testing.T) {
	s := &ActivitySummary{Date: "2026-03-01", Source: &SourceMetadata{Provider: "apple", Device: strPtr("Watch7,1")}}
	c := activityCursor(s)
	raw, _ := base64.RawURLEncoding.DecodeString(c)
	if string(raw) != "2026-03-01|unknown|Watch7,1" {
		t.Errorf("cursor %q", raw)
	}
	day, back, err := decodeActivityCursor("prev_" + c)
	if err != nil || !back || dayString(day) != "2026-03-01" {
		t.Errorf("decoded %v %v %v", dayString(day), back, err)
	}
	if _, _, err := decodeActivityCursor("!!"); err == nil || !strings.Contains(err.Error(), "Invalid cursor") {
		t.Errorf("bad cursor: %v", err)
	}
}
