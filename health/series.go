package health

import "strconv"

// Aggregation is how a series is summarised over a period (a day, a bucket of
// a time-series query): the canonical daily value of the series.
type Aggregation uint8

// The aggregation methods. The zero value is not a method: every row of the
// series table names one.
const (
	// AggAvg averages the samples: rates and levels (heart rate,
	// temperature, scores).
	AggAvg Aggregation = iota + 1
	// AggSum adds the samples: cumulative quantities (steps, energy,
	// distance, counts, durations).
	AggSum
	// AggMax keeps the largest sample: peaks (best test distance).
	AggMax
)

// String returns the method's lower-case name, "avg", "sum" or "max".
func (a Aggregation) String() string {
	switch a {
	case AggAvg:
		return "avg"
	case AggSum:
		return "sum"
	case AggMax:
		return "max"
	}
	return "Aggregation(" + strconv.Itoa(int(a)) + ")"
}

// The series categories. Each category owns a range of ids.
const (
	CategoryHeartCardiovascular = "Heart & Cardiovascular" // ids 1-19
	CategoryBloodRespiratory    = "Blood & Respiratory"    // ids 20-39
	CategoryBodyComposition     = "Body Composition"       // ids 40-59
	CategoryFitnessMetrics      = "Fitness Metrics"        // ids 60-79
	CategoryActivityBasic       = "Activity - Basic"       // ids 80-99
	CategoryActivityDistance    = "Activity - Distance"    // ids 100-119
	CategoryActivityWalking     = "Activity - Walking"     // ids 120-139
	CategoryActivityRunning     = "Activity - Running"     // ids 140-159
	CategoryActivitySwimming    = "Activity - Swimming"    // ids 160-179
	CategoryActivityGeneric     = "Activity - Generic"     // ids 180-199
	CategoryEnvironmental       = "Environmental"          // ids 200-219
	CategoryProviderSpecific    = "Provider-Specific"      // ids 220-239
	CategoryOther               = "Other"                  // ids 500-599
)

// Series is one normalized series type: what a stored sample measures.
type Series struct {
	// ID is the persistent id: it is written into stored keys and never
	// changes.
	ID uint16
	// Code is the series' name on the read API, e.g. "heart_rate".
	Code string
	// Unit is the unit every stored value of the series is in, e.g. "bpm".
	Unit string
	// Category groups series for display, e.g. "Heart & Cardiovascular".
	Category string
	// Agg is the series' daily aggregation.
	Agg Aggregation
}

// seriesTable is every series type, in id order. Ids, codes and units are
// Open Wearables'; where Open Wearables lists no aggregation for a series it
// falls back to average, and so does this table (breathing_disturbance_index,
// body_fat_mass, skeletal_muscle_mass, the skin temperature deviations,
// cardiovascular_age, running_vertical_ratio, running_stance_time_balance,
// elevation, latitude, longitude, air_temperature and hydration).
//
// Never change or reuse an id: add new series with new ids.
var seriesTable = []Series{
	{1, "heart_rate", "bpm", CategoryHeartCardiovascular, AggAvg},
	{2, "resting_heart_rate", "bpm", CategoryHeartCardiovascular, AggAvg},
	{3, "heart_rate_variability_sdnn", "ms", CategoryHeartCardiovascular, AggAvg},
	{4, "heart_rate_recovery_one_minute", "bpm", CategoryHeartCardiovascular, AggAvg},
	{5, "walking_heart_rate_average", "bpm", CategoryHeartCardiovascular, AggAvg},
	{7, "heart_rate_variability_rmssd", "ms", CategoryHeartCardiovascular, AggAvg},

	{20, "oxygen_saturation", "percent", CategoryBloodRespiratory, AggAvg},
	{21, "blood_glucose", "mg_dl", CategoryBloodRespiratory, AggAvg},
	{22, "blood_pressure_systolic", "mmHg", CategoryBloodRespiratory, AggAvg},
	{23, "blood_pressure_diastolic", "mmHg", CategoryBloodRespiratory, AggAvg},
	{24, "respiratory_rate", "brpm", CategoryBloodRespiratory, AggAvg},
	{25, "sleeping_breathing_disturbances", "count", CategoryBloodRespiratory, AggSum},
	{26, "blood_alcohol_content", "mg_dl", CategoryBloodRespiratory, AggAvg},
	{27, "peripheral_perfusion_index", "score", CategoryBloodRespiratory, AggAvg},
	{28, "forced_vital_capacity", "liters", CategoryBloodRespiratory, AggAvg},
	{29, "forced_expiratory_volume_1", "liters", CategoryBloodRespiratory, AggAvg},
	{30, "peak_expiratory_flow_rate", "L/min", CategoryBloodRespiratory, AggAvg},
	{31, "breathing_disturbance_index", "score", CategoryBloodRespiratory, AggAvg},

	{40, "height", "cm", CategoryBodyComposition, AggAvg},
	{41, "weight", "kg", CategoryBodyComposition, AggAvg},
	{42, "body_fat_percentage", "percent", CategoryBodyComposition, AggAvg},
	{43, "body_mass_index", "kg_m2", CategoryBodyComposition, AggAvg},
	{44, "lean_body_mass", "kg", CategoryBodyComposition, AggAvg},
	{45, "body_temperature", "celsius", CategoryBodyComposition, AggAvg},
	{46, "skin_temperature", "celsius", CategoryBodyComposition, AggAvg},
	{47, "waist_circumference", "cm", CategoryBodyComposition, AggAvg},
	{48, "body_fat_mass", "kg", CategoryBodyComposition, AggAvg},
	{49, "skeletal_muscle_mass", "kg", CategoryBodyComposition, AggAvg},
	{50, "skin_temperature_deviation", "celsius", CategoryBodyComposition, AggAvg},
	{51, "skin_temperature_trend_deviation", "celsius", CategoryBodyComposition, AggAvg},

	{60, "vo2_max", "ml_kg_min", CategoryFitnessMetrics, AggAvg},
	{61, "six_minute_walk_test_distance", "meters", CategoryFitnessMetrics, AggMax},
	{62, "cardiovascular_age", "years", CategoryFitnessMetrics, AggAvg},

	{80, "steps", "count", CategoryActivityBasic, AggSum},
	{81, "energy", "kcal", CategoryActivityBasic, AggSum},
	{82, "basal_energy", "kcal", CategoryActivityBasic, AggSum},
	{83, "stand_time", "minutes", CategoryActivityBasic, AggSum},
	{84, "exercise_time", "minutes", CategoryActivityBasic, AggSum},
	{85, "physical_effort", "score", CategoryActivityBasic, AggAvg},
	{86, "flights_climbed", "count", CategoryActivityBasic, AggSum},
	{87, "average_met", "met", CategoryActivityBasic, AggAvg},
	{88, "active_time", "minutes", CategoryActivityBasic, AggSum},

	{100, "distance_walking_running", "meters", CategoryActivityDistance, AggSum},
	{101, "distance_cycling", "meters", CategoryActivityDistance, AggSum},
	{102, "distance_swimming", "meters", CategoryActivityDistance, AggSum},
	{103, "distance_downhill_snow_sports", "meters", CategoryActivityDistance, AggSum},
	{104, "distance_other", "meters", CategoryActivityDistance, AggSum},

	{120, "walking_step_length", "cm", CategoryActivityWalking, AggAvg},
	{121, "walking_speed", "m_per_s", CategoryActivityWalking, AggAvg},
	{122, "walking_double_support_percentage", "percent", CategoryActivityWalking, AggAvg},
	{123, "walking_asymmetry_percentage", "percent", CategoryActivityWalking, AggAvg},
	{124, "walking_steadiness", "percent", CategoryActivityWalking, AggAvg},
	{125, "stair_descent_speed", "m_per_s", CategoryActivityWalking, AggAvg},
	{126, "stair_ascent_speed", "m_per_s", CategoryActivityWalking, AggAvg},

	{140, "running_power", "watts", CategoryActivityRunning, AggAvg},
	{141, "running_speed", "m_per_s", CategoryActivityRunning, AggAvg},
	{142, "running_vertical_oscillation", "cm", CategoryActivityRunning, AggAvg},
	{143, "running_ground_contact_time", "ms", CategoryActivityRunning, AggAvg},
	{144, "running_stride_length", "cm", CategoryActivityRunning, AggAvg},
	{145, "running_vertical_ratio", "percent", CategoryActivityRunning, AggAvg},
	{146, "running_stance_time_balance", "percent", CategoryActivityRunning, AggAvg},

	{160, "swimming_stroke_count", "count", CategoryActivitySwimming, AggSum},
	{161, "underwater_depth", "meters", CategoryActivitySwimming, AggAvg},

	{180, "cadence", "rpm", CategoryActivityGeneric, AggAvg},
	{181, "power", "watts", CategoryActivityGeneric, AggAvg},
	{182, "speed", "m_per_s", CategoryActivityGeneric, AggAvg},
	{183, "workout_effort_score", "score", CategoryActivityGeneric, AggAvg},
	{184, "estimated_workout_effort_score", "score", CategoryActivityGeneric, AggAvg},

	{200, "environmental_audio_exposure", "dB", CategoryEnvironmental, AggAvg},
	{201, "headphone_audio_exposure", "dB", CategoryEnvironmental, AggAvg},
	{202, "environmental_sound_reduction", "dB", CategoryEnvironmental, AggAvg},
	{203, "time_in_daylight", "minutes", CategoryEnvironmental, AggSum},
	{204, "water_temperature", "celsius", CategoryEnvironmental, AggAvg},
	{205, "uv_exposure", "count", CategoryEnvironmental, AggSum},
	{206, "inhaler_usage", "count", CategoryEnvironmental, AggSum},
	{207, "weather_temperature", "celsius", CategoryEnvironmental, AggAvg},
	{208, "weather_humidity", "percent", CategoryEnvironmental, AggAvg},
	{209, "elevation", "meters", CategoryEnvironmental, AggAvg},
	{210, "latitude", "degrees", CategoryEnvironmental, AggAvg},
	{211, "longitude", "degrees", CategoryEnvironmental, AggAvg},
	{212, "air_temperature", "celsius", CategoryEnvironmental, AggAvg},

	{220, "garmin_stress_level", "score", CategoryProviderSpecific, AggAvg},
	{221, "garmin_skin_temperature", "celsius", CategoryProviderSpecific, AggAvg},
	{222, "garmin_fitness_age", "years", CategoryProviderSpecific, AggAvg},
	{223, "garmin_body_battery", "percent", CategoryProviderSpecific, AggAvg},

	{500, "electrodermal_activity", "count", CategoryOther, AggAvg},
	{501, "push_count", "count", CategoryOther, AggSum},
	{502, "atrial_fibrillation_burden", "count", CategoryOther, AggSum},
	{503, "insulin_delivery", "count", CategoryOther, AggSum},
	{504, "number_of_times_fallen", "count", CategoryOther, AggSum},
	{505, "number_of_alcoholic_beverages", "count", CategoryOther, AggSum},
	{506, "nike_fuel", "count", CategoryOther, AggSum},
	{507, "hydration", "mL", CategoryOther, AggAvg},
}

// seriesByID and seriesByCode index seriesTable.
var seriesByID, seriesByCode = indexSeries()

func indexSeries() (map[uint16]int, map[string]int) {
	byID := make(map[uint16]int, len(seriesTable))
	byCode := make(map[string]int, len(seriesTable))
	for i, s := range seriesTable {
		byID[s.ID] = i
		byCode[s.Code] = i
	}
	return byID, byCode
}

// SeriesByID returns the series with the persistent id, and false if there is
// none.
func SeriesByID(id uint16) (Series, bool) {
	i, ok := seriesByID[id]
	if !ok {
		return Series{}, false
	}
	return seriesTable[i], true
}

// SeriesByCode returns the series with the code (exact, case-sensitive match),
// and false if there is none.
func SeriesByCode(code string) (Series, bool) {
	i, ok := seriesByCode[code]
	if !ok {
		return Series{}, false
	}
	return seriesTable[i], true
}

// AllSeries returns every series type in id order. The slice is a copy.
func AllSeries() []Series {
	return append([]Series(nil), seriesTable...)
}
