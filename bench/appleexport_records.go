package bench

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// The Records of an export: one writer per type, each called once a day.

// record writes a Record's start tag, without its '>'.
func (e *exporter) record(typ string, src *exportSource, unit string, start, end int64) {
	e.buf = append(e.buf, ` <Record type="`...)
	e.buf = append(e.buf, typ...)
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, src.attrs...)
	if unit != "" {
		e.buf = append(e.buf, ` unit="`...)
		e.buf = append(e.buf, unit...)
		e.buf = append(e.buf, '"')
	}
	e.buf = append(e.buf, ` creationDate="`...)
	e.date(end + 1 + (start & 255))
	e.buf = append(e.buf, `" startDate="`...)
	e.date(start)
	e.buf = append(e.buf, `" endDate="`...)
	e.date(end)
	e.buf = append(e.buf, `" value="`...)
	e.c.Records++
	e.c.ByType[typ]++
}

func (e *exporter) metadata(indent, key, value string) {
	e.raw(indent)
	e.raw(`<MetadataEntry key="`)
	e.raw(key)
	e.raw(`" value="`)
	e.raw(value)
	e.raw("\"/>\n")
}

// quantities writes the day's samples of a quantity type, sorted by start.
func (e *exporter) quantities(typ, unit string, places int) {
	slices.SortFunc(e.samples, func(a, b exportSample) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.src.rank, b.src.rank))
	})
	for _, s := range e.samples {
		if s.start >= e.spanEnd {
			break
		}
		e.record(typ, s.src, unit, s.start, s.end)
		e.dec(s.value, places)
		if s.motion < 0 {
			e.raw("\"/>\n")
			continue
		}
		e.raw("\">\n")
		e.metadata("  ", "HKMetadataKeyHeartRateMotionContext", strconv.Itoa(int(s.motion)))
		e.raw(" </Record>\n")
	}
	e.samples = e.samples[:0]
}

func (e *exporter) add(src *exportSource, start, end, value int64) {
	e.samples = append(e.samples, exportSample{start: start, end: end, value: value, src: src, motion: -1})
}

func (e *exporter) bodyMass(d *exportDay) {
	e.seed(d.index, tagBodyMass)
	if e.rng.IntN(3) != 0 {
		return
	}
	at := d.wake + e.between(300, 1800)
	lb := 1620 + int64(40*math.Sin(float64(d.index)/45)) + e.between(-6, 6)
	e.add(&srcHealth, at, at, lb)
	e.quantities(typeBodyMass, "lb", 1)
}

// heartRate: a sample every five minutes or so, one every five seconds
// during a workout.
func (e *exporter) heartRate(d *exportDay) {
	e.seed(d.index, tagHeartRate)
	sample := func(at int64, lo, hi int64) {
		e.add(&srcWatch, at, at, e.between(lo, hi))
		if e.rng.IntN(4) != 0 {
			e.samples[len(e.samples)-1].motion = int8(e.rng.IntN(3))
		}
	}
	for at := d.start; at+300 <= d.end; at += 300 {
		t := at + e.between(0, 240)
		busy := false
		for _, wk := range d.workouts[:d.numWorkouts] {
			busy = busy || t >= wk.start-300 && t <= wk.end+5
		}
		switch {
		case busy:
		case t >= d.wake && t < d.bed:
			sample(t, 58, 96)
		default:
			sample(t, 47, 62)
		}
	}
	for _, wk := range d.workouts[:d.numWorkouts] {
		for t := wk.start + 2; t < wk.end; t += 5 {
			sample(t+e.between(0, 3), int64(wk.kind.hr[0]), int64(wk.kind.hr[1]))
		}
	}
	e.quantities(typeHeartRate, "count/min", 0)
}

// walks draws the intervals of walking of one source over the waking day;
// steps and distance draw the same ones.
func (e *exporter) walks(d *exportDay, src *exportSource, tag int, f func(start, end, steps int64)) {
	e.seed(d.index, tag)
	for t := d.wake + e.between(0, 600); ; {
		dur := e.between(60, 600)
		if t+dur > d.bed {
			return
		}
		f(t, t+dur, dur*e.between(30, 180)/100)
		t += dur + e.between(60, 1800)
	}
}

func (e *exporter) steps(d *exportDay) {
	e.walks(d, &srcPhone, tagWalkPhone, func(s, t, n int64) { e.add(&srcPhone, s, t, n) })
	e.walks(d, &srcWatch, tagWalkWatch, func(s, t, n int64) { e.add(&srcWatch, s, t, n) })
	e.quantities(typeSteps, "count", 0)
}

// distance in miles, 0.45 thousandths of a mile a step.
func (e *exporter) distance(d *exportDay) {
	e.walks(d, &srcPhone, tagWalkPhone, func(s, t, n int64) { e.add(&srcPhone, s, t, n*450) })
	e.walks(d, &srcWatch, tagWalkWatch, func(s, t, n int64) { e.add(&srcWatch, s, t, n*450) })
	e.quantities(typeDistance, "mi", 6)
}

// basal energy, back to back over the whole day, in thousandths of a kcal.
func (e *exporter) basal(d *exportDay) {
	e.seed(d.index, tagBasal)
	for t := d.start; ; {
		dur := e.between(300, 1200)
		if t+dur > d.end {
			break
		}
		e.add(&srcWatch, t, t+dur, dur*e.between(17, 20))
		t += dur
	}
	e.quantities(typeBasal, "kcal", 3)
}

// active energy, every minute or two of the waking day.
func (e *exporter) active(d *exportDay) {
	e.seed(d.index, tagActive)
	for t := d.wake; ; {
		dur := e.between(60, 140)
		if t+dur > d.bed {
			break
		}
		rate := e.between(8, 60)
		for _, wk := range d.workouts[:d.numWorkouts] {
			if t >= wk.start && t < wk.end {
				rate = e.between(120, 220)
			}
		}
		e.add(&srcWatch, t, t+dur, dur*rate)
		t += dur + e.between(0, 40)
	}
	e.quantities(typeActive, "kcal", 3)
}

func (e *exporter) restingHR(d *exportDay) {
	e.seed(d.index, tagRestingHR)
	start := d.start + e.between(0, 900)
	e.add(&srcWatch, start, min(d.end-1, start+18*3600+e.between(0, 3600)), e.between(52, 63))
	e.quantities(typeRestingHR, "count/min", 0)
}

// hrv: a few one-minute readings a day, each with the beats it measured.
func (e *exporter) hrv(d *exportDay) {
	e.seed(d.index, tagHRV)
	hours := int((d.end - d.start) / 3600)
	for h := e.rng.IntN(5); h < hours; h += 3 + e.rng.IntN(5) {
		start := d.start + int64(h)*3600 + e.between(0, 3000)
		if start >= e.spanEnd {
			return
		}
		beats := 50 + e.rng.IntN(30)
		ms := start*1000 + e.between(0, 999)
		first := ms
		type beat struct{ ms, bpm int64 }
		var list [80]beat
		for i := range beats {
			bpm := e.between(55, 80)
			list[i] = beat{ms, bpm}
			ms += 60000 / bpm
		}
		e.record(typeHRV, &srcWatch, "ms", start, start+(ms-first)/1000)
		e.dec(e.between(18000, 95000), 3)
		e.raw("\">\n  <HeartRateVariabilityMetadataList>\n")
		for _, b := range list[:beats] {
			e.raw(`   <InstantaneousBeatsPerMinute bpm="`)
			e.int(b.bpm)
			e.raw(`" time="`)
			e.clock(b.ms)
			e.raw("\"/>\n")
		}
		e.raw("  </HeartRateVariabilityMetadataList>\n </Record>\n")
	}
}

// sleep: the night that starts this evening, InBed from the iPhone and the
// stages from the watch.
func (e *exporter) sleep(d *exportDay) {
	if d.bed >= e.spanEnd {
		return
	}
	e.seed(d.index, tagSleep)
	end := d.bed + d.sleepFor
	e.record(typeSleep, &srcPhone, "", d.bed, end)
	e.raw(sleepValueBase + "InBed\">\n")
	e.metadata("  ", "HKTimeZone", e.zoneName(d.bed))
	e.raw(" </Record>\n")
	stages := [...]string{"AsleepCore", "AsleepDeep", "AsleepCore", "AsleepREM", "Awake"}
	for t, i := d.bed+e.between(300, 1200), 0; t < end-600; i++ {
		stage := stages[i%len(stages)]
		dur := e.between(600, 2400)
		if stage == "Awake" {
			dur = e.between(60, 400)
		}
		dur = min(dur, end-t)
		e.record(typeSleep, &srcWatch, "", t, t+dur)
		e.raw(sleepValueBase + stage + "\"/>\n")
		t += dur
	}
}
