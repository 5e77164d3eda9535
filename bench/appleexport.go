package bench

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Apple Health exports: export.xml, or export.zip around it, shaped as the
// Health app writes them, for the importer's tests and benchmarks.
//
// The file holds the DOCTYPE with its internal DTD, ExportDate, Me, then the
// Records sorted by type and, within a type, by start date (iPhone and Apple
// Watch samples interleaved), then the Workouts, one ActivitySummary per day
// and two ClinicalRecords. Every day is a pure function of (Seed, day), and
// every type is written by a pass over the days, so memory stays constant
// whatever the size: a 2 GB export is written through one 128 KiB buffer.
//
// Dates carry the phone's offset: Europe/Berlin's (+0100, +0200 from the last
// Sunday of March to the last Sunday of October, changing at 01:00 UTC), and
// +0900 during a trip to Tokyo, from day 10 09:00 UTC to day 18 01:00 UTC of
// every 365 from Start. A day
// runs from local midnight to local midnight, so it lasts 23, 25, 17 or 31
// hours when the clock moves, and no two days overlap.

// ExportOptions says what WriteExport writes.
type ExportOptions struct {
	// Seed makes the export: the same options give the same bytes.
	Seed int64
	// Start is the first day of data: its date, read in its own location.
	// Zero means 2023-03-20, so that a few weeks hold the change to summer
	// time (2023-03-26) and the trip.
	Start time.Time
	// Days is how many days of data to write. Give Days or XMLBytes; with
	// neither, 7 days.
	Days int
	// XMLBytes, with Days 0, is the size of export.xml to stop near: the span
	// of data is chosen for it, to a few percent on large sizes (one day of
	// data is about 0.8 MB).
	XMLBytes int64
	// Zip writes export.zip: apple_health_export/export.xml, export_cda.xml,
	// clinical-records/*.json and, with Routes, workout-routes/*.gpx. Without
	// Zip the output is export.xml alone.
	Zip bool
	// Routes gives each outdoor workout a WorkoutRoute whose FileReference
	// names its GPX file (written, one point a second, only with Zip).
	Routes bool
}

// ExportCounts is what the generator wrote, for tests to check an import against.
type ExportCounts struct {
	// Records counts the Record elements; ByType splits them by type.
	Records int
	// HeartRate counts the HKQuantityTypeIdentifierHeartRate records.
	HeartRate int
	// SleepStages counts the HKCategoryTypeIdentifierSleepAnalysis records,
	// the iPhone's InBed included.
	SleepStages int
	Workouts    int
	// Routes counts the WorkoutRoute elements; RoutePoints the trkpt of the
	// GPX files (0 without Zip).
	Routes      int
	RoutePoints int
	Summaries   int
	Clinical    int
	ByType      map[string]int
	// XMLBytes is the size of export.xml.
	XMLBytes int64
}

// Record types, in the order the export holds them.
const (
	typeBodyMass   = "HKQuantityTypeIdentifierBodyMass"
	typeHeartRate  = "HKQuantityTypeIdentifierHeartRate"
	typeSteps      = "HKQuantityTypeIdentifierStepCount"
	typeDistance   = "HKQuantityTypeIdentifierDistanceWalkingRunning"
	typeBasal      = "HKQuantityTypeIdentifierBasalEnergyBurned"
	typeActive     = "HKQuantityTypeIdentifierActiveEnergyBurned"
	typeRestingHR  = "HKQuantityTypeIdentifierRestingHeartRate"
	typeHRV        = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
	typeSleep      = "HKCategoryTypeIdentifierSleepAnalysis"
	typeCycling    = "HKQuantityTypeIdentifierDistanceCycling"
	sleepValueBase = "HKCategoryValueSleepAnalysis"
)

// Random streams: each (day, tag) has its own, so that a type's pass and the
// plan of the day draw the same numbers whatever else was written.
const (
	tagPlan = iota + 1
	tagBodyMass
	tagHeartRate
	tagWalkPhone
	tagWalkWatch
	tagBasal
	tagActive
	tagRestingHR
	tagHRV
	tagSleep
	tagWorkout
	tagSummary
	tagRoute
)

// exportSource is a source's attributes, written as they are: sourceName,
// sourceVersion and the device with its entities.
type exportSource struct {
	attrs string
	rank  int // orders the sources of samples that start together
}

var (
	srcWatch = exportSource{` sourceName="Alice’s Apple Watch" sourceVersion="9.5" device="&lt;&lt;HKDevice: 0x283a4c780&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:9.5&gt;"`, 1}
	srcPhone = exportSource{` sourceName="Alice’s iPhone" sourceVersion="16.5" device="&lt;&lt;HKDevice: 0x2822b1e00&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,2, software:16.5&gt;"`, 0}
	// srcHealth is a value typed into the Health app: no device.
	srcHealth = exportSource{` sourceName="Health" sourceVersion="16.5"`, 2}
)

const (
	homeZone = "Europe/Berlin"
	tripZone = "Asia/Tokyo"
	tripOff  = 9 * 3600
	// The trip: from day tripFrom 09:00 UTC to day tripTo 01:00 UTC of
	// every tripEvery days.
	tripFrom, tripTo, tripEvery = 10, 18, 365
)

// exportWorkout is one workout of a day's plan.
type exportWorkout struct {
	kind       *workoutKind
	start, end int64 // unix seconds
	pause      int64 // when it pauses for pauseFor seconds; 0 for none
	pauseFor   int64
	kJ, km     bool // the units of its statistics
	route      bool
	index      int // 0 for the morning's, 1 for the evening's
	day        int
}

type workoutKind struct {
	activity string
	outdoor  bool
	speed    float64 // m/s
	distance string  // the distance statistic's type, "" for none
	steps    bool
	mets     float64
	hr       [2]int // heart rate range
}

var (
	kindRunning  = &workoutKind{"HKWorkoutActivityTypeRunning", true, 2.9, typeDistance, true, 9.8, [2]int{135, 178}}
	kindWalking  = &workoutKind{"HKWorkoutActivityTypeWalking", true, 1.45, typeDistance, true, 3.9, [2]int{92, 124}}
	kindCycling  = &workoutKind{"HKWorkoutActivityTypeCycling", true, 6.2, typeCycling, false, 7.1, [2]int{118, 165}}
	kindStrength = &workoutKind{"HKWorkoutActivityTypeTraditionalStrengthTraining", false, 0, "", false, 5.2, [2]int{98, 150}}
)

// exportDay is the plan of one day, drawn from (Seed, day) alone.
type exportDay struct {
	index       int
	start, end  int64 // local midnight to the next, unix seconds
	wake, bed   int64
	sleepFor    int64
	workouts    [2]exportWorkout
	numWorkouts int
}

// exportSample is one record of a type's day, before it is written.
type exportSample struct {
	start, end int64
	value      int64 // in units of 10^-dec
	src        *exportSource
	motion     int8 // the heart rate's motion context, -1 for none
}

type exporter struct {
	o       ExportOptions
	out     io.Writer
	buf     []byte
	written int64
	err     error
	c       ExportCounts
	rng     *rand.Rand
	pcg     *rand.PCG
	base    int64 // local midnight of Start as unix seconds in UTC
	spanEnd int64 // no day, sample or workout starts at or after it (a night that starts before is written whole)
	days    int
	samples []exportSample
	// The offset in force over [zoneFrom, zoneTo).
	zoneFrom, zoneTo int64
	zoneOff          int64
}

// WriteExport writes an Apple Health export to w, export.xml or with o.Zip
// export.zip, streaming it in constant memory, and returns what it wrote.
func WriteExport(w io.Writer, o ExportOptions) (ExportCounts, error) {
	if o.Days < 0 || o.XMLBytes < 0 {
		return ExportCounts{}, errors.New("bench: export: negative Days or XMLBytes")
	}
	if o.Days > 0 && o.XMLBytes > 0 {
		return ExportCounts{}, errors.New("bench: export: give Days or XMLBytes, not both")
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2023, 3, 20, 0, 0, 0, 0, time.UTC)
	}
	if o.Days == 0 && o.XMLBytes == 0 {
		o.Days = 7
	}
	y, m, d := o.Start.Date()
	base := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	var span int64
	if o.XMLBytes > 0 {
		span = spanFor(o, base)
	} else {
		// Days whole days, however long the clock makes them.
		e := newExporter(o, base, 0, nil)
		span = e.midnight(o.Days) - e.midnight(0)
	}
	if !o.Zip {
		e := newExporter(o, base, span, w)
		e.writeXML()
		return e.c, e.err
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	e := newExporter(o, base, span, nil)
	modified := time.Unix(e.exportDate(), 0).UTC()
	entry := func(name string) bool {
		if e.err != nil {
			return false
		}
		e.flush()
		e.written = 0
		e.out, e.err = zw.CreateHeader(&zip.FileHeader{Name: "apple_health_export/" + name, Method: zip.Deflate, Modified: modified})
		return e.err == nil
	}
	if entry("export.xml") {
		e.writeXML()
	}
	if entry("export_cda.xml") {
		e.writeCDA()
	}
	if o.Routes {
		e.eachWorkout(func(day *exportDay, wk *exportWorkout) {
			if wk.route && entry("workout-routes/"+e.routeName(wk)) {
				e.writeGPX(day, wk)
			}
		})
	}
	for i := range 2 {
		if entry("clinical-records/" + clinicalID(i) + ".json") {
			e.writeClinicalJSON(i)
		}
	}
	e.flush()
	if err := zw.Close(); err != nil && e.err == nil {
		e.err = err
	}
	return e.c, e.err
}

func newExporter(o ExportOptions, base, span int64, w io.Writer) *exporter {
	e := &exporter{
		o:       o,
		out:     w,
		buf:     make([]byte, 0, 128<<10),
		base:    base,
		c:       ExportCounts{ByType: map[string]int{}},
		pcg:     rand.NewPCG(0, 0),
		samples: make([]exportSample, 0, 2048),
		zoneTo:  math.MinInt64,
	}
	e.rng = rand.New(e.pcg)
	// The data covers [midnight(0), spanEnd); days bounds the days begun in it.
	e.spanEnd = e.midnight(0) + span
	e.days = int(span/86400) + 2
	return e
}

// spanFor finds the span of data whose export.xml is about o.XMLBytes. It
// measures the real size over spans doubling from an hour until one reaches
// the target, then narrows that bracket by interpolation (a bisection every
// third step) to 1%. Past 256 days of data (about 200 MB) it extrapolates their
// size per second: the days are drawn alike, so the rate holds.
func spanFor(o ExportOptions, base int64) int64 {
	size := func(span int64) int64 {
		e := newExporter(o, base, span, io.Discard)
		e.writeXML()
		return e.c.XMLBytes
	}
	target := o.XMLBytes
	lo, hi := int64(0), int64(3600)
	slo, shi := size(0), size(3600)
	for shi < target {
		if hi >= 256*86400 {
			return int64(float64(target-slo)/float64(shi-slo)*float64(hi-lo) + float64(lo))
		}
		lo, slo = hi, shi
		hi *= 2
		shi = size(hi)
	}
	for i := 0; hi-lo > 60 && i < 40; i++ {
		mid := lo + (hi-lo)/2
		if i%3 != 2 {
			mid = lo + int64(float64(hi-lo)*float64(target-slo)/float64(shi-slo))
			mid = min(max(mid, lo+30), hi-30)
		}
		got := size(mid)
		if d := got - target; d <= target/100 && -d <= target/100 {
			return mid
		}
		if got < target {
			lo, slo = mid, got
		} else {
			hi, shi = mid, got
		}
	}
	return hi
}

func (e *exporter) seed(day, tag int) {
	e.pcg.Seed(uint64(e.o.Seed), uint64(day)<<8|uint64(tag))
}

func (e *exporter) between(lo, hi int64) int64 { return lo + e.rng.Int64N(hi-lo+1) }

// offset is the phone's offset from UTC at unix time u, in seconds. The
// offset in force is cached with the interval it holds over, as samples come
// in time order.
func (e *exporter) offset(u int64) int64 {
	if u >= e.zoneFrom && u < e.zoneTo {
		return e.zoneOff
	}
	year, _, _ := civil(floorDiv(u, 86400))
	summer, winter := lastSunday(year, 3)*86400+3600, lastSunday(year, 10)*86400+3600
	k := floorDiv(u-e.base, tripEvery*86400)
	trip := func(k int64) (int64, int64) {
		from := e.base + (k*tripEvery+tripFrom)*86400 + 9*3600
		return from, e.base + (k*tripEvery+tripTo)*86400 + 3600
	}
	tripStart, tripEnd := trip(k)
	_, prevEnd := trip(k - 1)
	nextStart, _ := trip(k + 1)
	off := int64(3600)
	switch {
	case u >= tripStart && u < tripEnd:
		off = tripOff
	case u >= summer && u < winter:
		off = 7200
	}
	e.zoneFrom, e.zoneTo = math.MinInt64, int64(math.MaxInt64)
	for _, t := range []int64{lastSunday(year-1, 10)*86400 + 3600, summer, winter,
		lastSunday(year+1, 3)*86400 + 3600, prevEnd, tripStart, tripEnd, nextStart} {
		if t <= u {
			e.zoneFrom = max(e.zoneFrom, t)
		} else {
			e.zoneTo = min(e.zoneTo, t)
		}
	}
	e.zoneOff = off
	return off
}

// midnight is the unix time of local midnight at the start of day d.
func (e *exporter) midnight(d int) int64 {
	local := e.base + int64(d)*86400
	u := local - e.offset(local-3600)
	if off := e.offset(u); local-off != u {
		u = local - off
	}
	return u
}

func (e *exporter) zoneName(u int64) string {
	if e.offset(u) == tripOff {
		return tripZone
	}
	return homeZone
}

// plan draws day d: its span, the owner's day and its workouts.
func (e *exporter) plan(d int) exportDay {
	day := exportDay{index: d, start: e.midnight(d), end: e.midnight(d + 1)}
	e.seed(d, tagPlan)
	length := day.end - day.start
	day.wake = day.start + min(length/3, e.between(6*3600+1800, 8*3600))
	day.bed = day.start + min(length-1800, e.between(22*3600+900, 23*3600+2700))
	day.sleepFor = e.between(6*3600+1800, 8*3600+1800)
	add := func(kind *workoutKind, at, minutes int64) {
		start := day.start + min(at, length-5*3600)
		if start < day.wake {
			start = day.wake + 600
		}
		wk := exportWorkout{kind: kind, start: start, end: start + minutes*60 + e.between(0, 59),
			kJ: e.rng.IntN(3) == 0, km: e.rng.IntN(3) == 0, index: day.numWorkouts, day: d}
		if kind.outdoor && e.rng.IntN(3) == 0 {
			wk.pause = start + e.between(300, minutes*30)
			wk.pauseFor = e.between(20, 180)
			wk.end += wk.pauseFor
		}
		wk.route = kind.outdoor && e.o.Routes
		day.workouts[day.numWorkouts] = wk
		day.numWorkouts++
	}
	if e.rng.IntN(100) < 55 {
		kind := []*workoutKind{kindRunning, kindRunning, kindWalking, kindCycling}[e.rng.IntN(4)]
		add(kind, e.between(7*3600, 9*3600), e.between(20, 70))
	}
	if e.rng.IntN(100) < 25 {
		kind := []*workoutKind{kindStrength, kindStrength, kindWalking}[e.rng.IntN(3)]
		add(kind, e.between(17*3600, 19*3600), e.between(25, 60))
	}
	return day
}

// eachDay calls f with the plan of every day of the span, in order.
func (e *exporter) eachDay(f func(day *exportDay)) {
	for d := range e.days {
		day := e.plan(d)
		if day.start >= e.spanEnd || e.err != nil {
			return
		}
		f(&day)
	}
}

func (e *exporter) eachWorkout(f func(day *exportDay, wk *exportWorkout)) {
	e.eachDay(func(day *exportDay) {
		for i := range day.numWorkouts {
			if wk := &day.workouts[i]; wk.start < e.spanEnd {
				f(day, wk)
			}
		}
	})
}

func (e *exporter) exportDate() int64 {
	return min(e.spanEnd, e.midnight(e.days)) + 3*3600 + 1234
}

func (e *exporter) writeXML() {
	e.raw(exportHead)
	e.raw(` <ExportDate value="`)
	e.date(e.exportDate())
	e.raw("\"/>\n")
	e.raw(" <Me HKCharacteristicTypeIdentifierDateOfBirth=\"1988-07-14\" HKCharacteristicTypeIdentifierBiologicalSex=\"HKBiologicalSexFemale\" HKCharacteristicTypeIdentifierBloodType=\"HKBloodTypeAPositive\" HKCharacteristicTypeIdentifierFitzpatrickSkinType=\"HKFitzpatrickSkinTypeNotSet\" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse=\"None\"/>\n")
	for _, t := range []struct {
		typ   string
		write func(e *exporter, d *exportDay)
	}{
		{typeBodyMass, (*exporter).bodyMass},
		{typeHeartRate, (*exporter).heartRate},
		{typeSteps, (*exporter).steps},
		{typeDistance, (*exporter).distance},
		{typeBasal, (*exporter).basal},
		{typeActive, (*exporter).active},
		{typeRestingHR, (*exporter).restingHR},
		{typeHRV, (*exporter).hrv},
		{typeSleep, (*exporter).sleep},
	} {
		e.eachDay(func(d *exportDay) { t.write(e, d) })
	}
	e.eachWorkout(func(_ *exportDay, wk *exportWorkout) { e.workout(wk) })
	e.eachDay(e.summary)
	for i := range 2 {
		e.clinical(i)
	}
	e.raw("</HealthData>\n")
	e.flush()
	e.c.XMLBytes = e.written
	e.c.HeartRate = e.c.ByType[typeHeartRate]
	e.c.SleepStages = e.c.ByType[typeSleep]
}

// Writing: one buffer, flushed to out when full.

func (e *exporter) raw(s string) {
	e.buf = append(e.buf, s...)
	if len(e.buf) >= 64<<10 {
		e.flush()
	}
}

func (e *exporter) flush() {
	if e.err == nil && len(e.buf) > 0 && e.out != nil {
		_, e.err = e.out.Write(e.buf)
		e.written += int64(len(e.buf))
	}
	e.buf = e.buf[:0]
}

func (e *exporter) int(v int64) { e.buf = strconv.AppendInt(e.buf, v, 10) }

// dec writes v×10^-places without trailing zeros.
func (e *exporter) dec(v int64, places int) {
	if v < 0 {
		e.buf = append(e.buf, '-')
		v = -v
	}
	p := int64(1)
	for range places {
		p *= 10
	}
	e.int(v / p)
	frac := v % p
	if frac == 0 {
		return
	}
	for frac%10 == 0 {
		frac /= 10
		places--
	}
	e.buf = append(e.buf, '.')
	n := len(e.buf)
	e.buf = strconv.AppendInt(e.buf, frac, 10)
	for len(e.buf)-n < places {
		e.buf = slices.Insert(e.buf, n, '0')
	}
}

func (e *exporter) float(v float64) { e.buf = strconv.AppendFloat(e.buf, v, 'f', -1, 64) }

func (e *exporter) two(v int64) { e.buf = append(e.buf, byte('0'+v/10), byte('0'+v%10)) }

// date writes unix time u in the export's form, 2023-06-01 07:12:03 +0200,
// with the offset in force then.
func (e *exporter) date(u int64) {
	off := e.offset(u)
	local := u + off
	days := floorDiv(local, 86400)
	secs := local - days*86400
	y, m, d := civil(days)
	e.int(y)
	e.buf = append(e.buf, '-')
	e.two(m)
	e.buf = append(e.buf, '-')
	e.two(d)
	e.buf = append(e.buf, ' ')
	e.two(secs / 3600)
	e.buf = append(e.buf, ':')
	e.two(secs / 60 % 60)
	e.buf = append(e.buf, ':')
	e.two(secs % 60)
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	e.buf = append(e.buf, ' ', sign)
	e.two(off / 3600)
	e.two(off / 60 % 60)
}

// clock writes the local time of day of unix milliseconds ms as the HRV
// list does: 7:12:03.45 AM.
func (e *exporter) clock(ms int64) {
	u := floorDiv(ms, 1000)
	local := u + e.offset(u)
	secs := local - floorDiv(local, 86400)*86400
	h := secs / 3600
	ampm := " AM"
	if h >= 12 {
		ampm = " PM"
	}
	if h = h % 12; h == 0 {
		h = 12
	}
	e.int(h)
	e.buf = append(e.buf, ':')
	e.two(secs / 60 % 60)
	e.buf = append(e.buf, ':')
	e.two(secs % 60)
	e.buf = append(e.buf, '.')
	e.two(ms % 1000 / 10)
	e.raw(ampm)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// civil is the proleptic Gregorian date of a day counted from 1970-01-01.
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// lastSunday is the day (from 1970-01-01) of the last Sunday of a month.
func lastSunday(year, month int64) int64 {
	last := time.Date(int(year), time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC)
	return last.Unix()/86400 - int64(last.Weekday())
}
