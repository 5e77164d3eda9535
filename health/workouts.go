package health

import (
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Workout types that do not come from the table.
const (
	// WorkoutTypeUnknown is the type of a workout sent without one (an empty
	// or null type): Open Wearables stores no type and its read API shows
	// "unknown".
	WorkoutTypeUnknown = "unknown"
	// WorkoutTypeOther is the type of a workout whose type string is not in
	// the table. (The SDK's own "other" is "generic".)
	WorkoutTypeOther = "other"
)

// workoutTypeTable maps the SDK workout types, lower-case, to the unified
// workout types: Apple HealthKit's snake_case names and Health Connect's
// exercise names (sent upper-case), as Open Wearables maps them.
var workoutTypeTable = []struct {
	SDK     string
	Unified string
}{
	{"walking", "walking"},
	{"running", "running"},
	{"cycling", "cycling"},
	{"wheelchair_walk", "walking"},
	{"wheelchair_run", "running"},
	{"hand_cycling", "cycling"},
	{"elliptical", "elliptical"},
	{"stair_climbing", "stair_climbing"},
	{"stairs", "stair_climbing"},
	{"jump_rope", "cardio_training"},
	{"core_training", "strength_training"},
	{"functional_strength_training", "strength_training"},
	{"strength_training", "strength_training"},
	{"cross_training", "cardio_training"},
	{"mixed_cardio", "cardio_training"},
	{"hiit", "cardio_training"},
	{"step_training", "aerobics"},
	{"fitness_gaming", "gaming"},
	{"preparation_and_recovery", "stretching"},
	{"flexibility", "stretching"},
	{"cooldown", "stretching"},
	{"barre", "aerobics"},
	{"cardio_dance", "dance"},
	{"social_dance", "dance"},
	{"yoga", "yoga"},
	{"mind_and_body", "stretching"},
	{"pilates", "pilates"},
	{"american_football", "american_football"},
	{"australian_football", "football"},
	{"baseball", "baseball"},
	{"basketball", "basketball"},
	{"cricket", "cricket"},
	{"disc_sports", "disc_sports"},
	{"handball", "handball"},
	{"hockey", "hockey"},
	{"lacrosse", "lacrosse"},
	{"rugby", "rugby"},
	{"soccer", "soccer"},
	{"softball", "baseball"},
	{"volleyball", "volleyball"},
	{"badminton", "badminton"},
	{"pickleball", "pickleball"},
	{"racquetball", "racquetball"},
	{"squash", "squash"},
	{"table_tennis", "table_tennis"},
	{"tennis", "tennis"},
	{"climbing", "rock_climbing"},
	{"equestrian", "horseback_riding"},
	{"fishing", "fishing"},
	{"golf", "golf"},
	{"hiking", "hiking"},
	{"hunting", "hunting"},
	{"play", "play"},
	{"cross_country_skiing", "cross_country_skiing"},
	{"curling", "curling"},
	{"downhill_skiing", "alpine_skiing"},
	{"snow_sports", "snow_sports"},
	{"snowboarding", "snowboarding"},
	{"skating", "ice_skating"},
	{"paddle_sports", "paddling"},
	{"rowing", "rowing"},
	{"sailing", "sailing"},
	{"surfing", "surfing"},
	{"swimming", "swimming"},
	{"underwater_diving", "diving"},
	{"water_fitness", "swimming"},
	{"water_polo", "water_polo"},
	{"water_sports", "water_sports"},
	{"boxing", "boxing"},
	{"kickboxing", "boxing"},
	{"martial_arts", "martial_arts"},
	{"tai_chi", "martial_arts"},
	{"wrestling", "martial_arts"},
	{"archery", "archery"},
	{"bowling", "bowling"},
	{"fencing", "fencing"},
	{"gymnastics", "fitness_equipment"},
	{"track_and_field", "running"},
	{"swim_bike_run", "triathlon"},
	{"transition", "transition"},
	{"dance", "dance"},
	{"dance_inspired_training", "dance"},
	{"mixed_metabolic_cardio_training", "cardio_training"},
	{"cycling_stationary", "indoor_cycling"},
	{"boot_camp", "cardio_training"},
	{"calisthenics", "strength_training"},
	{"dancing", "dance"},
	{"exercise_class", "cardio_training"},
	{"football_american", "american_football"},
	{"football_australian", "football"},
	{"frisbee_disc", "disc_sports"},
	{"guided_breathing", "meditation"},
	{"ice_hockey", "hockey"},
	{"ice_skating", "ice_skating"},
	{"paddling", "paddling"},
	{"paragliding", "paragliding"},
	{"rock_climbing", "rock_climbing"},
	{"roller_hockey", "hockey"},
	{"rowing_machine", "rowing_machine"},
	{"running_treadmill", "treadmill"},
	{"scuba_diving", "diving"},
	{"skiing", "alpine_skiing"},
	{"snowshoeing", "snowshoeing"},
	{"stair_climbing_machine", "stair_climbing"},
	{"stretching", "stretching"},
	{"swimming_open_water", "open_water_swimming"},
	{"swimming_pool", "pool_swimming"},
	{"weightlifting", "strength_training"},
	{"wheelchair", "wheelchair"},
	{"other", "generic"},
}

// unifiedWorkoutTypes is every unified workout type a workout can be read back
// with (besides WorkoutTypeUnknown), as Open Wearables defines them; the table
// above uses a subset.
var unifiedWorkoutTypes = []string{
	"running", "trail_running", "treadmill", "walking", "hiking", "mountaineering",
	"cycling", "mountain_biking", "indoor_cycling", "cyclocross",
	"swimming", "pool_swimming", "open_water_swimming",
	"strength_training", "cardio_training", "fitness_equipment", "elliptical", "rowing_machine", "stair_climbing",
	"yoga", "pilates", "stretching", "meditation",
	"cross_country_skiing", "alpine_skiing", "backcountry_skiing", "downhill_skiing", "snowboarding", "snowshoeing",
	"ice_skating", "snowmobiling", "winter_sports", "snow_sports",
	"rowing", "kayaking", "canoeing", "paddling", "stand_up_paddleboarding", "surfing", "kitesurfing", "windsurfing",
	"sailing", "water_polo", "wakeboarding", "water_skiing", "boating", "water_sports",
	"soccer", "basketball", "football", "american_football", "baseball", "tennis", "badminton", "volleyball",
	"handball", "rugby", "hockey", "floorball", "lacrosse", "cricket", "squash", "table_tennis", "padel",
	"pickleball", "racquetball", "racket_sports",
	"boxing", "martial_arts", "wrestling", "fencing",
	"rock_climbing", "indoor_climbing", "bouldering", "trail_hiking", "orienteering",
	"archery", "fishing", "hunting", "paragliding", "parkour", "golf",
	"skating", "inline_skating", "skateboarding", "horseback_riding", "gymnastics", "bowling", "curling",
	"disc_sports", "triathlon", "multisport", "motorcycling", "motor_sports",
	"dance", "aerobics", "group_exercise", "e_biking", "virtual_activity", "diving", "snorkeling",
	"walking_fitness", "casual_walking", "transition", "team_sports", "para_sports", "play", "wheelchair",
	"recovery", "gaming", "chores", "lifestyle", "work", "operations", "generic", "other", "sport",
}

// workoutsWithPace is the unified workout types for which a pace (time per
// distance) is meaningful.
var workoutsWithPace = []string{
	"running", "trail_running", "treadmill", "walking", "hiking", "mountaineering", "trail_hiking",
	"walking_fitness", "casual_walking",
	"cycling", "mountain_biking", "indoor_cycling", "cyclocross", "e_biking",
	"swimming", "pool_swimming", "open_water_swimming",
	"rowing", "kayaking", "canoeing", "paddling", "stand_up_paddleboarding",
	"cross_country_skiing", "backcountry_skiing", "skating", "inline_skating", "ice_skating",
	"triathlon",
}

// workoutTypes indexes workoutTypeTable by SDK type; workoutPaceTypes is
// workoutsWithPace as a set.
var workoutTypes, workoutPaceTypes = indexWorkoutTypes()

func indexWorkoutTypes() (map[string]string, map[string]bool) {
	types := make(map[string]string, len(workoutTypeTable))
	for _, w := range workoutTypeTable {
		types[w.SDK] = w.Unified
	}
	pace := make(map[string]bool, len(workoutsWithPace))
	for _, t := range workoutsWithPace {
		pace[t] = true
	}
	return types, pace
}

// WorkoutType returns the unified workout type of an SDK workout type. The
// type is trimmed and lower-cased first, so "CYCLING_STATIONARY" and
// "cycling_stationary" match alike. An empty type gives WorkoutTypeUnknown; a
// type not in the table gives WorkoutTypeOther.
func WorkoutType(sdkType string) string {
	if sdkType == "" {
		return WorkoutTypeUnknown
	}
	if u, ok := workoutTypes[sdkType]; ok {
		return u
	}
	if u, ok := workoutTypes[strings.ToLower(strings.TrimSpace(sdkType))]; ok {
		return u
	}
	return WorkoutTypeOther
}

// UnifiedWorkoutTypes returns every unified workout type. The slice is a copy.
func UnifiedWorkoutTypes() []string {
	return slices.Clone(unifiedWorkoutTypes)
}

// WorkoutHasPace reports whether a pace is meaningful for the unified workout
// type.
func WorkoutHasPace(unifiedType string) bool {
	return workoutPaceTypes[unifiedType]
}

// WorkoutsWithPace returns the unified workout types that have a pace. The
// slice is a copy.
func WorkoutsWithPace() []string {
	return slices.Clone(workoutsWithPace)
}

// StatKind is what a workout statistic becomes.
type StatKind uint8

// The statistic kinds. The zero value is StatIgnored, the kind of any
// statistic not in the table.
const (
	// StatIgnored: the statistic is not stored.
	StatIgnored StatKind = iota
	// StatDuration: the workout's duration.
	StatDuration
	// StatEnergy: added into the workout's energy.
	StatEnergy
	// StatDetail: a field of the workout's details.
	StatDetail
	// StatSeries: a sample of a series, at the workout's end.
	StatSeries
)

// String returns the kind's name.
func (k StatKind) String() string {
	switch k {
	case StatIgnored:
		return "ignored"
	case StatDuration:
		return "duration"
	case StatEnergy:
		return "energy"
	case StatDetail:
		return "detail"
	case StatSeries:
		return "series"
	}
	return "StatKind(" + strconv.Itoa(int(k)) + ")"
}

// The workout detail fields that statistics fill.
const (
	DetailDistance           = "distance"             // meters
	DetailStepsCount         = "steps_count"          // count, an integer
	DetailHeartRateMin       = "heart_rate_min"       // bpm
	DetailHeartRateAvg       = "heart_rate_avg"       // bpm
	DetailHeartRateMax       = "heart_rate_max"       // bpm
	DetailAverageWatts       = "average_watts"        // watts
	DetailAverageSpeed       = "average_speed"        // m/s
	DetailMaxSpeed           = "max_speed"            // m/s
	DetailTotalElevationGain = "total_elevation_gain" // meters
	DetailElevHigh           = "elev_high"            // meters
	DetailElevLow            = "elev_low"             // meters
)

// StatTarget is where a workout statistic goes.
type StatTarget struct {
	// Kind is what the statistic becomes.
	Kind StatKind
	// Field is the detail field, one of the Detail constants, for StatDetail.
	Field string
	// Series is the series code, for StatSeries.
	Series string
}

// workoutStatTable maps the workout statistic types (values[].type of a
// workout) to their targets, in Open Wearables' handling order: series
// samples, then duration and energy, then detail fields, then the statistics
// known and deliberately not stored. No type appears twice, so the order only
// documents. Statistic values are stored as sent: no unit conversion applies
// except to duration.
var workoutStatTable = []struct {
	Type   string
	Target StatTarget
}{
	// Series samples, recorded at the workout's end.
	{"averageRunningStrideLength", StatTarget{Kind: StatSeries, Series: "running_stride_length"}},
	{"averageVerticalOscillation", StatTarget{Kind: StatSeries, Series: "running_vertical_oscillation"}},
	{"averageGroundContactTime", StatTarget{Kind: StatSeries, Series: "running_ground_contact_time"}},
	{"averageMETs", StatTarget{Kind: StatSeries, Series: "average_met"}},
	{"weatherTemperature", StatTarget{Kind: StatSeries, Series: "weather_temperature"}},
	{"weatherHumidity", StatTarget{Kind: StatSeries, Series: "weather_humidity"}},
	{"swimmingStrokeCount", StatTarget{Kind: StatSeries, Series: "swimming_stroke_count"}},
	{"meanCadence", StatTarget{Kind: StatSeries, Series: "cadence"}},
	{"maxCadence", StatTarget{Kind: StatSeries, Series: "cadence"}},
	{"vo2Max", StatTarget{Kind: StatSeries, Series: "vo2_max"}},
	// Legacy names, still accepted.
	{"totalEnergyBurned", StatTarget{Kind: StatSeries, Series: "energy"}},
	{"totalDistance", StatTarget{Kind: StatSeries, Series: "distance_walking_running"}},
	{"totalSteps", StatTarget{Kind: StatSeries, Series: "steps"}},

	// Duration.
	{"duration", StatTarget{Kind: StatDuration}},
	{"totalDuration", StatTarget{Kind: StatDuration}},

	// Energy: these four are added together.
	{"activeEnergyBurned", StatTarget{Kind: StatEnergy}},
	{"basalEnergyBurned", StatTarget{Kind: StatEnergy}},
	{"calories", StatTarget{Kind: StatEnergy}},
	{"totalCalories", StatTarget{Kind: StatEnergy}},

	// Detail fields.
	{"distance", StatTarget{Kind: StatDetail, Field: DetailDistance}},
	{"stepCount", StatTarget{Kind: StatDetail, Field: DetailStepsCount}},
	{"minHeartRate", StatTarget{Kind: StatDetail, Field: DetailHeartRateMin}},
	{"averageHeartRate", StatTarget{Kind: StatDetail, Field: DetailHeartRateAvg}},
	{"meanHeartRate", StatTarget{Kind: StatDetail, Field: DetailHeartRateAvg}},
	{"maxHeartRate", StatTarget{Kind: StatDetail, Field: DetailHeartRateMax}},
	{"averageRunningPower", StatTarget{Kind: StatDetail, Field: DetailAverageWatts}},
	{"averageRunningSpeed", StatTarget{Kind: StatDetail, Field: DetailAverageSpeed}},
	{"averageSpeed", StatTarget{Kind: StatDetail, Field: DetailAverageSpeed}},
	{"meanSpeed", StatTarget{Kind: StatDetail, Field: DetailAverageSpeed}},
	{"maxSpeed", StatTarget{Kind: StatDetail, Field: DetailMaxSpeed}},
	{"elevationAscended", StatTarget{Kind: StatDetail, Field: DetailTotalElevationGain}},
	{"altitudeGain", StatTarget{Kind: StatDetail, Field: DetailTotalElevationGain}},
	{"maxAltitude", StatTarget{Kind: StatDetail, Field: DetailElevHigh}},
	{"minAltitude", StatTarget{Kind: StatDetail, Field: DetailElevLow}},

	// Known, not stored.
	{"elevationDescended", StatTarget{Kind: StatIgnored}},
	{"altitudeLoss", StatTarget{Kind: StatIgnored}},
	{"lapLength", StatTarget{Kind: StatIgnored}},
	{"swimmingLocationType", StatTarget{Kind: StatIgnored}},
	{"indoorWorkout", StatTarget{Kind: StatIgnored}},
}

// workoutStats indexes workoutStatTable by statistic type.
var workoutStats = indexWorkoutStats()

func indexWorkoutStats() map[string]StatTarget {
	idx := make(map[string]StatTarget, len(workoutStatTable))
	for _, s := range workoutStatTable {
		idx[s.Type] = s.Target
	}
	return idx
}

// WorkoutStatistic returns where a workout statistic of the type goes. The
// match is exact and case-sensitive; any other type is ignored (the zero
// StatTarget).
func WorkoutStatistic(statType string) StatTarget {
	return workoutStats[statType]
}

// Stat is one workout statistic as sent. A statistic sent with a null type
// or a null value is skipped before it gets here.
type Stat struct {
	Type  string
	Unit  string
	Value float64
}

// WorkoutSeriesSample is a series sample made from a workout statistic. It is
// recorded at the workout's end, with the workout's data source.
type WorkoutSeriesSample struct {
	Series string // series code
	Value  float64
}

// WorkoutSummary is what a workout's statistics say about it.
type WorkoutSummary struct {
	// DurationSeconds is from the last duration statistic, in seconds
	// (divided by 1000 when its unit is exactly "ms"), truncated toward zero;
	// without one, the seconds from start to end, truncated.
	DurationSeconds int64
	// EnergyKcal is the sum of the energy statistics: nil when the workout
	// had no statistics list at all, 0 when the list had none of them.
	EnergyKcal *float64

	// Detail fields, nil when no statistic gave them. When two statistics
	// give the same field the later one wins.
	Distance           *float64 // meters
	StepsCount         *float64 // an integer: fractions are truncated
	HeartRateMin       *float64
	HeartRateAvg       *float64
	HeartRateMax       *float64
	AverageWatts       *float64
	AverageSpeed       *float64
	MaxSpeed           *float64
	TotalElevationGain *float64
	ElevHigh           *float64
	ElevLow            *float64

	// SeriesSamples holds one sample per series, in the order the series
	// first appeared; when two statistics give the same series (meanCadence
	// and maxCadence) the later value wins.
	SeriesSamples []WorkoutSeriesSample
}

// Detail returns the detail field named by one of the Detail constants, nil
// when it is unset or the name is unknown.
func (w *WorkoutSummary) Detail(field string) *float64 {
	if p := w.detailSlot(field); p != nil {
		return *p
	}
	return nil
}

func (w *WorkoutSummary) detailSlot(field string) **float64 {
	switch field {
	case DetailDistance:
		return &w.Distance
	case DetailStepsCount:
		return &w.StepsCount
	case DetailHeartRateMin:
		return &w.HeartRateMin
	case DetailHeartRateAvg:
		return &w.HeartRateAvg
	case DetailHeartRateMax:
		return &w.HeartRateMax
	case DetailAverageWatts:
		return &w.AverageWatts
	case DetailAverageSpeed:
		return &w.AverageSpeed
	case DetailMaxSpeed:
		return &w.MaxSpeed
	case DetailTotalElevationGain:
		return &w.TotalElevationGain
	case DetailElevHigh:
		return &w.ElevHigh
	case DetailElevLow:
		return &w.ElevLow
	}
	return nil
}

// SummarizeWorkout reads a workout's statistics, in order. stats is nil when
// the workout came without a statistics list, and empty when the list was
// empty; the two differ only in EnergyKcal.
func SummarizeWorkout(start, end time.Time, stats []Stat) WorkoutSummary {
	var w WorkoutSummary
	var duration *int64
	var energy *big.Rat
	if stats != nil {
		energy = new(big.Rat)
	}
	for _, st := range stats {
		t := WorkoutStatistic(st.Type)
		switch t.Kind {
		case StatSeries:
			w.addSeriesSample(t.Series, st.Value)
		case StatDuration:
			secs := st.Value
			if st.Unit == "ms" {
				secs /= 1000
			}
			d := truncToInt64(secs)
			duration = &d
		case StatEnergy:
			energy.Add(energy, decimalRat(st.Value))
		case StatDetail:
			v := st.Value
			if t.Field == DetailStepsCount {
				v = math.Trunc(v)
			}
			if p := w.detailSlot(t.Field); p != nil {
				*p = &v
			}
		}
	}
	if duration != nil {
		w.DurationSeconds = *duration
	} else {
		w.DurationSeconds = int64(end.Sub(start) / time.Second)
	}
	if energy != nil {
		e, _ := energy.Float64()
		w.EnergyKcal = &e
	}
	return w
}

func (w *WorkoutSummary) addSeriesSample(series string, value float64) {
	for i := range w.SeriesSamples {
		if w.SeriesSamples[i].Series == series {
			w.SeriesSamples[i].Value = value
			return
		}
	}
	w.SeriesSamples = append(w.SeriesSamples, WorkoutSeriesSample{Series: series, Value: value})
}

// truncToInt64 truncates f toward zero, saturating at the int64 range; NaN
// gives 0.
func truncToInt64(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
