package health

import (
	"testing"
	"time"
)

// The expected values below are worked out by hand from Open Wearables'
// sleep and resilience algorithms (backend/app/algorithms/), as the
// comments show; a pillar score is truncated to a whole number.

func TestSleepDurationScore(t *testing.T) {
	for _, c := range []struct {
		hours float64
		want  int
	}{
		{8, 100},
		{7, 100}, // the optimal range is inclusive at both ends
		{9, 100},
		// Under 7 h: 100 × (1 + e^(−1.5 × (7 − 5))) / (1 + e^(−1.5 × (h − 5))).
		{6, 85},   // 100 × 1.049787 / 1.223130 = 85.83
		{5, 52},   // 100 × 1.049787 / 2 = 52.49
		{4, 19},   // 100 × 1.049787 / 5.481689 = 19.15
		{0, 0},    // 100 × 1.049787 / 1809.04 = 0.06
		{6.5, 94}, // 100 × 1.049787 / 1.105399 = 94.97
		// Over 9 h: 100 × (1 + e^(0.8 × (9 − 11))) / (1 + e^(0.8 × (h − 11))),
		// never below 50.
		{10, 82}, // 100 × 1.201897 / 1.449329 = 82.93
		{11, 60}, // 100 × 1.201897 / 2 = 60.09
		{12, 50}, // 100 × 1.201897 / 3.225541 = 37.26, floored at 50
		{20, 50},
	} {
		if got := durationScore(c.hours); got != c.want {
			t.Errorf("%v h: %d, want %d", c.hours, got, c.want)
		}
	}
}

func TestSleepStagesScore(t *testing.T) {
	for _, c := range []struct {
		deep, rem float64
		want      int
	}{
		{90, 90, 100},
		{155, 105, 100}, // more than the target counts as the target
		{45, 90, 75},    // 45 / 90 × 100 = 50; (50 + 100) / 2
		{0, 0, 0},
		{200, 0, 50},
		{60, 30, 49}, // 60 / 90 × 100 = 66.67 → 66; 30 / 90 × 100 = 33.33 → 33; (66 + 33) / 2 = 49.5 → 49
	} {
		if got := stagesScore(c.deep, c.rem); got != c.want {
			t.Errorf("deep %v, rem %v: %d, want %d", c.deep, c.rem, got, c.want)
		}
	}
}

// at is a clock time on 2026-03-10 in a zone of offset hours; the
// consistency reads only the clock.
func at(hour, minute int, offset int) time.Time {
	zone := time.FixedZone("", offset*3600)
	return time.Date(2026, 3, 10, hour, minute, 0, 0, zone)
}

func TestBedtimeConsistencyScore(t *testing.T) {
	// Hours past noon of 23:00, 23:10, 23:20: 11, 11.167, 11.333; the
	// median is 11.167 (23:10).
	odd := []time.Time{at(23, 0, 1), at(23, 20, 1), at(23, 10, 1)}
	// 22:00, 23:00, 23:30, 01:00: 10, 11, 11.5, 13; the median is
	// (11 + 11.5) / 2 = 11.25 (23:15).
	even := []time.Time{at(1, 0, 1), at(22, 0, 1), at(23, 30, 1), at(23, 0, 1)}
	for _, c := range []struct {
		name     string
		previous []time.Time
		tonight  time.Time
		want     int
	}{
		{"no previous night", nil, at(23, 0, 1), 0},
		{"10 minutes late, within the grace", odd, at(23, 20, 1), 100},
		// 00:25 is 12.417 h past noon: 75 minutes late, 60 past the
		// grace: 100 − 60 / 105 × 100 = 42.86.
		{"75 minutes late, past midnight", odd, at(0, 25, 1), 42},
		// 21:55: 75 minutes early, 60 past the grace: the penalty
		// 57.14 is capped at 20.
		{"75 minutes early", odd, at(21, 55, 1), 80},
		// 02:10: 180 minutes late: 100 − 165 / 105 × 100 = −57.1, so 0.
		{"three hours late", odd, at(2, 10, 1), 0},
		// 23:45 against 23:15: 30 late, 15 past the grace:
		// 100 − 15 / 105 × 100 = 85.71.
		{"even count", even, at(23, 45, 1), 85},
		// 23:50 and 00:10 are 11.833 and 12.167 h past noon; the median
		// is midnight.
		{"around midnight", []time.Time{at(23, 50, 1), at(0, 10, 1)}, at(0, 0, 1), 100},
		// Only the local clock counts: 22:10 in the zone of the night
		// against 23:10 in the zone of the others, though they are the
		// same instant: 60 early, 45 past the grace, 42.86 capped at 20.
		{"local clock", odd, at(22, 10, 0), 80},
	} {
		if got := consistencyScore(c.previous, c.tonight); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestInterruptionsScore(t *testing.T) {
	for _, c := range []struct {
		awake      float64
		awakenings []float64
		want       int
	}{
		{0, nil, 100},            // 80 + 20
		{20, []float64{20}, 100}, // 20 minutes is the grace; one awakening keeps all 20 points
		// 10 past the grace: 80 − 10 / 70 × 80 = 68.57; three awakenings
		// keep half of 20: 78.57.
		{30, []float64{10, 10, 10}, 78},
		// 25 past the grace: 80 − 25 / 70 × 80 = 51.43; 6 and 35 count,
		// 4 does not: two keep 0.75 of 20: 66.43.
		{45, []float64{4, 6, 35}, 66},
		{5, []float64{5}, 100}, // exactly 5 minutes is not significant
		// 100 past the grace takes all 80 points; five awakenings keep none.
		{120, []float64{24, 24, 24, 24, 24}, 0},
	} {
		if got := interruptionsScore(c.awake, c.awakenings); got != c.want {
			t.Errorf("%v min awake in %v: %d, want %d", c.awake, c.awakenings, got, c.want)
		}
	}
}

func stage(s Stage, from, to string) SleepInterval {
	parse := func(v string) time.Time {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			panic(err)
		}
		return t
	}
	return SleepInterval{Stage: s, Start: parse(from), End: parse(to)}
}

func TestWakeAfterSleepOnset(t *testing.T) {
	stages := []SleepInterval{
		stage(StageAwake, "2026-03-10T22:00:00Z", "2026-03-10T22:20:00Z"), // before falling asleep: not counted
		stage(StageLight, "2026-03-10T22:20:00Z", "2026-03-10T23:00:00Z"),
		stage(StageAwake, "2026-03-10T23:00:00Z", "2026-03-10T23:10:00Z"), // 10
		stage(StageDeep, "2026-03-10T23:10:00Z", "2026-03-11T01:00:00Z"),
		stage(StageAwake, "2026-03-11T01:00:00Z", "2026-03-11T01:04:00Z"), // 4
		stage(StageAwake, "2026-03-11T01:04:00Z", "2026-03-11T01:07:00Z"), // 3: adjacent, its own awakening
		stage(StageRem, "2026-03-11T01:07:00Z", "2026-03-11T02:00:00Z"),
		stage(StageAwake, "2026-03-11T02:00:00Z", "2026-03-11T02:30:00Z"), // after the final wake-up: not counted
	}
	total, awakenings := wakeAfterSleepOnset(stages)
	if total != 17 || len(awakenings) != 3 || awakenings[0] != 10 || awakenings[1] != 4 || awakenings[2] != 3 {
		t.Errorf("%v minutes in %v, want 17 in [10 4 3]", total, awakenings)
	}
	if total, a := wakeAfterSleepOnset(stages[:1]); total != 0 || a != nil {
		t.Errorf("awake only: %v in %v", total, a)
	}
}

func TestScoreSleep(t *testing.T) {
	// The night of Open Wearables' DETAILED_STAGES_PAYLOAD fixture, as
	// BuildSessions cleans it: light 45 + 90 + 45 = 180, deep 90 + 65 =
	// 155, rem 45 + 60 = 105, one 10-minute awakening; 440 minutes asleep.
	detailed := []SleepInterval{
		stage(StageLight, "2026-03-10T22:15:00Z", "2026-03-10T23:00:00Z"),
		stage(StageDeep, "2026-03-10T23:00:00Z", "2026-03-11T00:30:00Z"),
		stage(StageRem, "2026-03-11T00:30:00Z", "2026-03-11T01:15:00Z"),
		stage(StageAwake, "2026-03-11T01:15:00Z", "2026-03-11T01:25:00Z"),
		stage(StageDeep, "2026-03-11T01:25:00Z", "2026-03-11T02:30:00Z"),
		stage(StageLight, "2026-03-11T02:30:00Z", "2026-03-11T04:00:00Z"),
		stage(StageRem, "2026-03-11T04:00:00Z", "2026-03-11T05:00:00Z"),
		stage(StageLight, "2026-03-11T05:00:00Z", "2026-03-11T05:45:00Z"),
	}
	// A short, late night: 6 h asleep, 60 deep, 30 rem, three 10-minute
	// awakenings.
	short := []SleepInterval{
		stage(StageLight, "2026-03-10T23:25:00Z", "2026-03-11T01:00:00Z"),
		stage(StageAwake, "2026-03-11T01:00:00Z", "2026-03-11T01:10:00Z"),
		stage(StageDeep, "2026-03-11T01:10:00Z", "2026-03-11T02:10:00Z"),
		stage(StageAwake, "2026-03-11T02:10:00Z", "2026-03-11T02:20:00Z"),
		stage(StageLight, "2026-03-11T02:20:00Z", "2026-03-11T04:35:00Z"),
		stage(StageAwake, "2026-03-11T04:35:00Z", "2026-03-11T04:45:00Z"),
		stage(StageRem, "2026-03-11T04:45:00Z", "2026-03-11T05:15:00Z"),
	}
	history := []time.Time{at(23, 0, 1), at(23, 10, 1), at(23, 20, 1)}
	for _, c := range []struct {
		name  string
		night SleepNight
		want  SleepScore
		ok    bool
	}{
		// Duration 7.33 h: 100; stages 100; no previous night:
		// consistency 0; 10 minutes awake, one awakening: 100.
		// 1 × 0.4 + 1 × 0.2 + 0 × 0.2 + 1 × 0.2 = 0.8: 80.
		{"first night", SleepNight{TotalSleepMinutes: 440, DeepMinutes: 155, RemMinutes: 105, AwakeMinutes: 10,
			Stages: detailed, Bedtime: at(22, 15, 0)}, SleepScore{80, 100, 100, 0, 100}, true},
		// The same night, in bed at 22:15 after three nights at about
		// 23:10: 55 minutes early, capped penalty 20: 80.
		// 0.4 + 0.2 + 0.8 × 0.2 + 0.2 = 0.96: 96.
		{"with history", SleepNight{TotalSleepMinutes: 440, DeepMinutes: 155, RemMinutes: 105, AwakeMinutes: 10,
			Stages: detailed, Bedtime: at(22, 15, 1), PreviousBedtimes: history}, SleepScore{96, 100, 100, 80, 100}, true},
		// 6 h: 85; deep 60, rem 30: 49; 00:25 against 23:10: 42;
		// 30 minutes awake, three awakenings: 78.
		// 0.85 × 0.4 + 0.49 × 0.2 + 0.42 × 0.2 + 0.78 × 0.2 = 0.678: 67.
		{"short and late", SleepNight{TotalSleepMinutes: 360, DeepMinutes: 60, RemMinutes: 30, AwakeMinutes: 30,
			Stages: short, Bedtime: at(0, 25, 1), PreviousBedtimes: history}, SleepScore{67, 85, 49, 42, 78}, true},
		// Without stages the awake minutes count, with no awakenings:
		// 80 − 25 / 70 × 80 = 51.43, plus all 20 frequency points: 71.
		// 0.85 × 0.4 + 0.49 × 0.2 + 0.42 × 0.2 + 0.71 × 0.2 = 0.664: 66.
		{"no stages", SleepNight{TotalSleepMinutes: 360, DeepMinutes: 60, RemMinutes: 30, AwakeMinutes: 45,
			Bedtime: at(0, 25, 1), PreviousBedtimes: history}, SleepScore{66, 85, 49, 42, 71}, true},
		// 7 h: 100; deep 180, no rem: 50; at the median bedtime: 100; no
		// awake time: 100. 1 × 0.4 + 0.5 × 0.2 + 1 × 0.2 + 1 × 0.2 is
		// 0.8999999999999999 in floats, as in Open Wearables: 89, not 90.
		{"float order", SleepNight{TotalSleepMinutes: 420, DeepMinutes: 180, Bedtime: at(23, 10, 1), PreviousBedtimes: history},
			SleepScore{89, 100, 50, 100, 100}, true},
		{"no sleep", SleepNight{TotalSleepMinutes: 0, Bedtime: at(23, 0, 0)}, SleepScore{}, false},
		{"more than a day", SleepNight{TotalSleepMinutes: 1441, Bedtime: at(23, 0, 0)}, SleepScore{}, false},
		// 24 h: the oversleep curve gives 0.004, floored at 50; no deep or
		// rem, no history; no awake time: 100.
		// 0.5 × 0.4 + 0 + 0 + 1 × 0.2 = 0.4: 40.
		{"a whole day", SleepNight{TotalSleepMinutes: 1440, Bedtime: at(23, 0, 0)}, SleepScore{40, 50, 0, 0, 100}, true},
	} {
		got, ok := ScoreSleep(&c.night)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestPreviousBedtimes(t *testing.T) {
	day := func(d, hour int) time.Time {
		return time.Date(2026, 3, d, hour, 0, 0, 0, time.FixedZone("", 3600))
	}
	tonight := day(20, 23)
	bedtimes := []time.Time{
		day(3, 23), // 17 days before: too old
		day(5, 22), // 15 days before: the oldest date taken
		day(6, 1),  // March 6 at 01:00 and at 23:00: the later one counts
		day(6, 23),
		day(19, 22),
		day(20, 2), // the same local date as tonight: not a previous night
		tonight,
		day(21, 23), // after
	}
	got := PreviousBedtimes(bedtimes, tonight)
	want := []time.Time{day(19, 22), day(6, 23), day(5, 22)}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("%d: %v, want %v", i, got[i], want[i])
		}
	}

	// Every one of 20 previous nights: the 14 most recent count.
	bedtimes = nil
	for d := 1; d <= 20; d++ {
		bedtimes = append(bedtimes, day(d, 23))
	}
	got = PreviousBedtimes(bedtimes, day(21, 23))
	if len(got) != SleepConsistencyNights || !got[0].Equal(day(20, 23)) || !got[13].Equal(day(7, 23)) {
		t.Errorf("%d bedtimes, from %v to %v", len(got), got[0], got[len(got)-1])
	}

	// The local date decides: 23:30 at −05:00 is 04:30 UTC the next day.
	west := time.Date(2026, 3, 19, 23, 30, 0, 0, time.FixedZone("", -5*3600))
	got = PreviousBedtimes([]time.Time{west}, time.Date(2026, 3, 20, 22, 0, 0, 0, time.FixedZone("", -5*3600)))
	if len(got) != 1 {
		t.Errorf("a bedtime of the local day before is not taken: %v", got)
	}
}

func TestScoreResilience(t *testing.T) {
	for _, c := range []struct {
		name    string
		nightly []float64
		cv      float64 // to 6 decimals
		score   int
		ok      bool
	}{
		// Mean 40; squared deviations 0 + 4 + 4 + 1 + 1 + 9 + 9 = 28;
		// sd = √(28 / 6) = 2.1602; CV 0.054006, 5.4 % ≤ 7 %: 100.
		{"steady", []float64{40, 42, 38, 41, 39, 43, 37}, 0.054006, 100, true},
		// Mean 50; 400 + 100 + 0 + 100 + 400 = 1000; sd = √250 = 15.811;
		// CV 0.316228: 100 × (40 − 31.6228) / 33 = 25.39: 25.
		{"five nights", []float64{30, 40, 50, 60, 70}, 0.316228, 25, true},
		// Mean 40; 25 + 25 + 0 + 100 + 100 = 250; sd = √62.5 = 7.9057;
		// CV 0.197642: 100 × (40 − 19.7642) / 33 = 61.32: 61.
		{"rounds down", []float64{35, 45, 40, 50, 30}, 0.197642, 61, true},
		// Mean 40; 100 + 100 = 200; sd = √50 = 7.0711; CV 0.176777:
		// 100 × (40 − 17.6777) / 33 = 67.64: 68.
		{"rounds up", []float64{30, 50, 40, 40, 40}, 0.176777, 68, true},
		// Mean 70; 2500 + 900 + 100 + 100 + 900 + 2500 = 7000;
		// sd = √1400 = 37.417; CV 0.534522 ≥ 40 %: 0.
		{"erratic", []float64{20, 40, 60, 80, 100, 120}, 0.534522, 0, true},
		{"four nights", []float64{40, 41, 42, 43}, 0, 0, false},
		// Five days counted, but only one positive average.
		{"zeros", []float64{0, 0, 0, -3, 50}, 0, 0, false},
		// The non-positive average counts as a day, not in the CV: the
		// four others are those of "five nights" without 70:
		// mean 45; 225 + 25 + 25 + 225 = 500; sd = √(500 / 3) = 12.910;
		// CV 0.286888: 100 × (40 − 28.6888) / 33 = 34.28: 34.
		{"one zero", []float64{30, 40, 0, 50, 60}, 0.286888, 34, true},
	} {
		r, ok := ScoreResilience(c.nightly)
		if ok != c.ok || ok && (r.Score != c.score || r.DaysCounted != len(c.nightly) || roundTo6(r.CV) != c.cv) {
			t.Errorf("%s: %+v %v, want CV %v score %d %v", c.name, r, ok, c.cv, c.score, c.ok)
		}
	}
}

func roundTo6(v float64) float64 {
	return float64(int64(v*1e6+0.5)) / 1e6
}
