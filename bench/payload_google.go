package bench

import "time"

// Health Connect bodies, as the Android SDK writes them.

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

func (w *writer) googleRecords(n int) {
	w.first = true
	watch, phone := googleWatches[w.device], googlePhones[w.device]
	if n >= 50 {
		// A blood-pressure reading from a cuff (-sys, -dia) and a weight
		// from a scale.
		id := w.newID(false)
		at := w.day.Add(time.Duration(7*3600+w.r.IntN(3600)) * time.Second)
		cuff := androidSource{"com.withings.wiscale2", "", "", "Withings", "BPM Connect", "unknown", "active"}
		meta := `{"bodyPosition":"sitting_down","measurementLocation":"left_upper_arm"}`
		w.androidRecord(id+"-sys", id, "BLOOD_PRESSURE_SYSTOLIC", at, at, w.zone, cuff, w.between(105, 140), 0, "mmHg", meta)
		w.androidRecord(id+"-dia", id, "BLOOD_PRESSURE_DIASTOLIC", at, at, w.zone, cuff, w.between(65, 90), 0, "mmHg", meta)
		scale := androidSource{"com.withings.wiscale2", "", "", "Withings", "Body+", "scale", "automatic"}
		w.androidRecord(w.newID(false), "", "WEIGHT", at, at, w.zone, scale, w.between(55, 100), 2, "kg", "")
		n -= 3
	}
	w.androidMetrics(n, googleMetrics, watch, phone, func() int { return 5 + w.r.IntN(40) },
		func(m metric) (string, string) {
			if m.typ == "HEART_RATE_VARIABILITY" {
				return w.zone, `{"method":"rmssd"}`
			}
			return w.zone, ""
		})
}

func (w *writer) googleSleep(n int) {
	id := w.newID(false)
	w.androidSleep(id, "-s", w.sleepNight(n), googleWatches[w.device], "null")
}

// googleWorkout: Health Connect links only the duration to an exercise.
func (w *writer) googleWorkout() {
	typ := [...]string{"RUNNING", "WALKING", "BIKING", "STRENGTH_TRAINING", "YOGA", "HIKING", "SWIMMING_POOL"}[w.r.IntN(7)]
	secs := 900 + w.r.IntN(3600)
	start := w.day.Add(time.Duration(6*3600+w.r.IntN(12*3600)) * time.Second)
	w.androidWorkout(w.newID(false), "", typ, start, secs, googleWatches[w.device])
	w.raw(`{"type":"duration","value":`)
	w.int(secs)
	w.raw(`,"unit":"s"}],"segments":null,"laps":null,"route":null,"samples":null,"metadata":null}`)
	w.body.Workouts++
}
