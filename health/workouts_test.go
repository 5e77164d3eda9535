package health

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// factSheetWorkoutTypes is the table of SDK workout types from Open
// Wearables' documentation, copied as it stands (code spans unquoted): three
// (SDK type, unified type) pairs a row.
const factSheetWorkoutTypes = `
| SDK type (lowercased) | unified | SDK type | unified | SDK type | unified |
|---|---|---|---|---|---|
| walking | walking | running | running | cycling | cycling |
| wheelchair_walk | walking | wheelchair_run | running | hand_cycling | cycling |
| elliptical | elliptical | stair_climbing | stair_climbing | stairs | stair_climbing |
| jump_rope | cardio_training | core_training | strength_training | functional_strength_training | strength_training |
| strength_training | strength_training | cross_training | cardio_training | mixed_cardio | cardio_training |
| hiit | cardio_training | step_training | aerobics | fitness_gaming | gaming |
| preparation_and_recovery | stretching | flexibility | stretching | cooldown | stretching |
| barre | aerobics | cardio_dance | dance | social_dance | dance |
| yoga | yoga | mind_and_body | stretching | pilates | pilates |
| american_football | american_football | australian_football | football | baseball | baseball |
| basketball | basketball | cricket | cricket | disc_sports | disc_sports |
| handball | handball | hockey | hockey | lacrosse | lacrosse |
| rugby | rugby | soccer | soccer | softball | baseball |
| volleyball | volleyball | badminton | badminton | pickleball | pickleball |
| racquetball | racquetball | squash | squash | table_tennis | table_tennis |
| tennis | tennis | climbing | rock_climbing | equestrian | horseback_riding |
| fishing | fishing | golf | golf | hiking | hiking |
| hunting | hunting | play | play | cross_country_skiing | cross_country_skiing |
| curling | curling | downhill_skiing | alpine_skiing | snow_sports | snow_sports |
| snowboarding | snowboarding | skating | ice_skating | paddle_sports | paddling |
| rowing | rowing | sailing | sailing | surfing | surfing |
| swimming | swimming | underwater_diving | diving | water_fitness | swimming |
| water_polo | water_polo | water_sports | water_sports | boxing | boxing |
| kickboxing | boxing | martial_arts | martial_arts | tai_chi | martial_arts |
| wrestling | martial_arts | archery | archery | bowling | bowling |
| fencing | fencing | gymnastics | fitness_equipment | track_and_field | running |
| swim_bike_run | triathlon | transition | transition | dance | dance |
| dance_inspired_training | dance | mixed_metabolic_cardio_training | cardio_training | cycling_stationary | indoor_cycling |
| boot_camp | cardio_training | calisthenics | strength_training | dancing | dance |
| exercise_class | cardio_training | football_american | american_football | football_australian | football |
| frisbee_disc | disc_sports | guided_breathing | meditation | ice_hockey | hockey |
| ice_skating | ice_skating | paddling | paddling | paragliding | paragliding |
| rock_climbing | rock_climbing | roller_hockey | hockey | rowing_machine | rowing_machine |
| running_treadmill | treadmill | scuba_diving | diving | skiing | alpine_skiing |
| snowshoeing | snowshoeing | stair_climbing_machine | stair_climbing | stretching | stretching |
| swimming_open_water | open_water_swimming | swimming_pool | pool_swimming | weightlifting | strength_training |
| wheelchair | wheelchair | other | generic |  |  |
`

// factSheetUnifiedWorkoutTypes and factSheetWorkoutsWithPace are the lists
// from the same documentation, copied as they stand.
const factSheetUnifiedWorkoutTypes = `
Unified WorkoutType values (117): running, trail_running, treadmill,
walking, hiking, mountaineering, cycling, mountain_biking, indoor_cycling, cyclocross, swimming, pool_swimming,
open_water_swimming, strength_training, cardio_training, fitness_equipment, elliptical, rowing_machine, stair_climbing,
yoga, pilates, stretching, meditation, cross_country_skiing, alpine_skiing, backcountry_skiing, downhill_skiing,
snowboarding, snowshoeing, ice_skating, snowmobiling, winter_sports, snow_sports, rowing, kayaking, canoeing, paddling,
stand_up_paddleboarding, surfing, kitesurfing, windsurfing, sailing, water_polo, wakeboarding, water_skiing, boating,
water_sports, soccer, basketball, football, american_football, baseball, tennis, badminton, volleyball, handball, rugby,
hockey, floorball, lacrosse, cricket, squash, table_tennis, padel, pickleball, racquetball, racket_sports, boxing,
martial_arts, wrestling, fencing, rock_climbing, indoor_climbing, bouldering, trail_hiking, orienteering, archery,
fishing, hunting, paragliding, parkour, golf, skating, inline_skating, skateboarding, horseback_riding, gymnastics,
bowling, curling, disc_sports, triathlon, multisport, motorcycling, motor_sports, dance, aerobics, group_exercise,
e_biking, virtual_activity, diving, snorkeling, walking_fitness, casual_walking, transition, team_sports, para_sports,
play, wheelchair, recovery, gaming, chores, lifestyle, work, operations, generic, other, sport.
`

const factSheetWorkoutsWithPace = `
WORKOUTS_WITH_PACE (used only by the single-workout detail service, not by any SDK route): running, trail_running,
treadmill, walking, hiking, mountaineering, trail_hiking, walking_fitness, casual_walking, cycling, mountain_biking,
indoor_cycling, cyclocross, e_biking, swimming, pool_swimming, open_water_swimming, rowing, kayaking, canoeing, paddling,
stand_up_paddleboarding, cross_country_skiing, backcountry_skiing, skating, inline_skating, ice_skating, triathlon.

`

// factSheetWorkoutStats is the table of workout statistic types, copied as it
// stands (code spans unquoted).
const factSheetWorkoutStats = `
| stat type | in enum? | handling | target |
|---|---|---|---|
| duration, totalDuration | yes | workout duration_seconds = value/1000 if unit == "ms" (exact), else value as seconds; truncated to int; last one wins. If absent, duration = endDate − startDate seconds. | event_record.duration_seconds |
| activeEnergyBurned, basalEnergyBurned, calories, totalCalories | yes | **summed** together | workout_details.energy_burned (kcal). Accumulator starts at 0 whenever values is a list (so an empty list gives 0, a null values gives NULL). |
| distance | yes | detail | distance (m) |
| stepCount | yes | detail, int() truncation | steps_count |
| minHeartRate | yes | detail | heart_rate_min (int column) |
| averageHeartRate, meanHeartRate | yes | detail | heart_rate_avg (numeric 5,2) |
| maxHeartRate | yes | detail | heart_rate_max (int column) |
| averageRunningPower | yes | detail | average_watts |
| averageRunningSpeed, averageSpeed, meanSpeed | yes | detail | average_speed (m/s, numeric 5,2) |
| maxSpeed | yes | detail | max_speed (numeric 5,2) |
| elevationAscended, altitudeGain | yes | detail | total_elevation_gain (m) |
| maxAltitude | yes | detail | elev_high |
| minAltitude | yes | detail | elev_low |
| averageRunningStrideLength | yes | series sample | running_stride_length |
| averageVerticalOscillation | yes | series sample | running_vertical_oscillation |
| averageGroundContactTime | yes | series sample | running_ground_contact_time |
| averageMETs | yes | series sample | average_met |
| weatherTemperature | yes | series sample | weather_temperature |
| weatherHumidity | yes | series sample | weather_humidity |
| swimmingStrokeCount | yes | series sample | swimming_stroke_count |
| meanCadence, maxCadence | yes | series sample (both go to the same key → the later one in the list overwrites) | cadence |
| vo2Max | yes | series sample | vo2_max |
| totalEnergyBurned | **no** ("legacy") | series sample | energy |
| totalDistance | **no** ("legacy") | series sample | distance_walking_running |
| totalSteps | **no** ("legacy") | series sample | steps |
| elevationDescended, altitudeLoss, lapLength, swimmingLocationType, indoorWorkout | yes | ignored | — |
| averageCadence-like or any other string | no | ignored | — |
`

// vocabProseList returns the comma-separated names after the first colon of
// a prose list, without its closing full stop.
func vocabProseList(text string) []string {
	_, list, _ := strings.Cut(text, ":")
	list = strings.TrimSuffix(strings.TrimSpace(list), ".")
	var names []string
	for _, n := range strings.Split(list, ",") {
		names = append(names, strings.TrimSpace(n))
	}
	return names
}

func TestWorkoutTypeTableMatchesFactSheet(t *testing.T) {
	type pair struct{ sdk, unified string }
	var pairs []pair
	for _, r := range vocabMarkdownRows(t, factSheetWorkoutTypes) {
		for i := 0; i+1 < len(r); i += 2 {
			if r[i] != "" {
				pairs = append(pairs, pair{r[i], r[i+1]})
			}
		}
	}
	if len(pairs) != 110 {
		t.Fatalf("fact sheet pairs = %d, want 110", len(pairs))
	}
	if len(workoutTypeTable) != 110 || len(workoutTypes) != 110 {
		t.Errorf("workout type table has %d rows, %d distinct, want 110", len(workoutTypeTable), len(workoutTypes))
	}
	seen := map[string]bool{}
	for _, p := range pairs {
		if seen[p.sdk] {
			t.Errorf("fact sheet lists %q twice", p.sdk)
		}
		seen[p.sdk] = true
		// Apple sends snake_case, Health Connect upper case; some writers pad.
		for _, in := range []string{p.sdk, strings.ToUpper(p.sdk), " " + strings.ToUpper(p.sdk) + "\t"} {
			if got := WorkoutType(in); got != p.unified {
				t.Errorf("WorkoutType(%q) = %q, want %q", in, got, p.unified)
			}
		}
	}
}

func TestWorkoutTypeUnmapped(t *testing.T) {
	cases := map[string]string{
		"":                   WorkoutTypeUnknown, // a workout sent without a type
		"   ":                WorkoutTypeOther,
		"other":              "generic",
		"OTHER":              "generic",
		"CYCLING_STATIONARY": "indoor_cycling",
		"Running":            "running",
		"EXERCISE":           WorkoutTypeOther,
		"trail_running":      WorkoutTypeOther, // a unified type, but not an SDK type
		"run":                WorkoutTypeOther,
		"cycling-stationary": WorkoutTypeOther,
	}
	for in, want := range cases {
		if got := WorkoutType(in); got != want {
			t.Errorf("WorkoutType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnifiedWorkoutTypes(t *testing.T) {
	want := vocabProseList(factSheetUnifiedWorkoutTypes)
	if len(want) != 117 {
		t.Fatalf("fact sheet lists %d unified types, want 117", len(want))
	}
	got := UnifiedWorkoutTypes()
	if !slices.Equal(got, want) {
		t.Errorf("UnifiedWorkoutTypes() = %v\nwant %v", got, want)
	}
	unified := map[string]bool{}
	for _, u := range got {
		if unified[u] {
			t.Errorf("unified type %q listed twice", u)
		}
		unified[u] = true
	}
	if unified[WorkoutTypeUnknown] {
		t.Errorf("%q is not a unified type: it stands for a missing one", WorkoutTypeUnknown)
	}
	if !unified[WorkoutTypeOther] {
		t.Errorf("%q is not a unified type", WorkoutTypeOther)
	}
	for _, w := range workoutTypeTable {
		if !unified[w.Unified] {
			t.Errorf("%s maps to %q, which is not a unified type", w.SDK, w.Unified)
		}
		if w.SDK != strings.ToLower(strings.TrimSpace(w.SDK)) {
			t.Errorf("SDK type %q is not trimmed lower case: it could never match", w.SDK)
		}
	}
	got[0] = "changed"
	if unifiedWorkoutTypes[0] == "changed" {
		t.Error("changing UnifiedWorkoutTypes' result changed the list")
	}
}

func TestWorkoutsWithPace(t *testing.T) {
	want := vocabProseList(factSheetWorkoutsWithPace)
	if len(want) != 28 {
		t.Fatalf("fact sheet lists %d workout types with pace, want 28", len(want))
	}
	if got := WorkoutsWithPace(); !slices.Equal(got, want) {
		t.Errorf("WorkoutsWithPace() = %v\nwant %v", got, want)
	}
	for _, u := range unifiedWorkoutTypes {
		if got := WorkoutHasPace(u); got != slices.Contains(want, u) {
			t.Errorf("WorkoutHasPace(%q) = %v", u, got)
		}
	}
	for _, u := range want {
		if !slices.Contains(unifiedWorkoutTypes, u) {
			t.Errorf("%q has a pace but is not a unified type", u)
		}
	}
	if WorkoutHasPace("RUNNING") || WorkoutHasPace("") {
		t.Error("WorkoutHasPace takes unified types only")
	}
}

func TestWorkoutStatisticMatchesFactSheet(t *testing.T) {
	rows := vocabMarkdownRows(t, factSheetWorkoutStats)
	n := 0
	for _, r := range rows {
		typesCell, handling, target := r[0], r[2], r[3]
		if strings.HasPrefix(typesCell, "averageCadence-like") {
			continue // checked in TestWorkoutStatisticIgnored
		}
		var want StatTarget
		firstWord := strings.Fields(target)[0]
		switch {
		case strings.HasPrefix(handling, "workout duration_seconds"):
			want = StatTarget{Kind: StatDuration}
		case strings.HasPrefix(handling, "summed"):
			want = StatTarget{Kind: StatEnergy}
		case strings.HasPrefix(handling, "detail"):
			want = StatTarget{Kind: StatDetail, Field: firstWord}
		case strings.HasPrefix(handling, "series sample"):
			want = StatTarget{Kind: StatSeries, Series: firstWord}
		case handling == "ignored":
			want = StatTarget{Kind: StatIgnored}
		default:
			t.Fatalf("row %q: handling not understood by the test", r)
		}
		for _, st := range strings.Split(typesCell, ",") {
			st = strings.TrimSpace(st)
			n++
			if got := WorkoutStatistic(st); got != want {
				t.Errorf("WorkoutStatistic(%q) = %+v, want %+v", st, got, want)
			}
			if _, ok := workoutStats[st]; !ok {
				t.Errorf("%q is not in the statistics table", st)
			}
		}
	}
	if n != 39 || len(workoutStatTable) != 39 || len(workoutStats) != 39 {
		t.Errorf("statistic types: fact sheet %d, table %d rows, %d distinct; want 39", n, len(workoutStatTable), len(workoutStats))
	}
}

func TestWorkoutStatisticIgnored(t *testing.T) {
	for _, st := range []string{"averageCadence", "", "Duration", "DURATION", "stepcount", "heartRate", "calories "} {
		if got := WorkoutStatistic(st); got != (StatTarget{}) || got.Kind != StatIgnored {
			t.Errorf("WorkoutStatistic(%q) = %+v, want ignored", st, got)
		}
	}
}

func TestWorkoutStatTableInvariants(t *testing.T) {
	// The table is in the handling order: series samples, duration, energy,
	// detail fields, ignored.
	rank := map[StatKind]int{StatSeries: 0, StatDuration: 1, StatEnergy: 2, StatDetail: 3, StatIgnored: 4}
	prev := 0
	for _, s := range workoutStatTable {
		r := rank[s.Target.Kind]
		if r < prev {
			t.Errorf("%s (%v) is out of the handling order", s.Type, s.Target.Kind)
		}
		prev = r
		switch s.Target.Kind {
		case StatSeries:
			if _, ok := SeriesByCode(s.Target.Series); !ok {
				t.Errorf("%s: %q is not a series", s.Type, s.Target.Series)
			}
			if s.Target.Field != "" {
				t.Errorf("%s: a series sample has no field", s.Type)
			}
		case StatDetail:
			var w WorkoutSummary
			if w.detailSlot(s.Target.Field) == nil {
				t.Errorf("%s: %q is not a detail field", s.Type, s.Target.Field)
			}
			if s.Target.Series != "" {
				t.Errorf("%s: a detail has no series", s.Type)
			}
		default:
			if s.Target.Field != "" || s.Target.Series != "" {
				t.Errorf("%s: %v has neither field nor series", s.Type, s.Target.Kind)
			}
		}
	}
	for k, name := range map[StatKind]string{StatIgnored: "ignored", StatDuration: "duration", StatEnergy: "energy", StatDetail: "detail", StatSeries: "series", 7: "StatKind(7)"} {
		if k.String() != name {
			t.Errorf("StatKind(%d).String() = %q, want %q", uint8(k), k.String(), name)
		}
	}
}

func vocabTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func vocabFloat(v float64) *float64 { return &v }

// TestSummarizeWorkoutFixtures runs the workouts of Open Wearables' import
// tests and its request example through SummarizeWorkout.
func TestSummarizeWorkoutFixtures(t *testing.T) {
	type want struct {
		duration int64
		energy   *float64
		details  map[string]float64
		samples  []WorkoutSeriesSample
	}
	cases := []struct {
		name       string
		start, end string
		stats      []Stat
		want       want
	}{
		{
			name:  "sample payload: walking with statistics",
			start: "2025-03-25T17:27:00Z", end: "2025-03-25T18:51:24Z",
			stats: []Stat{
				{"duration", "s", 1683.27},
				{"activeEnergyBurned", "kcal", 131.41},
				{"basalEnergyBurned", "kcal", 48.59},
				{"distance", "m", 2165.35},
				{"minHeartRate", "bpm", 77},
				{"averageHeartRate", "bpm", 121.49},
				{"maxHeartRate", "bpm", 141},
				{"elevationAscended", "m", 15.57},
				{"averageMETs", "kcal/kg/hr", 1.6},
				{"indoorWorkout", "bool", 0},
				{"weatherTemperature", "degC", 11.19},
				{"weatherHumidity", "%", 66},
			},
			want: want{
				duration: 1683,
				energy:   vocabFloat(180),
				details: map[string]float64{
					DetailDistance: 2165.35, DetailHeartRateMin: 77, DetailHeartRateAvg: 121.49,
					DetailHeartRateMax: 141, DetailTotalElevationGain: 15.57,
				},
				samples: []WorkoutSeriesSample{{"average_met", 1.6}, {"weather_temperature", 11.19}, {"weather_humidity", 66}},
			},
		},
		{
			name:  "fractional steps are truncated",
			start: "2025-02-10T10:00:00Z", end: "2025-02-10T11:00:00Z",
			stats: []Stat{{"duration", "s", 3600}, {"stepCount", "count", 2981.57515735105}, {"distance", "m", 2165.35}},
			want: want{
				duration: 3600,
				energy:   vocabFloat(0),
				details:  map[string]float64{DetailStepsCount: 2981, DetailDistance: 2165.35},
			},
		},
		{
			name:  "steps",
			start: "2025-01-29T12:00:00Z", end: "2025-01-29T12:45:00Z",
			stats: []Stat{{"duration", "s", 2700}, {"stepCount", "count", 4500}, {"distance", "m", 3200}},
			want: want{
				duration: 2700,
				energy:   vocabFloat(0),
				details:  map[string]float64{DetailStepsCount: 4500, DetailDistance: 3200},
			},
		},
		{
			name:  "zero duration: empty statistics, duration from the dates, energy 0",
			start: "2025-01-29T14:00:00Z", end: "2025-01-29T14:30:00Z",
			stats: []Stat{},
			want:  want{duration: 1800, energy: vocabFloat(0)},
		},
		{
			name:  "null statistics: duration from the dates, no energy",
			start: "2025-01-29T15:00:00Z", end: "2025-01-29T15:20:00Z",
			stats: nil,
			want:  want{duration: 1200},
		},
		{
			name:  "without heart rate",
			start: "2019-09-30T17:00:49Z", end: "2019-09-30T17:14:29Z",
			stats: []Stat{
				{"duration", "s", 819.51}, {"activeEnergyBurned", "kcal", 77.16},
				{"basalEnergyBurned", "kcal", 19.01}, {"indoorWorkout", "bool", 1},
			},
			want: want{duration: 819, energy: vocabFloat(96.17)},
		},
		{
			name:  "request example: Samsung statistic names, duration in ms",
			start: "2026-02-24T06:00:00Z", end: "2026-02-24T06:45:00Z",
			stats: []Stat{
				{"duration", "ms", 2700000}, {"calories", "kcal", 345.5}, {"distance", "m", 5234.0},
				{"meanHeartRate", "bpm", 142.3}, {"maxHeartRate", "bpm", 178.0}, {"minHeartRate", "bpm", 95.0},
				{"meanSpeed", "m/s", 1.5}, {"maxSpeed", "m/s", 3.2}, {"meanCadence", "spm", 165.0},
				{"maxCadence", "spm", 182.0}, {"altitudeGain", "m", 45.0}, {"altitudeLoss", "m", 42.0},
				{"maxAltitude", "m", 185.0}, {"minAltitude", "m", 140.0}, {"vo2Max", "mL/kg/min", 42.5},
			},
			want: want{
				duration: 2700,
				energy:   vocabFloat(345.5),
				details: map[string]float64{
					DetailDistance: 5234, DetailHeartRateAvg: 142.3, DetailHeartRateMax: 178, DetailHeartRateMin: 95,
					DetailAverageSpeed: 1.5, DetailMaxSpeed: 3.2, DetailTotalElevationGain: 45,
					DetailElevHigh: 185, DetailElevLow: 140,
				},
				// meanCadence and maxCadence share the series: the later wins.
				samples: []WorkoutSeriesSample{{"cadence", 182}, {"vo2_max", 42.5}},
			},
		},
		{
			name:  "last duration wins, units other than exactly ms are seconds",
			start: "2025-01-01T00:00:00Z", end: "2025-01-01T01:00:00Z",
			stats: []Stat{{"duration", "ms", 1500.9}, {"totalDuration", "MS", 95.99}},
			want:  want{duration: 95, energy: vocabFloat(0)},
		},
		{
			name:  "a duration of 0 is kept",
			start: "2025-01-01T00:00:00Z", end: "2025-01-01T01:00:00Z",
			stats: []Stat{{"duration", "s", 0}},
			want:  want{duration: 0, energy: vocabFloat(0)},
		},
		{
			name:  "duration in ms truncated",
			start: "2025-01-01T00:00:00Z", end: "2025-01-01T01:00:00Z",
			stats: []Stat{{"totalDuration", "ms", 1999.9}},
			want:  want{duration: 1, energy: vocabFloat(0)},
		},
		{
			name:  "dates truncated to whole seconds",
			start: "2025-01-01T00:00:00Z", end: "2025-01-01T00:00:59.999Z",
			stats: nil,
			want:  want{duration: 59},
		},
		{
			name:  "four energy statistics add up, later detail wins, legacy totals",
			start: "2025-01-01T00:00:00Z", end: "2025-01-01T01:00:00Z",
			stats: []Stat{
				{"activeEnergyBurned", "kcal", 0.1}, {"basalEnergyBurned", "kcal", 0.2},
				{"calories", "kcal", 0.3}, {"totalCalories", "kcal", 0.4},
				{"averageSpeed", "m/s", 2.5}, {"averageRunningSpeed", "m/s", 2.75}, {"meanSpeed", "m/s", 3},
				{"averageHeartRate", "bpm", 150}, {"meanHeartRate", "bpm", 151},
				{"averageRunningPower", "W", 240}, {"stepCount", "count", 99.99}, {"stepCount", "count", 10.5},
				{"totalEnergyBurned", "kcal", 500}, {"totalDistance", "m", 10000}, {"totalSteps", "count", 12000.5},
				{"averageRunningStrideLength", "m", 1.2}, {"averageVerticalOscillation", "cm", 8.5},
				{"averageGroundContactTime", "ms", 240}, {"swimmingStrokeCount", "count", 30},
				{"elevationDescended", "m", 10}, {"lapLength", "m", 25}, {"swimmingLocationType", "", 1},
				{"averageCadence", "spm", 170},
			},
			want: want{
				duration: 3600,
				energy:   vocabFloat(1),
				details: map[string]float64{
					DetailAverageSpeed: 3, DetailHeartRateAvg: 151, DetailAverageWatts: 240, DetailStepsCount: 10,
				},
				samples: []WorkoutSeriesSample{
					{"energy", 500}, {"distance_walking_running", 10000}, {"steps", 12000.5},
					{"running_stride_length", 1.2}, {"running_vertical_oscillation", 8.5},
					{"running_ground_contact_time", 240}, {"swimming_stroke_count", 30},
				},
			},
		},
	}
	fields := []string{
		DetailDistance, DetailStepsCount, DetailHeartRateMin, DetailHeartRateAvg, DetailHeartRateMax,
		DetailAverageWatts, DetailAverageSpeed, DetailMaxSpeed, DetailTotalElevationGain, DetailElevHigh, DetailElevLow,
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SummarizeWorkout(vocabTime(t, c.start), vocabTime(t, c.end), c.stats)
			if got.DurationSeconds != c.want.duration {
				t.Errorf("DurationSeconds = %d, want %d", got.DurationSeconds, c.want.duration)
			}
			switch {
			case c.want.energy == nil && got.EnergyKcal != nil:
				t.Errorf("EnergyKcal = %v, want nil", *got.EnergyKcal)
			case c.want.energy != nil && got.EnergyKcal == nil:
				t.Errorf("EnergyKcal = nil, want %v", *c.want.energy)
			case c.want.energy != nil && *got.EnergyKcal != *c.want.energy:
				// Exact: energy is summed in decimal.
				t.Errorf("EnergyKcal = %v, want %v", *got.EnergyKcal, *c.want.energy)
			}
			for _, f := range fields {
				g := got.Detail(f)
				w, ok := c.want.details[f]
				switch {
				case !ok && g != nil:
					t.Errorf("%s = %v, want unset", f, *g)
				case ok && g == nil:
					t.Errorf("%s unset, want %v", f, w)
				case ok && *g != w:
					t.Errorf("%s = %v, want %v", f, *g, w)
				}
			}
			if !slices.Equal(got.SeriesSamples, c.want.samples) {
				t.Errorf("SeriesSamples = %v, want %v", got.SeriesSamples, c.want.samples)
			}
		})
	}
}

func TestSummarizeWorkoutEdges(t *testing.T) {
	start := vocabTime(t, "2025-01-01T00:00:00Z")
	w := SummarizeWorkout(start, start, []Stat{{"duration", "s", math.Inf(1)}, {"distance", "m", 1}})
	if w.DurationSeconds != math.MaxInt64 {
		t.Errorf("infinite duration → %d", w.DurationSeconds)
	}
	w = SummarizeWorkout(start, start, []Stat{{"duration", "s", -1e300}})
	if w.DurationSeconds != math.MinInt64 {
		t.Errorf("huge negative duration → %d", w.DurationSeconds)
	}
	w = SummarizeWorkout(start, start, []Stat{{"duration", "s", math.NaN()}, {"calories", "kcal", math.NaN()}})
	if w.DurationSeconds != 0 || w.EnergyKcal == nil || *w.EnergyKcal != 0 {
		t.Errorf("NaN duration and energy → %d, %v", w.DurationSeconds, w.EnergyKcal)
	}
	if w.Detail("not_a_field") != nil {
		t.Error("Detail of an unknown field is not nil")
	}
}
