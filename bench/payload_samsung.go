package bench

import (
	"math"
	"strconv"
	"time"
)

// Samsung Health bodies, as the Android SDK writes them.

func (w *writer) samsungRecords(n int) {
	w.first = true
	watch, phone := samsungWatches[w.device], samsungPhones[w.device]
	if n >= 50 {
		// One blood-pressure reading (-sys, -dia, -pulse) and one body
		// composition (-weight, -height, ...), each split under its uid.
		uid := w.newID(false)
		at := w.day.Add(time.Duration(7*3600+w.r.IntN(3600)) * time.Second)
		w.androidRecord(uid+"-sys", uid, "BLOOD_PRESSURE_SYSTOLIC", at, at, w.zone, watch, w.between(105, 140), 0, "mmHg", "")
		w.androidRecord(uid+"-dia", uid, "BLOOD_PRESSURE_DIASTOLIC", at, at, w.zone, watch, w.between(65, 90), 0, "mmHg", "")
		w.androidRecord(uid+"-pulse", uid, "HEART_RATE", at, at, w.zone, watch, w.between(55, 85), 0, "bpm", "")
		uid = w.newID(false)
		at = at.Add(-40 * time.Minute)
		kg := w.between(55, 100)
		for _, c := range []struct {
			suffix string
			stat
		}{
			{"-weight", stat{"WEIGHT", "kg", kg, 1}}, {"-height", stat{"HEIGHT", "m", w.between(1.55, 1.95), 2}},
			{"-bf", stat{"BODY_FAT", "%", w.between(12, 32), 1}}, {"-bfm", stat{"BODY_FAT_MASS", "kg", kg * 0.22, 1}},
			{"-ffm", stat{"LEAN_BODY_MASS", "kg", kg * 0.78, 1}}, {"-smm", stat{"SKELETAL_MUSCLE_MASS", "kg", kg * 0.42, 1}},
			{"-bmi", stat{"BMI", "kg/m²", w.between(19, 31), 1}}, {"-bmr", stat{"BASAL_METABOLIC_RATE", "kcal/day", w.between(1300, 1900), 0}},
		} {
			w.androidRecord(uid+c.suffix, uid, c.typ, at, at, w.zone, phone, c.v, c.dec, c.unit, "")
		}
		n -= 11
	}
	w.androidMetrics(n, samsungMetrics, watch, phone, func() int { return 10 + w.r.IntN(20) },
		func(m metric) (string, string) {
			if m.span == 3600 {
				return "", "" // the hourly aggregates carry no zone offset
			}
			return w.zone, ""
		})
}

func (w *writer) samsungSleep(n int) {
	uid := w.newID(false)
	nt := w.sleepNight(n)
	score := 60 + w.r.IntN(35)
	values := `[{"type":"sleepScore","value":` + strconv.Itoa(score) + `,"unit":"score"}]`
	w.androidSleep(uid, "-s0-", nt, samsungWatches[w.device], values)
}

// samsungWorkout writes one exercise session, <uid>-s0, with its numeric
// keys passed through. Outdoor sessions carry their 1 Hz route and their
// 1 Hz heart-rate, cadence and speed log as samples.
func (w *writer) samsungWorkout() {
	uid := w.newID(false)
	outdoor := w.r.IntN(3) == 0
	typ := [...]string{"WALKING", "STRENGTH_TRAINING", "YOGA", "ELLIPTICAL_TRAINER"}[w.r.IntN(4)]
	secs := 900 + w.r.IntN(2700)
	if outdoor {
		typ = [...]string{"RUNNING", "CYCLING", "HIKING"}[w.r.IntN(3)]
		secs = 900 + w.r.IntN(1500)
	}
	start := w.day.Add(time.Duration(6*3600+w.r.IntN(12*3600)) * time.Second)
	speed := w.between(1.4, 4.2)
	w.androidWorkout(uid+"-s0", uid, typ, start, secs, samsungWatches[w.device])
	stats := []stat{
		{"duration", "ms", float64(secs * 1000), 0},
		{"calories", "kcal", float64(secs) * w.between(0.08, 0.2), 1},
		{"distance", "m", float64(secs) * speed, 1},
		{"meanHeartRate", "bpm", w.between(110, 150), 1},
		{"maxHeartRate", "bpm", w.between(155, 185), 0},
		{"minHeartRate", "bpm", w.between(70, 95), 0},
		{"meanSpeed", "m/s", speed, 2},
		{"maxSpeed", "m/s", speed * 1.6, 2},
		{"meanCadence", "spm", w.between(150, 175), 1},
		{"maxCadence", "spm", w.between(176, 190), 0},
		{"altitudeGain", "m", w.between(0, 90), 1},
		{"altitudeLoss", "m", w.between(0, 90), 1},
		{"maxAltitude", "m", w.between(150, 220), 1},
		{"minAltitude", "m", w.between(100, 149), 1},
		{"vo2Max", "mL/kg/min", w.between(32, 55), 1},
	}
	for i, s := range stats {
		if i > 0 {
			w.raw(",")
		}
		w.raw("{")
		w.androidStat(s)
		w.raw("}")
	}
	w.raw(`],"segments":null,"laps":null,"route":`)
	if !outdoor {
		w.raw(`null,"samples":null,"metadata":null}`)
		w.body.Workouts++
		return
	}
	lat, lon, alt := w.between(37, 60), w.between(-10, 25), w.between(100, 200)
	heading := w.between(0, 2*math.Pi)
	w.raw("[")
	for s := range secs {
		if s > 0 {
			w.raw(",")
		}
		heading += w.between(-0.15, 0.15)
		lat += math.Cos(heading) * speed / 111_000
		lon += math.Sin(heading) * speed / 70_000
		alt += w.between(-0.4, 0.4)
		w.raw(`{"timestamp":`)
		w.time(start.Add(time.Duration(s) * time.Second))
		w.raw(`,"latitude":`)
		w.num(lat, 6)
		w.raw(`,"longitude":`)
		w.num(lon, 6)
		w.raw(`,"altitudeM":`)
		w.num(alt, 1)
		w.raw(`,"horizontalAccuracyM":`)
		w.num(w.between(2, 8), 1)
		w.raw(`,"verticalAccuracyM":null}`)
		w.body.RoutePoints++
	}
	w.raw(`],"samples":[`)
	hr := w.between(100, 130)
	for s := range secs {
		at := start.Add(time.Duration(s) * time.Second)
		hr = min(max(hr+w.between(-1.5, 1.6), 90), 185)
		for k, kind := range [...]stat{
			{"heartRate", "bpm", hr, 0},
			{"cadence", "spm", w.between(150, 180), 0},
			{"speed", "m/s", speed + w.between(-0.3, 0.3), 2},
		} {
			if s > 0 || k > 0 {
				w.raw(",")
			}
			w.raw(`{"timestamp":`)
			w.time(at)
			w.raw(",")
			w.androidStat(kind)
			w.raw("}")
			w.body.Samples++
		}
	}
	w.raw(`],"metadata":null}`)
	w.body.Workouts++
}
