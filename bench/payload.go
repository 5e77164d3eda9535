package bench

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Providers the generator writes bodies for. Mixed gives each body one of
// the three, Apple twice as often as the others.
const (
	ProviderApple   = "apple"
	ProviderSamsung = "samsung"
	ProviderGoogle  = "google"
	ProviderMixed   = "mixed"
)

// PayloadConfig describes the bodies to generate.
type PayloadConfig struct {
	// Seed makes the bodies reproducible: the same seed gives the same
	// bytes. The default is 1.
	Seed uint64
	// Items is the number of items (records, sleep stages and workouts) in
	// one body. The default is 2,000, a foreground combined round.
	Items int
	// Provider is apple, samsung, google or mixed (the default).
	Provider string
}

// EnsureDefaults fills in zero fields.
func (c *PayloadConfig) EnsureDefaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Items == 0 {
		c.Items = 2000
	}
	if c.Provider == "" {
		c.Provider = ProviderMixed
	}
}

// Validate reports a configuration that cannot work.
func (c *PayloadConfig) Validate() error {
	switch c.Provider {
	case ProviderApple, ProviderSamsung, ProviderGoogle, ProviderMixed:
	default:
		return fmt.Errorf("bench: unknown provider %q (apple, samsung, google or mixed)", c.Provider)
	}
	if c.Items < 1 || c.Items > 200_000 {
		return fmt.Errorf("bench: items per body must be 1 to 200000, not %d", c.Items)
	}
	return nil
}

// Body is one generated sync request body.
type Body struct {
	Index    int
	Provider string
	Data     []byte
	// Records, Sleep and Workouts count the items of each kind, as the
	// server's 202 counts them.
	Records, Sleep, Workouts int
	// RoutePoints and Samples count the 1 Hz points inside workouts; they
	// are not items.
	RoutePoints, Samples int
	// NonceOffset is where the 36 characters of the envelope's
	// syncSessionId start in Data. The load driver writes a fresh value
	// there for every request, so that no two requests are byte-identical.
	NonceOffset int
}

// Items is the number of items of the body.
func (b *Body) Items() int { return b.Records + b.Sleep + b.Workouts }

// Generator writes realistic sync bodies. Body i depends only on the seed
// and i, so bodies can be generated in any order and in parallel.
type Generator struct {
	cfg  PayloadConfig
	base time.Time
}

// NewGenerator checks the configuration and returns a generator.
func NewGenerator(cfg PayloadConfig) (*Generator, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Bodies walk back in time from this day, one day per body, so that two
	// bodies never hold the same samples.
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &Generator{cfg: cfg, base: base}, nil
}

// Config is the generator's configuration with defaults filled in.
func (g *Generator) Config() PayloadConfig { return g.cfg }

// UserID is the id of the benchmark's n-th user (n from 0): bench-user-0001.
func UserID(n int) string { return fmt.Sprintf("bench-user-%04d", n+1) }

// Pool generates bodies 0 to n-1 on all cores.
func (g *Generator) Pool(n int) []*Body {
	out := make([]*Body, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = g.Body(i)
			}
		}()
	}
	wg.Wait()
	return out
}

// providerOf is the provider of body i.
func (g *Generator) providerOf(i int) string {
	if g.cfg.Provider != ProviderMixed {
		return g.cfg.Provider
	}
	return [...]string{ProviderApple, ProviderSamsung, ProviderApple, ProviderGoogle}[i%4]
}

// Body generates body i.
func (g *Generator) Body(i int) *Body {
	w := &writer{
		r:   rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)+0x9e3779b97f4a7c15)),
		b:   make([]byte, 0, g.cfg.Items*420+4096),
		day: g.base.AddDate(0, 0, -i),
	}
	body := &Body{Index: i, Provider: g.providerOf(i)}
	w.body = body
	// A device set per body, chosen among a few, so that the server sees a
	// realistic, bounded number of data sources.
	w.device = int(w.r.IntN(4))
	w.zone = [...]string{"+01:00", "+02:00", "-05:00", "+00:00", "-08:00", "+05:30"}[w.r.IntN(6)]

	// A combined round: one night of sleep and one workout when the body is
	// large enough, the rest records split evenly across the provider's
	// types (the SDKs give each unfinished type an equal share of a round).
	n := g.cfg.Items
	workouts, sleep := 0, 0
	if n >= 100 {
		workouts = 1
		sleep = min(max(n/60, 4), 32)
	}
	records := n - workouts - sleep

	var sdk string
	switch body.Provider {
	case ProviderApple:
		sdk = "0.15.0"
	default:
		sdk = "0.11.1"
	}
	syncAt := w.day.Add(24*time.Hour + 2*time.Hour + time.Duration(w.r.IntN(3600))*time.Second)
	w.raw(`{"provider":"`)
	w.raw(body.Provider)
	w.raw(`","sdkVersion":"`)
	w.raw(sdk)
	w.raw(`","syncTimestamp":`)
	w.time(syncAt)
	// iOS 0.15 sends syncSessionId and syncType; the server ignores them.
	// The session id carries the per-request nonce.
	w.raw(`,"syncSessionId":"`)
	body.NonceOffset = len(w.b)
	w.uuid(false)
	w.raw(`","syncType":"historical","data":{"records":[`)
	switch body.Provider {
	case ProviderApple:
		w.appleRecords(records)
	case ProviderSamsung:
		w.samsungRecords(records)
	case ProviderGoogle:
		w.googleRecords(records)
	}
	w.raw(`],"sleep":[`)
	if sleep > 0 {
		switch body.Provider {
		case ProviderApple:
			w.appleSleep(sleep)
		case ProviderSamsung:
			w.samsungSleep(sleep)
		case ProviderGoogle:
			w.googleSleep(sleep)
		}
	}
	w.raw(`],"workouts":[`)
	if workouts > 0 {
		switch body.Provider {
		case ProviderApple:
			w.appleWorkout()
		case ProviderSamsung:
			w.samsungWorkout()
		case ProviderGoogle:
			w.googleWorkout()
		}
	}
	w.raw(`]}}`)
	body.Data = w.b
	return body
}

// writer appends JSON for one body.
type writer struct {
	r      *rand.Rand
	b      []byte
	body   *Body
	day    time.Time // the body's day, 00:00 UTC
	device int
	zone   string
	first  bool // no comma before the next item
}

func (w *writer) raw(s string) { w.b = append(w.b, s...) }

// str writes a JSON string; it escapes only what our own strings can hold.
func (w *writer) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			w.b = append(w.b, '\\', c)
		} else {
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '"')
}

func (w *writer) strOrNull(s string) {
	if s == "" {
		w.raw("null")
		return
	}
	w.str(s)
}

func (w *writer) time(t time.Time) {
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, "2006-01-02T15:04:05Z")
	w.b = append(w.b, '"')
}

func (w *writer) num(v float64, decimals int) {
	if decimals <= 0 {
		w.b = strconv.AppendFloat(w.b, math.Round(v), 'f', -1, 64)
		return
	}
	p := math.Pow10(decimals)
	w.b = strconv.AppendFloat(w.b, math.Round(v*p)/p, 'f', -1, 64)
}

func (w *writer) int(v int) { w.b = strconv.AppendInt(w.b, int64(v), 10) }

// uuid writes a random version 4 UUID, without quotes.
func (w *writer) uuid(upper bool) {
	var id [16]byte
	a, b := w.r.Uint64(), w.r.Uint64()
	for i := range 8 {
		id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	w.b = appendUUID(w.b, id, upper)
}

// newID returns a random UUID as a string (for parent ids used twice).
func (w *writer) newID(upper bool) string {
	start := len(w.b)
	w.uuid(upper)
	s := string(w.b[start:])
	w.b = w.b[:start]
	return s
}

func appendUUID(dst []byte, id [16]byte, upper bool) []byte {
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	if upper {
		for i, c := range s {
			if c >= 'a' && c <= 'f' {
				s[i] = c - 'a' + 'A'
			}
		}
	}
	return append(dst, s[:]...)
}

func (w *writer) sep() {
	if w.first {
		w.first = false
		return
	}
	w.b = append(w.b, ',')
}

func (w *writer) between(lo, hi float64) float64 { return lo + w.r.Float64()*(hi-lo) }

// metric is one record type of a provider.
type metric struct {
	typ      string
	unit     string
	lo, hi   float64
	decimals int
	// span is the length of an interval sample in seconds; 0 for an
	// instant sample.
	span int
	// src picks the source: 0 the watch, 1 the phone.
	src int
}

// spread returns n sample times, newest first, evenly over the body's day
// with jitter, each in its own slot so that no two are equal.
func (w *writer) spread(n int, i int) time.Time {
	slot := 86400 / max(n, 1)
	off := (n-1-i)*slot + w.r.IntN(max(slot, 1))
	return w.day.Add(time.Duration(off) * time.Second)
}

// split gives type t its share of n records.
func split(n, types, t int) int {
	q := n / types
	if t < n%types {
		q++
	}
	return q
}

// ---- Apple (HealthKit, iOS SDK) ----

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
			w.raw(`","startDate":`)
			w.time(start)
			w.raw(`,"endDate":`)
			w.time(start.Add(time.Duration(m.span) * time.Second))
			w.appleZone()
			w.raw(`,"source":`)
			w.appleSource(m.src == 1)
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

// sleepNight returns the stages of one night: an in-bed interval followed by
// cycles of light, deep, rem and short awakenings.
func (w *writer) sleepNight(n int) (start time.Time, stages []string, ends []time.Time) {
	start = w.day.Add(time.Duration(15+w.r.IntN(60)) * time.Minute)
	cycle := []string{"light", "deep", "light", "rem", "awake"}
	t := start
	for i := range n {
		s := cycle[i%len(cycle)]
		var d int
		switch s {
		case "light":
			d = 10 + w.r.IntN(25)
		case "deep":
			d = 15 + w.r.IntN(35)
		case "rem":
			d = 10 + w.r.IntN(25)
		default:
			d = 1 + w.r.IntN(5)
		}
		t = t.Add(time.Duration(d) * time.Minute)
		stages = append(stages, s)
		ends = append(ends, t)
	}
	return start, stages, ends
}

func (w *writer) appleSleep(n int) {
	w.first = true
	// The iPhone's in-bed sample, then the watch's stages: iOS sends each
	// HealthKit sleep sample as one item, values and metadata null.
	start, stages, ends := w.sleepNight(n - 1)
	w.sep()
	w.raw(`{"id":"`)
	w.uuid(true)
	w.raw(`","stage":"in_bed","startDate":`)
	w.time(start.Add(-10 * time.Minute))
	w.raw(`,"endDate":`)
	w.time(ends[len(ends)-1].Add(5 * time.Minute))
	w.appleZone()
	w.raw(`,"source":`)
	w.appleSource(true)
	w.raw(`}`)
	w.body.Sleep++
	from := start
	for i, s := range stages {
		w.sep()
		w.raw(`{"id":"`)
		w.uuid(true)
		w.raw(`","stage":`)
		w.str(s)
		w.raw(`,"startDate":`)
		w.time(from)
		w.raw(`,"endDate":`)
		w.time(ends[i])
		w.appleZone()
		w.raw(`,"source":`)
		w.appleSource(false)
		w.raw(`}`)
		from = ends[i]
		w.body.Sleep++
	}
}

var appleWorkoutTypes = []string{"running", "walking", "cycling", "hiking", "functional_strength_training", "yoga", "swimming", "hiit"}

func (w *writer) appleWorkout() {
	start := w.day.Add(time.Duration(16*60+w.r.IntN(180)) * time.Minute)
	secs := 1200 + w.r.IntN(3600)
	typ := appleWorkoutTypes[w.r.IntN(len(appleWorkoutTypes))]
	dist := float64(secs) * w.between(1.2, 3.2)
	w.first = true
	w.sep()
	w.raw(`{"id":"`)
	w.uuid(true)
	w.raw(`","type":`)
	w.str(typ)
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(start.Add(time.Duration(secs) * time.Second))
	w.appleZone()
	w.raw(`,"source":`)
	w.appleSource(false)
	w.raw(`,"values":[`)
	stats := []struct {
		typ, unit string
		v         float64
		dec       int
	}{
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

// ---- Android: Samsung Health and Health Connect ----

type androidSource struct {
	appID, deviceID, deviceName, manufacturer, model, deviceType, method string
}

func (w *writer) androidSource(s androidSource) {
	w.raw(`{"appId":`)
	w.str(s.appID)
	w.raw(`,"deviceId":`)
	w.strOrNull(s.deviceID)
	w.raw(`,"deviceName":`)
	w.strOrNull(s.deviceName)
	w.raw(`,"deviceManufacturer":`)
	w.str(s.manufacturer)
	w.raw(`,"deviceModel":`)
	w.str(s.model)
	w.raw(`,"deviceType":`)
	w.str(s.deviceType)
	w.raw(`,"recordingMethod":`)
	w.strOrNull(s.method)
	w.raw("}")
}

// androidRecord writes one record; zone "" writes null.
func (w *writer) androidRecord(id, parent, typ string, start, end time.Time, zone string, src androidSource,
	value float64, decimals int, unit, metadata string) {
	w.sep()
	w.raw(`{"id":`)
	w.str(id)
	w.raw(`,"type":`)
	w.str(typ)
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(end)
	w.raw(`,"zoneOffset":`)
	w.strOrNull(zone)
	w.raw(`,"source":`)
	w.androidSource(src)
	w.raw(`,"value":`)
	w.num(value, decimals)
	w.raw(`,"unit":`)
	w.str(unit)
	w.raw(`,"parentId":`)
	w.strOrNull(parent)
	w.raw(`,"metadata":`)
	if metadata == "" {
		w.raw("null")
	} else {
		w.raw(metadata)
	}
	w.raw("}")
	w.body.Records++
}

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
			suffix, typ, unit string
			v                 float64
			dec               int
		}{
			{"-weight", "WEIGHT", "kg", kg, 1}, {"-height", "HEIGHT", "m", w.between(1.55, 1.95), 2},
			{"-bf", "BODY_FAT", "%", w.between(12, 32), 1}, {"-bfm", "BODY_FAT_MASS", "kg", kg * 0.22, 1},
			{"-ffm", "LEAN_BODY_MASS", "kg", kg * 0.78, 1}, {"-smm", "SKELETAL_MUSCLE_MASS", "kg", kg * 0.42, 1},
			{"-bmi", "BMI", "kg/m²", w.between(19, 31), 1}, {"-bmr", "BASAL_METABOLIC_RATE", "kcal/day", w.between(1300, 1900), 0},
		} {
			w.androidRecord(uid+c.suffix, uid, c.typ, at, at, w.zone, phone, c.v, c.dec, c.unit, "")
		}
		n -= 11
	}
	for t, m := range samsungMetrics {
		q := split(n, len(samsungMetrics), t)
		src := watch
		if m.src == 1 {
			src = phone
		}
		var parent string
		series, idx := 0, 0
		for i := range q {
			start := w.spread(q, i)
			end := start.Add(time.Duration(m.span) * time.Second)
			v := w.between(m.lo, m.hi)
			switch {
			case m.typ == "HEART_RATE":
				if series == 0 {
					parent, series, idx = w.newID(false), 10+w.r.IntN(20), 0
				}
				series--
				idx++
				w.androidRecord(parent+"-s"+strconv.Itoa(idx-1), parent, m.typ, start, end, w.zone, src, v, m.decimals, m.unit, "")
			case m.span == 3600:
				// Aggregates: fresh random ids, no zone offset.
				w.androidRecord(w.newID(false), "", m.typ, start, end, "", src, v, m.decimals, m.unit, "")
			default:
				w.androidRecord(w.newID(false), "", m.typ, start, end, w.zone, src, v, m.decimals, m.unit, "")
			}
		}
	}
}

func (w *writer) samsungSleep(n int) {
	w.first = true
	uid := w.newID(false)
	start, stages, ends := w.sleepNight(n)
	src := samsungWatches[w.device]
	score := 60 + w.r.IntN(35)
	from := start
	for i, s := range stages {
		w.sep()
		w.raw(`{"id":"`)
		w.raw(uid)
		w.raw(`-s0-`)
		w.int(i)
		w.raw(`","parentId":"`)
		w.raw(uid)
		w.raw(`","stage":`)
		w.str(s)
		w.raw(`,"startDate":`)
		w.time(from)
		w.raw(`,"endDate":`)
		w.time(ends[i])
		w.raw(`,"zoneOffset":`)
		w.str(w.zone)
		w.raw(`,"source":`)
		w.androidSource(src)
		w.raw(`,"values":[{"type":"sleepScore","value":`)
		w.int(score)
		w.raw(`,"unit":"score"}],"metadata":null}`)
		from = ends[i]
		w.body.Sleep++
	}
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
	w.first = true
	w.sep()
	w.raw(`{"id":"`)
	w.raw(uid)
	w.raw(`-s0","parentId":"`)
	w.raw(uid)
	w.raw(`","type":`)
	w.str(typ)
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(start.Add(time.Duration(secs) * time.Second))
	w.raw(`,"zoneOffset":`)
	w.str(w.zone)
	w.raw(`,"source":`)
	src := samsungWatches[w.device]
	src.method = "active"
	w.androidSource(src)
	w.raw(`,"title":null,"notes":null,"values":[`)
	stats := []struct {
		typ, unit string
		v         float64
		dec       int
	}{
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
		w.raw(`{"type":`)
		w.str(s.typ)
		w.raw(`,"value":`)
		w.num(s.v, s.dec)
		w.raw(`,"unit":`)
		w.str(s.unit)
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
		for k, kind := range [...]struct {
			typ, unit string
			v         float64
			dec       int
		}{
			{"heartRate", "bpm", hr, 0},
			{"cadence", "spm", w.between(150, 180), 0},
			{"speed", "m/s", speed + w.between(-0.3, 0.3), 2},
		} {
			if s > 0 || k > 0 {
				w.raw(",")
			}
			w.raw(`{"timestamp":`)
			w.time(at)
			w.raw(`,"type":`)
			w.str(kind.typ)
			w.raw(`,"value":`)
			w.num(kind.v, kind.dec)
			w.raw(`,"unit":`)
			w.str(kind.unit)
			w.raw("}")
			w.body.Samples++
		}
	}
	w.raw(`],"metadata":null}`)
	w.body.Workouts++
}

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
	for t, m := range googleMetrics {
		q := split(n, len(googleMetrics), t)
		src := watch
		if m.src == 1 {
			src = phone
		}
		var parent string
		series, idx := 0, 0
		for i := range q {
			start := w.spread(q, i)
			end := start.Add(time.Duration(m.span) * time.Second)
			v := w.between(m.lo, m.hi)
			switch m.typ {
			case "HEART_RATE":
				if series == 0 {
					parent, series, idx = w.newID(false), 5+w.r.IntN(40), 0
				}
				series--
				w.androidRecord(parent+"-s"+strconv.Itoa(idx), parent, m.typ, start, end, w.zone, src, v, m.decimals, m.unit, "")
				idx++
			case "HEART_RATE_VARIABILITY":
				w.androidRecord(w.newID(false), "", m.typ, start, end, w.zone, src, v, m.decimals, m.unit, `{"method":"rmssd"}`)
			default:
				w.androidRecord(w.newID(false), "", m.typ, start, end, w.zone, src, v, m.decimals, m.unit, "")
			}
		}
	}
}

func (w *writer) googleSleep(n int) {
	w.first = true
	id := w.newID(false)
	start, stages, ends := w.sleepNight(n)
	src := googleWatches[w.device]
	from := start
	for i, s := range stages {
		w.sep()
		w.raw(`{"id":"`)
		w.raw(id)
		w.raw(`-s`)
		w.int(i)
		w.raw(`","parentId":"`)
		w.raw(id)
		w.raw(`","stage":`)
		w.str(s)
		w.raw(`,"startDate":`)
		w.time(from)
		w.raw(`,"endDate":`)
		w.time(ends[i])
		w.raw(`,"zoneOffset":`)
		w.str(w.zone)
		w.raw(`,"source":`)
		w.androidSource(src)
		w.raw(`,"values":null,"metadata":null}`)
		from = ends[i]
		w.body.Sleep++
	}
}

// googleWorkout: Health Connect links only the duration to an exercise.
func (w *writer) googleWorkout() {
	typ := [...]string{"RUNNING", "WALKING", "BIKING", "STRENGTH_TRAINING", "YOGA", "HIKING", "SWIMMING_POOL"}[w.r.IntN(7)]
	secs := 900 + w.r.IntN(3600)
	start := w.day.Add(time.Duration(6*3600+w.r.IntN(12*3600)) * time.Second)
	w.first = true
	w.sep()
	w.raw(`{"id":"`)
	w.uuid(false)
	w.raw(`","parentId":null,"type":`)
	w.str(typ)
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(start.Add(time.Duration(secs) * time.Second))
	w.raw(`,"zoneOffset":`)
	w.str(w.zone)
	w.raw(`,"source":`)
	src := googleWatches[w.device]
	src.method = "active"
	w.androidSource(src)
	w.raw(`,"title":null,"notes":null,"values":[{"type":"duration","value":`)
	w.int(secs)
	w.raw(`,"unit":"s"}],"segments":null,"laps":null,"route":null,"samples":null,"metadata":null}`)
	w.body.Workouts++
}
