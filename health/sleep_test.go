package health

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// sleepFixture is the part of a sync body the sleep tests read.
type sleepFixture struct {
	Provider string `json:"provider"`
	Data     struct {
		Sleep []struct {
			Stage      string `json:"stage"`
			StartDate  string `json:"startDate"`
			EndDate    string `json:"endDate"`
			ZoneOffset string `json:"zoneOffset"`
			Source     *struct {
				DeviceModel      string `json:"deviceModel"`
				DeviceModelSnake string `json:"device_model"`
				Name             string `json:"name"`
			} `json:"source"`
		} `json:"sleep"`
	} `json:"data"`
}

// loadSleep reads the sleep stages of a fixture. The source key is
// provider|device model|source name.
func loadSleep(t *testing.T, name string) []SleepInterval {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sleep_service__"+name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f sleepFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	var out []SleepInterval
	for i, s := range f.Data.Sleep {
		st, ok := ParseStage(s.Stage)
		if !ok {
			t.Fatalf("%s: sleep[%d]: stage %q", name, i, s.Stage)
		}
		start, err := time.Parse(time.RFC3339, s.StartDate)
		if err != nil {
			t.Fatal(err)
		}
		end, err := time.Parse(time.RFC3339, s.EndDate)
		if err != nil {
			t.Fatal(err)
		}
		src := f.Provider + "|"
		if s.Source != nil {
			model := s.Source.DeviceModel
			if model == "" {
				model = s.Source.DeviceModelSnake
			}
			src += model + "|" + s.Source.Name
		} else {
			src += "|"
		}
		out = append(out, SleepInterval{Stage: st, Start: start, End: end, Source: src, ZoneOffset: s.ZoneOffset})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no sleep stages", name)
	}
	return out
}

const (
	sleepPairA = "test_second_payload_merges_with_adjacent_db_record__payload_a_DERIVED"
	sleepPairB = "test_second_payload_merges_with_adjacent_db_record__payload_b"
)

func sleepAt(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// checkSessionShape checks the invariants every session holds: cleaned stages
// sorted, non-overlapping, inside the window, with no in_bed or unknown, and
// metrics that add up.
func checkSessionShape(t *testing.T, s Session) {
	t.Helper()
	if len(s.Stages) == 0 {
		t.Fatal("session without stages")
	}
	if !s.Start.Equal(s.Stages[0].Start) || !s.End.Equal(s.Stages[len(s.Stages)-1].End) {
		t.Errorf("window %v..%v does not match stages", s.Start, s.End)
	}
	var sum time.Duration
	for i, st := range s.Stages {
		if st.Stage == StageInBed || st.Stage == StageUnknown || !st.Stage.Valid() {
			t.Errorf("stage %d is %v after cleaning", i, st.Stage)
		}
		if !st.End.After(st.Start) {
			t.Errorf("stage %d is empty", i)
		}
		if i > 0 && st.Start.Before(s.Stages[i-1].End) {
			t.Errorf("stage %d overlaps the previous one", i)
		}
		sum += st.End.Sub(st.Start)
	}
	parts := s.LightMinutes + s.DeepMinutes + s.RemMinutes + s.SleepingMinutes
	if parts != s.TotalSleepMinutes {
		t.Errorf("total sleep %v != sum of parts %v", s.TotalSleepMinutes, parts)
	}
	if got := sum.Minutes(); got != s.TotalSleepMinutes+s.AwakeMinutes {
		t.Errorf("stage minutes %v != total sleep + awake %v", got, s.TotalSleepMinutes+s.AwakeMinutes)
	}
	if s.TimeInBedMinutes < s.TotalSleepMinutes+s.AwakeMinutes {
		t.Errorf("time in bed %v < total sleep + awake", s.TimeInBedMinutes)
	}
}

func TestStageParse(t *testing.T) {
	for _, s := range Stages {
		got, ok := ParseStage(s.String())
		if !ok || got != s {
			t.Errorf("ParseStage(%q) = %v, %v", s.String(), got, ok)
		}
	}
	want := map[string]Stage{
		"in_bed": StageInBed, "sleeping": StageSleeping, "awake": StageAwake, "light": StageLight,
		"deep": StageDeep, "rem": StageRem, "unknown": StageUnknown,
	}
	for wire, st := range want {
		if got, ok := ParseStage(wire); !ok || got != st {
			t.Errorf("ParseStage(%q) = %v, %v; want %v", wire, got, ok, st)
		}
	}
	for _, bad := range []string{"LIGHT", "asleep", "", "In_Bed", " light", "light ", "core", "REM"} {
		if got, ok := ParseStage(bad); ok || got != StageInvalid {
			t.Errorf("ParseStage(%q) = %v, %v; want rejected", bad, got, ok)
		}
	}
	if StageInvalid.String() != "Stage(0)" || Stage(200).String() != "Stage(200)" {
		t.Errorf("String of non-stages: %q %q", StageInvalid.String(), Stage(200).String())
	}
	for _, s := range Stages {
		if s.CanStartSession() == (s == StageAwake || s == StageUnknown) {
			t.Errorf("%v: CanStartSession = %v", s, s.CanStartSession())
		}
	}
}

func TestSleepSessionDetailedStages(t *testing.T) {
	got := BuildSessions(loadSleep(t, "DETAILED_STAGES_PAYLOAD"))
	if len(got) != 1 {
		t.Fatalf("%d sessions, want 1: %+v", len(got), got)
	}
	s := got[0]
	checkSessionShape(t, s)
	if !s.Start.Equal(sleepAt(t, "2026-03-10T22:15:00Z")) || !s.End.Equal(sleepAt(t, "2026-03-11T05:45:00Z")) {
		t.Errorf("window %v..%v, want 22:15..05:45", s.Start, s.End)
	}
	check := []struct {
		name      string
		got, want float64
	}{
		{"light", s.LightMinutes, 180},
		{"deep", s.DeepMinutes, 155},
		{"rem", s.RemMinutes, 105},
		{"awake", s.AwakeMinutes, 10},
		{"sleeping", s.SleepingMinutes, 0},
		{"total sleep", s.TotalSleepMinutes, 440},
		{"time in bed", s.TimeInBedMinutes, 480},
		{"efficiency", round1(s.Efficiency), 91.7},
	}
	for _, c := range check {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.Source != "apple|Watch7,1|" {
		t.Errorf("source %q, want the Watch", s.Source)
	}
	if len(s.Stages) != 8 {
		t.Errorf("%d cleaned stages, want the Watch's 8", len(s.Stages))
	}
	if s.Duration() != 7*time.Hour+30*time.Minute {
		t.Errorf("duration %v", s.Duration())
	}
}

func TestSleepSessionOldWatch(t *testing.T) {
	got := BuildSessions(loadSleep(t, "OLD_WATCH_PAYLOAD"))
	if len(got) != 1 {
		t.Fatalf("%d sessions, want 1: %+v", len(got), got)
	}
	s := got[0]
	checkSessionShape(t, s)
	if s.SleepingMinutes != 146 || s.TotalSleepMinutes != 146 {
		t.Errorf("sleeping %v, total %v; want 146", s.SleepingMinutes, s.TotalSleepMinutes)
	}
	if s.DeepMinutes != 0 || s.LightMinutes != 0 || s.RemMinutes != 0 || s.AwakeMinutes != 0 {
		t.Errorf("unexpected stage minutes %+v", s)
	}
	if s.TimeInBedMinutes != 160 {
		t.Errorf("time in bed %v, want 160", s.TimeInBedMinutes)
	}
	if round1(s.Efficiency) != 91.3 { // 146 / 160
		t.Errorf("efficiency %v", s.Efficiency)
	}
	if !s.Start.Equal(sleepAt(t, "2026-03-10T23:00:00Z")) || !s.End.Equal(sleepAt(t, "2026-03-11T01:30:00Z")) {
		t.Errorf("window %v..%v, want 23:00..01:30", s.Start, s.End)
	}
	if s.Source != "apple|Watch3,3|" {
		t.Errorf("source %q", s.Source)
	}
}

func TestSleepSessionPairAThenB(t *testing.T) {
	a := loadSleep(t, sleepPairA)
	b := loadSleep(t, sleepPairB)

	first := BuildSessions(a)
	if len(first) != 1 || first[0].LightMinutes != 45 || first[0].DeepMinutes != 75 ||
		!first[0].End.Equal(sleepAt(t, "2026-03-23T01:00:00Z")) {
		t.Fatalf("after A: %+v", first)
	}

	got := BuildSessions(append(slices.Clone(a), b...))
	if len(got) != 1 {
		t.Fatalf("%d sessions, want 1: %+v", len(got), got)
	}
	s := got[0]
	checkSessionShape(t, s)
	if !s.Start.Equal(sleepAt(t, "2026-03-22T23:00:00Z")) || !s.End.Equal(sleepAt(t, "2026-03-23T06:00:00Z")) {
		t.Errorf("window %v..%v, want 23:00..06:00", s.Start, s.End)
	}
	if s.LightMinutes != 255 || s.DeepMinutes != 75 || s.RemMinutes != 90 || s.AwakeMinutes != 0 {
		t.Errorf("light %v deep %v rem %v awake %v; want 255 75 90 0",
			s.LightMinutes, s.DeepMinutes, s.RemMinutes, s.AwakeMinutes)
	}
	if s.TotalSleepMinutes != 420 || s.TimeInBedMinutes != 420 || s.Efficiency != 100 {
		t.Errorf("total %v in bed %v efficiency %v", s.TotalSleepMinutes, s.TimeInBedMinutes, s.Efficiency)
	}
}

// sleepShift moves every stage by d.
func sleepShift(in []SleepInterval, d time.Duration) []SleepInterval {
	out := slices.Clone(in)
	for i := range out {
		out[i].Start = out[i].Start.Add(d)
		out[i].End = out[i].End.Add(d)
	}
	return out
}

// TestSessionConverges delivers each worked example in many ways and
// requires identical sessions every time.
func TestSessionConverges(t *testing.T) {
	examples := []struct {
		name  string
		night []SleepInterval
	}{
		{"detailed", loadSleep(t, "DETAILED_STAGES_PAYLOAD")},
		{"old watch", loadSleep(t, "OLD_WATCH_PAYLOAD")},
		{"A then B", append(loadSleep(t, sleepPairA), loadSleep(t, sleepPairB)...)},
	}
	rng := rand.New(rand.NewPCG(7, 11)) // fixed seed: the same shuffles every run
	for _, ex := range examples {
		night := ex.night
		t.Run(ex.name, func(t *testing.T) {
			want := BuildSessions(night)
			if len(want) != 1 {
				t.Fatalf("%d sessions", len(want))
			}
			same := func(how string, got []Session) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %+v\nwant %+v", how, got, want)
				}
			}

			input := slices.Clone(night)
			BuildSessions(input)
			if !reflect.DeepEqual(input, night) {
				t.Error("BuildSessions modified its input")
			}

			rev := slices.Clone(night)
			slices.Reverse(rev)
			same("reversed", BuildSessions(rev))

			orders := [][]SleepInterval{night, rev}
			for i := 0; i < 20; i++ {
				sh := slices.Clone(night)
				rng.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
				same("shuffled", BuildSessions(sh))
				orders = append(orders, sh)
			}

			// Cumulative batches: after every batch the sessions are built
			// from the union stored so far; the last build must match.
			for _, order := range orders {
				for k := 1; k <= len(order); k++ {
					var stored []SleepInterval
					var last []Session
					size := (len(order) + k - 1) / k
					for lo := 0; lo < len(order); lo += size {
						stored = append(stored, order[lo:min(lo+size, len(order))]...)
						last = BuildSessions(stored)
					}
					same("in batches", last)
				}
			}

			// Replays: every stage twice, and the whole night twice.
			dup := make([]SleepInterval, 0, 2*len(night))
			for _, s := range night {
				dup = append(dup, s, s)
			}
			same("each stage twice", BuildSessions(dup))
			same("night twice", BuildSessions(append(slices.Clone(night), night...)))

			// The same instants in another location are the same stages.
			tokyo := time.FixedZone("", 9*3600)
			moved := slices.Clone(night)
			for i := range moved {
				moved[i].Start, moved[i].End = moved[i].Start.In(tokyo), moved[i].End.In(tokyo)
			}
			same("other location", BuildSessions(append(moved, night...)))

			// Interleaved with another night three days later (another
			// device): two sessions, each the same as alone.
			later := sleepShift(night, 72*time.Hour)
			for i := range later {
				later[i].Source += "-other"
			}
			wantLater := BuildSessions(later)
			both := append(slices.Clone(night), later...)
			rng.Shuffle(len(both), func(a, b int) { both[a], both[b] = both[b], both[a] })
			got := BuildSessions(both)
			if len(got) != 2 || !reflect.DeepEqual(got[:1], want) || !reflect.DeepEqual(got[1:], wantLater) {
				t.Errorf("interleaved: got %+v", got)
			}
			if len(wantLater) == 1 {
				w, l := want[0], wantLater[0]
				if l.TotalSleepMinutes != w.TotalSleepMinutes || l.TimeInBedMinutes != w.TimeInBedMinutes ||
					l.Efficiency != w.Efficiency || !l.Start.Equal(w.Start.Add(72*time.Hour)) {
					t.Errorf("shifted night differs: %+v vs %+v", l, w)
				}
			}
		})
	}
}

func sleepIv(st Stage, start, end time.Time, src string) SleepInterval {
	return SleepInterval{Stage: st, Start: start, End: end, Source: src}
}

func TestSessionGap(t *testing.T) {
	t0 := sleepAt(t, "2026-01-05T22:00:00Z")
	h := time.Hour
	for _, c := range []struct {
		gap      time.Duration
		sessions int
	}{
		{120 * time.Minute, 1},
		{121 * time.Minute, 2},
		{119 * time.Minute, 1},
	} {
		stages := []SleepInterval{
			sleepIv(StageLight, t0, t0.Add(h), "w"),
			sleepIv(StageDeep, t0.Add(h+c.gap), t0.Add(2*h+c.gap), "w"),
		}
		got := BuildSessions(stages)
		if len(got) != c.sessions {
			t.Errorf("gap %v: %d sessions, want %d", c.gap, len(got), c.sessions)
			continue
		}
		if c.sessions == 1 {
			s := got[0]
			if s.TotalSleepMinutes != 120 || s.TimeInBedMinutes != 120 || s.Duration() != 2*h+c.gap {
				t.Errorf("gap %v: %+v", c.gap, s)
			}
		} else if got[0].LightMinutes != 60 || got[1].DeepMinutes != 60 {
			t.Errorf("gap %v: %+v", c.gap, got)
		}
	}

	// The gap is measured from the latest end so far, not from the last
	// stage: a long in_bed keeps the session open.
	stages := []SleepInterval{
		sleepIv(StageInBed, t0, t0.Add(8*h), "phone"),
		sleepIv(StageLight, t0.Add(30*time.Minute), t0.Add(h), "w"),
		sleepIv(StageRem, t0.Add(9*h), t0.Add(10*h), "w"), // 60 min after in_bed ends
	}
	if got := BuildSessions(stages); len(got) != 1 || got[0].TimeInBedMinutes != 8*60+60 {
		t.Errorf("long in_bed: %+v", got)
	}
}

func TestSessionAcrossMidnightInTokyo(t *testing.T) {
	tokyo := time.FixedZone("", 9*3600)
	at := func(day, hour, min int) time.Time { return time.Date(2026, 4, day, hour, min, 0, 0, tokyo) }
	night := []SleepInterval{
		{Stage: StageInBed, Start: at(9, 22, 45), End: at(10, 7, 15), Source: "phone", ZoneOffset: "+09:00"},
		{Stage: StageLight, Start: at(9, 23, 0), End: at(9, 23, 50), Source: "watch", ZoneOffset: "+09:00"},
		{Stage: StageDeep, Start: at(9, 23, 50), End: at(10, 1, 0), Source: "watch", ZoneOffset: "+09:00"},
		{Stage: StageAwake, Start: at(10, 1, 0), End: at(10, 1, 5), Source: "watch", ZoneOffset: "+09:00"},
		{Stage: StageRem, Start: at(10, 1, 5), End: at(10, 2, 0), Source: "watch", ZoneOffset: "+09:00"},
		{Stage: StageLight, Start: at(10, 2, 0), End: at(10, 7, 0), Source: "watch", ZoneOffset: "+09:00"},
	}
	got := BuildSessions(night)
	if len(got) != 1 {
		t.Fatalf("%d sessions, want 1: %+v", len(got), got)
	}
	s := got[0]
	checkSessionShape(t, s)
	if !s.Start.Equal(at(9, 23, 0)) || !s.End.Equal(at(10, 7, 0)) {
		t.Errorf("window %v..%v", s.Start, s.End)
	}
	if s.Start.Location() != time.UTC || s.ZoneOffset != "+09:00" {
		t.Errorf("times should be UTC with the offset alongside: %v %q", s.Start.Location(), s.ZoneOffset)
	}
	if d := s.End.In(tokyo).Day(); d != 10 {
		t.Errorf("local wake-up day %d, want 10", d)
	}
	if s.LightMinutes != 350 || s.DeepMinutes != 70 || s.RemMinutes != 55 || s.AwakeMinutes != 5 ||
		s.TotalSleepMinutes != 475 || s.TimeInBedMinutes != 510 || s.Source != "watch" {
		t.Errorf("metrics %+v", s)
	}
}

func TestSessionAwakeAndUnknownCannotStart(t *testing.T) {
	t0 := sleepAt(t, "2026-02-01T23:00:00Z")
	m := time.Minute
	onlyAwake := []SleepInterval{
		sleepIv(StageAwake, t0, t0.Add(30*m), "w"),
		sleepIv(StageAwake, t0.Add(40*m), t0.Add(50*m), "w"),
		sleepIv(StageUnknown, t0.Add(50*m), t0.Add(90*m), "w"),
	}
	if got := BuildSessions(onlyAwake); got != nil {
		t.Errorf("awake and unknown only: %+v", got)
	}
	if got := BuildSessions(nil); got != nil {
		t.Errorf("no stages: %+v", got)
	}

	// An awake stage before the first stage that can open the session is
	// not part of it; one after it, within the gap, is. Unknown never
	// counts.
	stages := []SleepInterval{
		sleepIv(StageAwake, t0, t0.Add(20*m), "w"),
		sleepIv(StageLight, t0.Add(30*m), t0.Add(90*m), "w"),
		sleepIv(StageUnknown, t0.Add(90*m), t0.Add(100*m), "w"),
		sleepIv(StageAwake, t0.Add(150*m), t0.Add(165*m), "w"),
	}
	got := BuildSessions(stages)
	if len(got) != 1 {
		t.Fatalf("%d sessions", len(got))
	}
	s := got[0]
	checkSessionShape(t, s)
	if !s.Start.Equal(t0.Add(30*m)) || !s.End.Equal(t0.Add(165*m)) || s.AwakeMinutes != 15 || s.LightMinutes != 60 {
		t.Errorf("session %+v", s)
	}
	if s.TimeInBedMinutes != 75 {
		t.Errorf("time in bed %v, want 75", s.TimeInBedMinutes)
	}

	// An awake stage at the same start as in_bed joins it.
	stages = []SleepInterval{
		sleepIv(StageAwake, t0, t0.Add(10*m), "w"),
		sleepIv(StageInBed, t0, t0.Add(60*m), "phone"),
		sleepIv(StageLight, t0.Add(10*m), t0.Add(60*m), "w"),
	}
	got = BuildSessions(stages)
	if len(got) != 1 || got[0].AwakeMinutes != 10 || got[0].LightMinutes != 50 || got[0].TimeInBedMinutes != 60 ||
		!got[0].Start.Equal(t0) {
		t.Errorf("awake at the start of in_bed: %+v", got)
	}
}

func TestSessionCleaning(t *testing.T) {
	t0 := sleepAt(t, "2026-02-10T22:00:00Z")
	m := time.Minute

	// Only in_bed: relabelled sleeping; two overlapping in_bed from two
	// devices count once.
	got := BuildSessions([]SleepInterval{
		sleepIv(StageInBed, t0, t0.Add(300*m), "phone"),
		sleepIv(StageInBed, t0.Add(60*m), t0.Add(360*m), "ring"),
	})
	if len(got) != 1 || got[0].SleepingMinutes != 360 || got[0].TimeInBedMinutes != 360 || got[0].Efficiency != 100 ||
		got[0].Source != "phone" {
		t.Errorf("in_bed only: %+v", got)
	}

	// Detailed stages from two devices overlap: earlier stages win and no
	// minute counts twice; sleeping only gives time in bed.
	got = BuildSessions([]SleepInterval{
		sleepIv(StageSleeping, t0.Add(-30*m), t0.Add(30*m), "app"),
		sleepIv(StageLight, t0, t0.Add(60*m), "watch"),
		sleepIv(StageDeep, t0.Add(60*m), t0.Add(120*m), "watch"),
		sleepIv(StageRem, t0.Add(45*m), t0.Add(90*m), "ring"),
		sleepIv(StageLight, t0.Add(100*m), t0.Add(150*m), "ring"),
	})
	if len(got) != 1 {
		t.Fatalf("%d sessions", len(got))
	}
	s := got[0]
	checkSessionShape(t, s)
	// Canonical order: light 0..60, rem 45..90 -> 60..90, deep 60..120 ->
	// 90..120, light 100..150 -> 120..150.
	if s.LightMinutes != 90 || s.RemMinutes != 30 || s.DeepMinutes != 30 || s.SleepingMinutes != 0 ||
		s.TotalSleepMinutes != 150 {
		t.Errorf("clipped minutes: %+v", s)
	}
	if s.TimeInBedMinutes != 180 || round1(s.Efficiency) != 83.3 {
		t.Errorf("time in bed %v efficiency %v; want 180 (sleeping from 21:30) and 83.3", s.TimeInBedMinutes, s.Efficiency)
	}
	if !s.Start.Equal(t0) || !s.End.Equal(t0.Add(150*m)) {
		t.Errorf("window %v..%v", s.Start, s.End)
	}
	if s.Source != "watch" { // watch 60+30, ring 30+30
		t.Errorf("source %q", s.Source)
	}

	// Intervals that hold no time are ignored.
	got = BuildSessions([]SleepInterval{
		sleepIv(StageDeep, t0, t0, "w"),
		sleepIv(StageLight, t0.Add(60*m), t0, "w"),
		{Stage: StageInvalid, Start: t0, End: t0.Add(m), Source: "w"},
	})
	if got != nil {
		t.Errorf("empty intervals: %+v", got)
	}
}

func TestSessionInterruptions(t *testing.T) {
	A, L, D, R, S := StageAwake, StageLight, StageDeep, StageRem, StageSleeping
	for _, c := range []struct {
		stages []Stage
		want   int
	}{
		{nil, 0},                          // no stages
		{[]Stage{A}, 0},                   // awake only
		{[]Stage{A, A}, 0},                // awake only, two stages
		{[]Stage{L}, 0},                   // one asleep stage
		{[]Stage{A, L, D, A}, 0},          // awake before falling asleep and after waking
		{[]Stage{L, A, D}, 1},             // one spell
		{[]Stage{L, A, A, D}, 1},          // adjacent awake stages are one spell
		{[]Stage{A, L, A, R, A, D, A}, 2}, // two inside, two at the edges
		{[]Stage{S, A, S, A, S}, 2},       // unstaged sleep counts as asleep
		{[]Stage{L, D, R}, 0},             // no awake stage
	} {
		s := Session{}
		for _, st := range c.stages {
			s.Stages = append(s.Stages, SleepInterval{Stage: st})
		}
		if got := s.Interruptions(); got != c.want {
			t.Errorf("%v: %d interruptions, want %d", c.stages, got, c.want)
		}
	}
}
