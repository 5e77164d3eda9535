package ingest

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wearhouse/applehealth"
	"wearhouse/codec"
	"wearhouse/health"
)

// The Apple Health import maps each item of the export to the item the iOS
// SDK would have synced for the same sample, so that the compactor indexes
// an import exactly as a sync: the same data source (source name, device
// model), the same type and the same start, hence the same stored key, and
// the same units. What the export cannot give is left out: the samples'
// UUIDs (id stays empty) and the source's bundle identifier and operating
// system version. A sample without a device attribute therefore resolves
// to a data source without a device model, where the SDK would have sent
// the source's product type.

// appleChunk holds mapped items until the importer validates them into a
// batch (codec.NewBatch, which reuses the slices) and queues it.
type appleChunk struct {
	records  []codec.Record
	sleep    []codec.SleepStage
	workouts []codec.Workout
	// arena holds the JSON of the items' metadata, laps and routes.
	arena []byte
	// gen changes at each reset: the mapper shares a Source between the
	// items of one chunk only, because validation writes to it.
	gen uint64
}

// items is the number of items in the chunk.
func (c *appleChunk) items() int { return len(c.records) + len(c.sleep) + len(c.workouts) }

// reset empties the chunk, keeping its capacity. The batch made from the
// chunk shares its memory: reset only once that batch is queued.
func (c *appleChunk) reset() {
	c.records, c.sleep, c.workouts = c.records[:0], c.sleep[:0], c.workouts[:0]
	c.arena = c.arena[:0]
	c.gen++
}

// mapCounts counts what the mapper did with the items of an export.
type mapCounts struct {
	// Records, Sleep and Workouts are the items mapped; Routes the workouts
	// that got a route; Summaries the activity summaries mapped (each gives
	// a few records, not counted in Records).
	Records, Sleep, Workouts, Routes, Summaries int64
	// Unmapped counts items kept but not fully mapped: a value in a unit
	// that could not be converted (kept as written), a sleep value the SDK
	// would send as "unknown".
	Unmapped int64
	// Dropped counts what was left out, by reason: items, routes, metadata
	// entries over the limit.
	Dropped map[string]int64
}

// Limits of the mapper.
const (
	// maxSourceCache bounds the distinct sources (source name, version and
	// device attribute) whose parsed Source is kept.
	maxSourceCache = 4096
	// maxDropReasons bounds the distinct reasons counted; later ones count
	// as "other".
	maxDropReasons = 64
)

// sourceKey is what makes a Source: the attributes as written.
type sourceKey struct{ name, version, device string }

// sourceEntry is a cached Source and the chunk its shared copy belongs to.
type sourceEntry struct {
	src   codec.Source
	ptr   *codec.Source
	chunk *appleChunk
	gen   uint64
}

// appleMapper maps export items; it counts what it could not map. routes
// opens a workout's route by its FileReference path (nil when the export
// has none: a bare export.xml); it may return an error, which is counted as
// a dropped route ("route file missing" / the error), never fatal.
type appleMapper struct {
	// queued is the buffer of the chunks' queued form, reused (import_run.go).
	queued  []byte
	routes  func(path string) ([]applehealth.RoutePoint, error)
	sources map[sourceKey]*sourceEntry
	// zone is the boxed "+HH:MM" of zoneOff, the last offset seen.
	zoneOff int
	zone    any
	counts  mapCounts
}

func newAppleMapper(routes func(path string) ([]applehealth.RoutePoint, error)) *appleMapper {
	return &appleMapper{
		routes:  routes,
		sources: make(map[sourceKey]*sourceEntry),
		zoneOff: math.MinInt,
		counts:  mapCounts{Dropped: map[string]int64{}},
	}
}

// add maps one item of the export into the chunk. Me, HealthData and
// ExportDate are the importer's, and ignored here.
func (m *appleMapper) add(it applehealth.Item, c *appleChunk) {
	switch v := it.(type) {
	case *applehealth.Record:
		if v.Type == sleepAnalysis {
			m.sleepStage(v, c)
		} else {
			m.record(v, c)
		}
	case *applehealth.Workout:
		m.workout(v, c)
	case *applehealth.ActivitySummary:
		m.summary(v, c)
	}
}

const (
	sleepAnalysis  = "HKCategoryTypeIdentifierSleepAnalysis"
	categoryPrefix = "HKCategoryTypeIdentifier"
)

// The reasons that name a part left out of an item that was kept, rather
// than an item dropped, start with these.
const (
	partRoute    = "route left out: "
	partMetadata = "metadata left out: "
)

// droppedItems counts the items dropped, of the reasons counted.
func droppedItems(reasons map[string]int64) int {
	n := 0
	for r, c := range reasons {
		if !strings.HasPrefix(r, partRoute) && !strings.HasPrefix(r, partMetadata) {
			n += int(c)
		}
	}
	return n
}

func (m *appleMapper) drop(reason string) {
	if _, ok := m.counts.Dropped[reason]; !ok && len(m.counts.Dropped) >= maxDropReasons {
		reason = "other"
	}
	m.counts.Dropped[reason]++
}

// dates parses an item's dates, and gives the zone they were written in;
// false (the item dropped) on a bad date.
func (m *appleMapper) dates(startDate, endDate string) (start, end time.Time, zone any, ok bool) {
	start, off, err := parseExportDate(startDate)
	if err != nil {
		m.drop("bad startDate")
		return start, end, nil, false
	}
	end = start
	if endDate != startDate {
		if end, _, err = parseExportDate(endDate); err != nil {
			m.drop("bad endDate")
			return start, end, nil, false
		}
	}
	return start, end, m.zoneOf(off), true
}

// parseExportDate parses a date of the export as applehealth.ParseDate
// does, and gives the offset it was written with, in seconds. The date is
// in UTC. The fixed form the Health app writes is read directly, which
// costs a fifth of time.Parse (two dates per item are most of the cost of
// mapping it); anything else goes to ParseDate, which decides.
func parseExportDate(s string) (time.Time, int, error) {
	// "2006-01-02 15:04:05 -0700"
	if len(s) == 25 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':' && s[19] == ' ' &&
		(s[20] == '+' || s[20] == '-') {
		num := func(i, n int) int {
			v := 0
			for _, c := range []byte(s[i : i+n]) {
				if c < '0' || c > '9' {
					return -1
				}
				v = v*10 + int(c-'0')
			}
			return v
		}
		y, mo, d, h, mi, sec, oh, om := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2), num(21, 2), num(23, 2)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) && h >= 0 && h < 24 && mi >= 0 && mi < 60 &&
			sec >= 0 && sec < 60 && oh >= 0 && oh <= 18 && om >= 0 && om < 60 {
			off := oh*3600 + om*60
			if s[20] == '-' {
				off = -off
			}
			t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC).Add(-time.Duration(off) * time.Second)
			return t, off, nil
		}
	}
	t, err := applehealth.ParseDate(s)
	if err != nil {
		return t, 0, err
	}
	_, off := t.Zone()
	return t.UTC(), off, nil
}

func daysIn(month, year int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return int("\x00\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"[month])
}

// zoneOf returns an offset as "+HH:MM".
func (m *appleMapper) zoneOf(off int) any {
	if off != m.zoneOff {
		m.zoneOff, m.zone = off, formatZone(off)
	}
	return m.zone
}

func formatZone(off int) string {
	b := []byte("+00:00")
	if off < 0 {
		b[0], off = '-', -off
	}
	h, mm := off/3600, off%3600/60
	b[1], b[2], b[4], b[5] = byte('0'+h/10%10), byte('0'+h%10), byte('0'+mm/10), byte('0'+mm%10)
	return string(b)
}

// source returns the Source of an item as the iOS SDK fills it: name and
// version from the sample's source, the device fields from its HKDevice
// (model, hardware as product type and hardware version, manufacturer,
// name, software). Items of one chunk with the same attributes share one.
func (m *appleMapper) source(name, version, device string, c *appleChunk) *codec.Source {
	k := sourceKey{name, version, device}
	e := m.sources[k]
	if e == nil {
		e = &sourceEntry{src: codec.Source{Name: name, Version: version}}
		if device != "" {
			if d, err := applehealth.ParseDevice(device); err == nil {
				e.src.DeviceModel, e.src.ProductType = d.Model, d.Hardware
				e.src.DeviceHardwareVersion, e.src.DeviceManufacturer = d.Hardware, d.Manufacturer
				e.src.DeviceName, e.src.DeviceSoftwareVersion = d.Name, d.Software
			}
		}
		if len(m.sources) < maxSourceCache {
			m.sources[k] = e
		}
	}
	if e.ptr == nil || e.chunk != c || e.gen != c.gen {
		p := new(codec.Source)
		*p = e.src
		e.ptr, e.chunk, e.gen = p, c, c.gen
	}
	return e.ptr
}

func (m *appleMapper) record(r *applehealth.Record, c *appleChunk) {
	var value float64
	unit := r.Unit
	if strings.HasPrefix(r.Type, categoryPrefix) {
		// The SDK sends a category sample's raw value, with no unit.
		v, ok := health.ExportCategoryValue(r.Value)
		if !ok {
			m.drop("unknown category value")
			return
		}
		value, unit = float64(v), ""
	} else {
		v, err := strconv.ParseFloat(r.Value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			m.drop("bad value")
			return
		}
		var ok bool
		if value, unit, ok = health.ExportUnit(r.Type, r.Unit, v); !ok {
			if _, known := health.ExportRecordUnit(r.Type); known {
				m.counts.Unmapped++ // kept as written
			}
		}
	}
	start, end, zone, ok := m.dates(r.StartDate, r.EndDate)
	if !ok {
		return
	}
	var rec codec.Record
	rec.StartRaw, rec.EndRaw, rec.ZoneRaw = start, end, zone
	rec.Type, rec.Unit, rec.ValueRaw = r.Type, unit, value
	rec.Source = m.source(r.SourceName, r.SourceVersion, r.Device, c)
	rec.Metadata = m.metadata(c, r.Metadata, r.HRV)
	c.records = append(c.records, rec)
	m.counts.Records++
}

func (m *appleMapper) sleepStage(r *applehealth.Record, c *appleChunk) {
	start, end, zone, ok := m.dates(r.StartDate, r.EndDate)
	if !ok {
		return
	}
	stage := health.StageUnknown.String()
	if st, ok := health.ExportSleepStage(r.Value); ok {
		stage = st.String()
	} else {
		m.counts.Unmapped++ // sent as "unknown", as the SDK does
	}
	var s codec.SleepStage
	s.StartRaw, s.EndRaw, s.ZoneRaw, s.Stage = start, end, zone, stage
	s.Source = m.source(r.SourceName, r.SourceVersion, r.Device, c)
	c.sleep = append(c.sleep, s)
	m.counts.Sleep++
}

// summaryStart is the midnight that starts an activity summary's day. The
// export gives the day without a zone: the day is taken in UTC.
func summaryStart(day string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, day)
	return t, err == nil
}

// summary maps an activity summary to one record per value it gives, over
// its day: HKActivitySummaryActiveEnergyBurned (kcal) and its goal,
// ...AppleMoveTime, ...AppleExerciseTime (min) and their goals,
// ...AppleStandHours (count) and its goal.
func (m *appleMapper) summary(a *applehealth.ActivitySummary, c *appleChunk) {
	start, ok := summaryStart(a.DateComponents)
	if !ok {
		m.drop("bad dateComponents")
		return
	}
	end := start.AddDate(0, 0, 1)
	energyUnit := a.ActiveEnergyBurnedUnit
	if energyUnit == "" {
		energyUnit = "kcal"
	}
	rows := [...]struct{ typ, value, from, to string }{
		{"HKActivitySummaryActiveEnergyBurned", a.ActiveEnergyBurned, energyUnit, "kcal"},
		{"HKActivitySummaryActiveEnergyBurnedGoal", a.ActiveEnergyBurnedGoal, energyUnit, "kcal"},
		{"HKActivitySummaryAppleMoveTime", a.AppleMoveTime, "min", "min"},
		{"HKActivitySummaryAppleMoveTimeGoal", a.AppleMoveTimeGoal, "min", "min"},
		{"HKActivitySummaryAppleExerciseTime", a.AppleExerciseTime, "min", "min"},
		{"HKActivitySummaryAppleExerciseTimeGoal", a.AppleExerciseTimeGoal, "min", "min"},
		{"HKActivitySummaryAppleStandHours", a.AppleStandHours, "count", "count"},
		{"HKActivitySummaryAppleStandHoursGoal", a.AppleStandHoursGoal, "count", "count"},
	}
	for _, row := range rows {
		v, err := strconv.ParseFloat(row.value, 64)
		if row.value == "" || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		unit := row.to
		if v, ok = health.ExportConvert(v, row.from, row.to); !ok {
			unit = row.from
			m.counts.Unmapped++
		}
		var rec codec.Record
		rec.StartRaw, rec.EndRaw, rec.ZoneRaw = start, end, "+00:00"
		rec.Type, rec.Unit, rec.ValueRaw = row.typ, unit, v
		c.records = append(c.records, rec)
	}
	m.counts.Summaries++
}

// workoutStatOrder is the order in which the iOS SDK lists a workout's
// statistics.
var workoutStatOrder = []string{
	"duration", "activeEnergyBurned", "basalEnergyBurned", "distance", "stepCount", "swimmingStrokeCount",
	"minHeartRate", "averageHeartRate", "maxHeartRate", "averageRunningPower", "averageRunningSpeed",
	"averageRunningStrideLength", "averageVerticalOscillation", "averageGroundContactTime",
	"elevationAscended", "elevationDescended", "averageSpeed", "maxSpeed", "averageMETs", "lapLength",
	"swimmingLocationType", "indoorWorkout", "weatherTemperature", "weatherHumidity",
}

func statRank(typ string) int {
	if i := slices.Index(workoutStatOrder, typ); i >= 0 {
		return i
	}
	return len(workoutStatOrder)
}

func (m *appleMapper) workout(w *applehealth.Workout, c *appleChunk) {
	start, end, zone, ok := m.dates(w.StartDate, w.EndDate)
	if !ok {
		return
	}
	var out codec.Workout
	out.StartRaw, out.EndRaw, out.ZoneRaw = start, end, zone
	out.Type = health.ExportWorkoutType(w.ActivityType)
	out.Source = m.source(w.SourceName, w.SourceVersion, w.Device, c)
	out.Values = m.workoutStats(w, start, end)
	out.Metadata = m.metadata(c, w.Metadata, nil)
	out.Laps, out.Segments = m.events(c, w.Events)
	out.Route = m.route(c, w.Routes)
	c.workouts = append(c.workouts, out)
	m.counts.Workouts++
}

// workoutStats gives a workout's values as the SDK does: its duration in
// seconds, what its statistics and metadata give (§3.7), and for an older
// export without statistics, its total energy and distance.
func (m *appleMapper) workoutStats(w *applehealth.Workout, start, end time.Time) []codec.WorkoutStatistic {
	type ranked struct {
		st   codec.WorkoutStatistic
		rank uint8
	}
	var stats []ranked
	put := func(typ, unit string, v float64, rank uint8) {
		for i := range stats {
			if stats[i].st.Type == typ {
				if rank < stats[i].rank {
					stats[i] = ranked{codec.WorkoutStatistic{Type: typ, Unit: unit, ValueRaw: v}, rank}
				}
				return
			}
		}
		stats = append(stats, ranked{codec.WorkoutStatistic{Type: typ, Unit: unit, ValueRaw: v}, rank})
	}
	has := func(typ string) bool {
		return slices.ContainsFunc(stats, func(r ranked) bool { return r.st.Type == typ })
	}

	duration := end.Sub(start).Seconds()
	if d, err := strconv.ParseFloat(w.Duration, 64); err == nil && !math.IsNaN(d) && !math.IsInf(d, 0) {
		unit := w.DurationUnit
		if unit == "" {
			unit = "min"
		}
		if s, ok := health.ExportConvert(d, unit, "s"); ok {
			duration = s
		}
	}
	put("duration", "s", duration, 0)
	for _, s := range w.Statistics {
		for _, es := range health.ExportWorkoutStatistic(s.Type) {
			raw := statField(&s, es.Field)
			v, err := strconv.ParseFloat(raw, 64)
			if raw == "" || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			if v, _, ok := health.ExportUnit(s.Type, s.Unit, v); ok {
				put(es.Type, es.Unit, v, es.Rank)
			} else {
				m.counts.Unmapped++
			}
		}
	}
	total := func(typ, value, unit, to string) {
		v, err := strconv.ParseFloat(value, 64)
		if has(typ) || value == "" || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if v, ok := health.ExportConvert(v, unit, to); ok {
			put(typ, to, v, 0)
		}
	}
	total("activeEnergyBurned", w.TotalEnergyBurned, w.TotalEnergyBurnedUnit, "kcal")
	total("distance", w.TotalDistance, w.TotalDistanceUnit, "m")
	for _, md := range w.Metadata {
		if typ, unit, v, ok := health.ExportWorkoutMetadata(md.Key, md.Value); ok {
			put(typ, unit, v, 0)
		}
	}
	slices.SortStableFunc(stats, func(a, b ranked) int { return statRank(a.st.Type) - statRank(b.st.Type) })
	out := make([]codec.WorkoutStatistic, len(stats))
	for i, r := range stats {
		out[i] = r.st
	}
	return out
}

func statField(s *applehealth.WorkoutStatistics, f health.ExportField) string {
	switch f {
	case health.ExportSum:
		return s.Sum
	case health.ExportAverage:
		return s.Average
	case health.ExportMinimum:
		return s.Minimum
	case health.ExportMaximum:
		return s.Maximum
	}
	return ""
}

// events gives a workout's events as the SDK 0.15 fills laps from them:
// the lap events in laps, the others (segments, pauses, resumes, markers)
// in segments, each {"type", "startDate", "endDate"} with the end at the
// date plus the event's duration.
func (m *appleMapper) events(c *appleChunk, events []applehealth.WorkoutEvent) (laps, segments json.RawMessage) {
	var lapBuf, segBuf []byte
	for _, e := range events {
		at, _, err := parseExportDate(e.Date)
		if err != nil {
			m.drop("bad workout event date")
			continue
		}
		end := at
		if d, err := strconv.ParseFloat(e.Duration, 64); err == nil && d > 0 && !math.IsInf(d, 0) {
			unit := e.DurationUnit
			if unit == "" {
				unit = "min"
			}
			if s, ok := health.ExportConvert(d, unit, "s"); ok && s < 1e9 {
				end = at.Add(time.Duration(s * float64(time.Second)))
			}
		}
		typ := snakeEvent(e.Type)
		buf := &segBuf
		if typ == "lap" {
			buf = &lapBuf
		}
		b := *buf
		if len(b) == 0 {
			b = append(b, '[')
		} else {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendJSONString(b, typ)
		b = append(b, `,"startDate":"`...)
		b = at.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","endDate":"`...)
		b = end.UTC().AppendFormat(b, time.RFC3339Nano)
		*buf = append(b, `"}`...)
	}
	list := func(b []byte) json.RawMessage {
		if len(b) == 0 {
			return nil
		}
		return c.keep(append(b, ']'))
	}
	return list(lapBuf), list(segBuf)
}

// snakeEvent names a workout event type of the export
// ("HKWorkoutEventTypeMotionPaused") in snake_case ("motion_paused").
func snakeEvent(t string) string {
	switch t {
	case "HKWorkoutEventTypeLap":
		return "lap"
	case "HKWorkoutEventTypeSegment":
		return "segment"
	case "HKWorkoutEventTypePause":
		return "pause"
	case "HKWorkoutEventTypeResume":
		return "resume"
	case "HKWorkoutEventTypeMarker":
		return "marker"
	}
	return health.ExportWorkoutType(strings.Replace(t, "HKWorkoutEventType", "HKWorkoutActivityType", 1))
}

// route reads the first route of a workout that names its file, and gives
// it as the SDK's route JSON: an array of {"timestamp", "latitude",
// "longitude", "altitudeM"}, with "speed", "course", "horizontalAccuracy"
// and "verticalAccuracy" when the file gives them.
func (m *appleMapper) route(c *appleChunk, routes []applehealth.WorkoutRoute) json.RawMessage {
	i := slices.IndexFunc(routes, func(r applehealth.WorkoutRoute) bool { return r.FilePath != "" })
	if i < 0 {
		return nil
	}
	if m.routes == nil {
		m.drop(partRoute + "the export has no route files (a bare export.xml)")
		return nil
	}
	points, err := m.routes(routes[i].FilePath)
	switch {
	case err == nil:
	case errors.Is(err, applehealth.ErrNoRoute):
		m.drop(partRoute + "its file is not in the export")
		return nil
	case errors.Is(err, applehealth.ErrTooLarge):
		m.drop(partRoute + "its file is over a limit")
		return nil
	default:
		m.drop(partRoute + "its file cannot be read")
		return nil
	}
	start := len(c.arena)
	b := append(c.arena, '[')
	n := 0
	for _, p := range points {
		if math.IsNaN(p.Latitude) || math.IsNaN(p.Longitude) || math.IsInf(p.Latitude, 0) || math.IsInf(p.Longitude, 0) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, '{')
		if !p.Time.IsZero() {
			b = append(b, `"timestamp":"`...)
			b = p.Time.UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, `",`...)
		}
		b = appendNumber(append(b, `"latitude":`...), p.Latitude)
		b = appendNumber(append(b, `,"longitude":`...), p.Longitude)
		for _, f := range [...]struct {
			key string
			v   float64
		}{{`,"altitudeM":`, p.Elevation}, {`,"speed":`, p.Speed}, {`,"course":`, p.Course},
			{`,"horizontalAccuracy":`, p.HorizontalAccuracy}, {`,"verticalAccuracy":`, p.VerticalAccuracy}} {
			if !math.IsNaN(f.v) && !math.IsInf(f.v, 0) {
				b = appendNumber(append(b, f.key...), f.v)
			}
		}
		b = append(b, '}')
	}
	c.arena = append(b, ']')
	if n == 0 {
		c.arena = c.arena[:start]
		m.drop(partRoute + "its file has no points")
		return nil
	}
	m.counts.Routes++
	return c.arena[start:len(c.arena):len(c.arena)]
}

// metadata gives an item's metadata entries as the SDK does, a JSON object
// of strings {key: value}, with the beats of a heart rate variability
// sample as "beats": [{"bpm", "time"}]. The object is kept under the limit
// of codec (MaxMetadataBytes): entries past it are dropped and counted.
func (m *appleMapper) metadata(c *appleChunk, md []applehealth.Metadata, beats []applehealth.InstantaneousBPM) json.RawMessage {
	if len(md) == 0 && len(beats) == 0 {
		return nil
	}
	const limit = codec.MaxMetadataBytes - 2 // for "]}"
	start := len(c.arena)
	b := append(c.arena, '{')
	cut := false
	for _, e := range md {
		mark := len(b)
		if mark > start+1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.Key)
		b = append(b, ':')
		b = appendJSONString(b, e.Value)
		if len(b)-start > limit {
			b, cut = b[:mark], true
		}
	}
	if len(beats) > 0 {
		mark := len(b)
		if mark > start+1 {
			b = append(b, ',')
		}
		b = append(b, `"beats":[`...)
		first, listStart := true, len(b)
		for _, bt := range beats {
			beatMark := len(b)
			if !first {
				b = append(b, ',')
			}
			b = append(b, `{"bpm":`...)
			if v, err := strconv.ParseFloat(bt.BPM, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				b = appendNumber(b, v)
			} else {
				b = appendJSONString(b, bt.BPM)
			}
			b = append(b, `,"time":`...)
			b = appendJSONString(b, bt.Time)
			b = append(b, '}')
			if len(b)-start > limit {
				b, cut = b[:beatMark], true
				break
			}
			first = false
		}
		if len(b) == listStart { // not one beat fitted
			b = b[:mark]
		} else {
			b = append(b, ']')
		}
	}
	if cut {
		m.drop(partMetadata + "over " + strconv.Itoa(codec.MaxMetadataBytes) + " bytes (entries left out)")
	}
	c.arena = append(b, '}')
	return c.arena[start:len(c.arena):len(c.arena)]
}

// keep copies b into the chunk's arena.
func (c *appleChunk) keep(b []byte) json.RawMessage {
	start := len(c.arena)
	c.arena = append(c.arena, b...)
	return c.arena[start:len(c.arena):len(c.arena)]
}

func appendNumber(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'g', -1, 64) }

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
