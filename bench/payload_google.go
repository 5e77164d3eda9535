package bench

import "time"

// Health Connect bodies, as the Android SDK writes them.

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
