package bench

// The devices and record types of each provider's bodies. A body takes its
// watch and its phone at the same index (Generator picks one of four per
// body); its records are split evenly across the provider's types.

// ---- Apple ----

var appleMetrics = []metric{
	{"HKQuantityTypeIdentifierHeartRate", "count/min", 48, 165, 0, 0, 0},
	{"HKQuantityTypeIdentifierStepCount", "count", 8, 420, 0, 300, 1},
	{"HKQuantityTypeIdentifierActiveEnergyBurned", "Cal", 0.05, 12, 3, 60, 0},
	{"HKQuantityTypeIdentifierDistanceWalkingRunning", "m", 3, 600, 2, 300, 1},
	{"HKQuantityTypeIdentifierOxygenSaturation", "%", 92, 100, 0, 0, 0},
	{"HKQuantityTypeIdentifierRespiratoryRate", "count/min", 11, 20, 1, 0, 0},
	{"HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "ms", 18, 110, 3, 0, 0},
	{"HKQuantityTypeIdentifierBasalEnergyBurned", "Cal", 0.8, 1.6, 3, 60, 0},
}

type appleDevice struct {
	name, bundle, model string
	major, minor, patch int
}

var appleWatches = []appleDevice{
	{"Apple Watch", "com.apple.health.81A3FE2B", "Watch7,1", 11, 2, 0},
	{"Apple Watch", "com.apple.health.5C1D9E07", "Watch7,3", 11, 1, 0},
	{"Apple Watch", "com.apple.health.0E4B6A12", "Watch6,14", 10, 6, 1},
	{"Apple Watch", "com.apple.health.F2A8C3D4", "Watch7,5", 11, 2, 0},
}

var applePhones = []appleDevice{
	{"iPhone", "com.apple.health.6D1E2F3A", "iPhone17,1", 18, 2, 0},
	{"iPhone", "com.apple.health.9B8C7D6E", "iPhone16,2", 18, 1, 1},
	{"iPhone", "com.apple.health.1A2B3C4D", "iPhone15,2", 17, 6, 1},
	{"iPhone", "com.apple.health.4E5F6A7B", "iPhone17,3", 18, 2, 0},
}

var appleWorkoutTypes = []string{"running", "walking", "cycling", "hiking", "functional_strength_training", "yoga", "swimming", "hiit"}

// ---- Samsung Health ----

var samsungWatches = []androidSource{
	{"com.sec.android.app.shealth", "R9ZW30ABC12", "Galaxy Watch7", "Samsung", "SM-L310", "watch", "automatic"},
	{"com.sec.android.app.shealth", "R9ZW41KLM07", "Galaxy Watch Ultra", "Samsung", "SM-L705F", "watch", "automatic"},
	{"com.sec.android.app.shealth", "R9ZT22QRS55", "Galaxy Watch6", "Samsung", "SM-R940", "watch", "automatic"},
	{"com.sec.android.app.shealth", "R9ZW30XYZ90", "Galaxy Watch7", "Samsung", "SM-L300", "watch", "automatic"},
}

var samsungPhones = []androidSource{
	{"com.sec.android.app.shealth", "RFCW123XYZ", "Galaxy S25 Ultra", "Samsung", "SM-S938B", "phone", ""},
	{"com.sec.android.app.shealth", "RFCX456ABC", "Galaxy S24", "Samsung", "SM-S921B", "phone", ""},
	{"com.sec.android.app.shealth", "RFCY789DEF", "Galaxy A55", "Samsung", "SM-A556B", "phone", ""},
	{"com.sec.android.app.shealth", "RFCZ012GHI", "Galaxy Z Fold6", "Samsung", "SM-F956B", "phone", ""},
}

// Samsung's dense types. Steps and active calories are hourly aggregates
// with fresh random ids and no zone offset; heart rate comes as series
// split per sample into <uid>-s<i>.
var samsungMetrics = []metric{
	{"HEART_RATE", "bpm", 48, 165, 0, 0, 0},
	{"STEP_COUNT", "count", 0, 1800, 0, 3600, 1},
	{"ACTIVE_CALORIES_BURNED", "kcal", 2, 160, 2, 3600, 1},
	{"OXYGEN_SATURATION", "%", 92, 100, 0, 0, 0},
	{"BODY_TEMPERATURE", "°C", 35.8, 37.4, 1, 0, 0},
	{"FLOORS_CLIMBED", "count", 1, 6, 0, 600, 1},
	{"RESPIRATORY_RATE", "breaths/min", 11, 20, 1, 0, 0},
}

// ---- Health Connect ----

var googleWatches = []androidSource{
	{"com.google.android.apps.fitness", "", "", "Google", "Pixel Watch 3", "watch", "automatic"},
	{"com.fitbit.FitbitMobile", "", "", "Google", "Pixel Watch 2", "watch", "automatic"},
	{"com.samsung.android.wear.shealth", "", "", "Samsung", "SM-R960", "watch", "automatic"},
	{"com.google.android.apps.fitness", "", "", "Google", "Fitbit Charge 6", "fitness_band", "automatic"},
}

var googlePhones = []androidSource{
	{"com.google.android.apps.fitness", "", "", "Google", "Pixel 9", "phone", "automatic"},
	{"com.google.android.apps.fitness", "", "", "Google", "Pixel 8", "phone", "automatic"},
	{"com.google.android.apps.fitness", "", "", "OnePlus", "CPH2581", "phone", "automatic"},
	{"com.google.android.apps.fitness", "", "", "Google", "Pixel 8a", "phone", "automatic"},
}

// Health Connect's dense types. A heart-rate record holds a series of
// samples, split as <id>-s<i> with parentId <id>.
var googleMetrics = []metric{
	{"HEART_RATE", "bpm", 48, 165, 0, 0, 0},
	{"STEP_COUNT", "count", 5, 900, 0, 600, 1},
	{"DISTANCE", "m", 4, 700, 1, 600, 1},
	{"ACTIVE_CALORIES_BURNED", "kcal", 0.5, 60, 2, 600, 0},
	{"OXYGEN_SATURATION", "%", 92, 100, 1, 0, 0},
	{"RESTING_HEART_RATE", "bpm", 45, 70, 0, 0, 0},
	{"HEART_RATE_VARIABILITY", "ms", 15, 95, 1, 0, 0},
	{"RESPIRATORY_RATE", "breaths/min", 11, 20, 1, 0, 0},
}
