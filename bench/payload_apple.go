package bench

import "time"

// Apple bodies: HealthKit identifiers, upper-case UUIDs and the iOS
// source block, as the iOS SDK writes them.

func (w *writer) appleSource(phone bool) {
	d := appleWatches[w.device]
	if phone {
		d = applePhones[w.device]
	}
	w.raw(`{"name":`)
	w.str(d.name)
	w.raw(`,"bundleIdentifier":`)
	w.str(d.bundle)
	w.raw(`,"deviceModel":`)
	w.str(d.model)
	w.raw(`,"operatingSystemVersion":{"majorVersion":`)
	w.int(d.major)
	w.raw(`,"minorVersion":`)
	w.int(d.minor)
	w.raw(`,"patchVersion":`)
	w.int(d.patch)
	w.raw(`}}`)
}

// appleZone writes the zoneOffset field, with a leading comma, when the
// sample has one: iOS takes it from HealthKit's time zone metadata, and its
// encoder leaves out the keys of absent values.
func (w *writer) appleZone() {
	if w.r.IntN(2) == 0 {
		return
	}
	w.raw(`,"zoneOffset":`)
	w.str(w.zone)
}

// appleSpan writes the dates, the zone offset and the source of an item,
// each with its leading comma.
func (w *writer) appleSpan(start, end time.Time, phone bool) {
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(end)
	w.appleZone()
	w.raw(`,"source":`)
	w.appleSource(phone)
}

func (w *writer) appleRecords(n int) {
	w.first = true
	for t, m := range appleMetrics {
		q := split(n, len(appleMetrics), t)
		for i := range q {
			start := w.spread(q, i)
			w.sep()
			w.raw(`{"id":"`)
			w.uuid(true)
			w.raw(`","type":"`)
			w.raw(m.typ)
			w.raw(`"`)
			w.appleSpan(start, start.Add(time.Duration(m.span)*time.Second), m.src == 1)
			w.raw(`,"value":`)
			w.num(w.between(m.lo, m.hi), m.decimals)
			w.raw(`,"unit":`)
			w.str(m.unit)
			if t == 0 && w.r.IntN(4) == 0 {
				w.raw(`,"metadata":{"HKMetadataKeyHeartRateMotionContext":"1"}`)
			}
			w.raw("}")
			w.body.Records++
		}
	}
}

func (w *writer) appleSleep(n int) {
	w.first = true
	// The iPhone's in-bed sample, then the watch's stages: iOS sends each
	// HealthKit sleep sample as one item, values and metadata null.
	nt := w.sleepNight(n - 1)
	w.sep()
	w.raw(`{"id":"`)
	w.uuid(true)
	w.raw(`","stage":"in_bed"`)
	w.appleSpan(nt.start.Add(-10*time.Minute), nt.ends[len(nt.ends)-1].Add(5*time.Minute), true)
	w.raw(`}`)
	w.body.Sleep++
	from := nt.start
	for i, s := range nt.stages {
		w.sep()
		w.raw(`{"id":"`)
		w.uuid(true)
		w.raw(`","stage":`)
		w.str(s)
		w.appleSpan(from, nt.ends[i], false)
		w.raw(`}`)
		from = nt.ends[i]
		w.body.Sleep++
	}
}

func (w *writer) appleWorkout() {
	start := w.day.Add(time.Duration(16*60+w.r.IntN(180)) * time.Minute)
	secs := 1200 + w.r.IntN(3600)
	typ := appleWorkoutTypes[w.r.IntN(len(appleWorkoutTypes))]
	dist := float64(secs) * w.between(1.2, 3.2)
	w.raw(`{"id":"`)
	w.uuid(true)
	w.raw(`","type":`)
	w.str(typ)
	w.appleSpan(start, start.Add(time.Duration(secs)*time.Second), false)
	w.raw(`,"values":[`)
	stats := []stat{
		{"duration", "s", float64(secs) + w.r.Float64(), 2},
		{"activeEnergyBurned", "kcal", float64(secs) * w.between(0.08, 0.2), 2},
		{"basalEnergyBurned", "kcal", float64(secs) * 0.022, 2},
		{"distance", "m", dist, 2},
		{"stepCount", "count", dist / 0.8, 3},
		{"minHeartRate", "bpm", w.between(70, 95), 0},
		{"averageHeartRate", "bpm", w.between(110, 150), 2},
		{"maxHeartRate", "bpm", w.between(155, 185), 0},
		{"elevationAscended", "m", w.between(0, 120), 2},
		{"averageMETs", "kcal/kg/hr", w.between(3, 11), 2},
		{"indoorWorkout", "bool", 0, 0},
		{"weatherTemperature", "degC", w.between(-5, 30), 2},
		{"weatherHumidity", "%", w.between(30, 95), 0},
	}
	for i, s := range stats {
		if i > 0 {
			w.raw(",")
		}
		// iOS writes a statistic's unit before its value.
		w.raw(`{"type":`)
		w.str(s.typ)
		w.raw(`,"unit":`)
		w.str(s.unit)
		w.raw(`,"value":`)
		w.num(s.v, s.dec)
		w.raw("}")
	}
	w.raw(`]}`)
	w.body.Workouts++
}
