package query

// Summaries: daily activity, nightly sleep, body and data summaries, with
// the definitions of fact sheet §5.3 and the decisions listed in the
// README's API notes.
//
// Everything is computed at read time from the stored points, sessions and
// workouts: a replayed or corrected point replaces the stored one, so a
// summary can never count it twice. A day is a LOCAL date: a sample's local
// date is its start shifted by its own zone offset; a sample without a zone
// offset counts as UTC.

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

const (
	minuteUsec = int64(60_000_000)
	hourUsec   = 60 * minuteUsec
	dayUsec    = 24 * hourUsec

	// dayMargin widens the UTC read window of a range of local dates so
	// that every zone offset is covered.
	dayMargin = dayUsec
	// workoutMargin is how long before a window a workout that ends in it
	// may have started.
	workoutMargin = 7 * dayUsec

	// defaultMaxHR is the maximum heart rate used without a birth date.
	defaultMaxHR = health.DefaultMaxHeartRate
)

// Series ids the summaries read.
var (
	serHeartRate     = seriesIDOf("heart_rate")
	serRestingHR     = seriesIDOf("resting_heart_rate")
	serSDNN          = seriesIDOf("heart_rate_variability_sdnn")
	serRMSSD         = seriesIDOf("heart_rate_variability_rmssd")
	serSpO2          = seriesIDOf("oxygen_saturation")
	serSystolic      = seriesIDOf("blood_pressure_systolic")
	serDiastolic     = seriesIDOf("blood_pressure_diastolic")
	serRespiratory   = seriesIDOf("respiratory_rate")
	serHeight        = seriesIDOf("height")
	serWeight        = seriesIDOf("weight")
	serBodyFat       = seriesIDOf("body_fat_percentage")
	serBMI           = seriesIDOf("body_mass_index")
	serLeanMass      = seriesIDOf("lean_body_mass")
	serBodyTemp      = seriesIDOf("body_temperature")
	serSkinTemp      = seriesIDOf("skin_temperature")
	serMuscleMass    = seriesIDOf("skeletal_muscle_mass")
	serSteps         = seriesIDOf("steps")
	serEnergy        = seriesIDOf("energy")
	serBasalEnergy   = seriesIDOf("basal_energy")
	serFlights       = seriesIDOf("flights_climbed")
	serActiveTime    = seriesIDOf("active_time")
	serDistWalkRun   = seriesIDOf("distance_walking_running")
	serDistCycling   = seriesIDOf("distance_cycling")
	serDistSwimming  = seriesIDOf("distance_swimming")
	serDistSnow      = seriesIDOf("distance_downhill_snow_sports")
	workoutTotalsFor = map[uint16]bool{serSteps: true, serEnergy: true, serDistWalkRun: true}
)

func seriesIDOf(code string) uint16 {
	s, ok := health.SeriesByCode(code)
	if !ok {
		panic("query: no series " + code)
	}
	return s.ID
}

// ---------------------------------------------------------------------------
// Dates and zone offsets

func floorDivInt(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// zoneOffsetUsec reads a "+HH:MM" zone offset; anything else is UTC.
func zoneOffsetUsec(z string) int64 {
	if len(z) != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':' {
		return 0
	}
	d := func(c byte) int64 { return int64(c - '0') }
	for _, i := range []int{1, 2, 4, 5} {
		if z[i] < '0' || z[i] > '9' {
			return 0
		}
	}
	off := (d(z[1])*10+d(z[2]))*hourUsec + (d(z[4])*10+d(z[5]))*minuteUsec
	if z[0] == '-' {
		off = -off
	}
	return off
}

// zoneCache remembers the last zone offset parsed: the points of a block
// nearly always share one.
type zoneCache struct {
	last string
	off  int64
}

func (c *zoneCache) offset(z string) int64 {
	if z != c.last {
		c.last, c.off = z, zoneOffsetUsec(z)
	}
	return c.off
}

// localDay is the local date, in days since 1970-01-01, of a time in Unix
// µs with a zone offset in µs.
func localDay(t, off int64) int64 { return floorDivInt(t+off, dayUsec) }

func dayString(day int64) string { return time.Unix(day*86400, 0).UTC().Format("2006-01-02") }

func dayOf(t time.Time) int64 { return floorDivInt(t.Unix(), 86400) }

// ParseDate reads a date parameter of the summaries: YYYY-MM-DD, or a time
// (RFC 3339 or Unix seconds). Of an RFC 3339 time the date is taken as
// written; of Unix seconds, the UTC date. The result is midnight UTC of
// that date.
func ParseDate(name, v string) (time.Time, error) {
	t, err := ParseTime(name, v, false)
	if err != nil {
		return t, err
	}
	if len(v) >= 10 {
		if d, err := time.Parse("2006-01-02", v[:10]); err == nil {
			return d, nil
		}
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

// roundTo rounds to n decimals.
func roundTo(v float64, n int) float64 {
	f := math.Pow10(n)
	return math.Round(v*f) / f
}

func valPtr[T any](v T) *T { return &v }

// ---------------------------------------------------------------------------
// Source priority (fact sheet §5.3): provider, then device type, then
// device model; the data source id breaks the remaining ties.

var providerPriority = map[string]int{"apple": 1, "samsung": 2, "google": 3}

type sourceRank struct {
	provider, device int
	model, name      string
	sid              uint32
}

func (q *Service) rank(sid uint32) sourceRank {
	r := metaRank(q.source(sid))
	r.sid = sid
	return r
}

func metaRank(m *SourceMetadata) sourceRank {
	r := sourceRank{provider: 99, device: 99}
	if p, ok := providerPriority[m.Provider]; ok {
		r.provider = p
	}
	if m.DeviceType != nil {
		r.device = health.DeviceTypePriority(*m.DeviceType)
	}
	if m.Device != nil {
		r.model = *m.Device
	}
	if m.Source != nil {
		r.name = *m.Source
	}
	return r
}

func (a sourceRank) before(b sourceRank) bool {
	if a.provider != b.provider {
		return a.provider < b.provider
	}
	if a.device != b.device {
		return a.device < b.device
	}
	if a.model != b.model {
		return a.model < b.model
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return a.sid < b.sid
}

// best returns the best-ranked of several data sources.
func (q *Service) best(sids []uint32) uint32 {
	b := sids[0]
	br := q.rank(b)
	for _, s := range sids[1:] {
		if r := q.rank(s); r.before(br) {
			b, br = s, r
		}
	}
	return b
}

// ---------------------------------------------------------------------------
// Activity: aggregation

// Summed fields of a day.
const (
	fSteps = iota
	fEnergy
	fBasal
	fDistance
	fFlights
	fActiveTime
	fElevation
	nFields
)

// activityDay accumulates one (local date, data source).
type activityDay struct {
	day int64
	sid uint32

	sum [nFields]float64
	n   [nFields]int

	hrSum        float64
	hrN          int
	hrMin, hrMax float64

	stepMinutes, activeMinutes int // minutes with step data, of which active

	hrMinutes, light, moderate, vigorous int
}

// minuteSlot is a pending minute of step counts.
type minuteSlot struct {
	steps   float64
	day     int64
	covered bool
}

// sidState is the per-data-source state of the minute buckets.
type sidState struct {
	// Steps: pend[i] is minute base+i; minutes before the start of the
	// latest sample can receive nothing more and are settled.
	base int64
	pend []minuteSlot
	// Heart rate: the minute being averaged.
	hrMinute int64
	hrSum    float64
	hrN      int
	hrDay    int64
}

type workoutEnd struct {
	sid uint32
	end int64
}

// workoutTotal is a point that the compactor derived from a workout's
// legacy total statistic (totalSteps, totalEnergyBurned, totalDistance).
type workoutTotal struct {
	series     uint16
	sid        uint32
	day        int64
	value      float64
	start, end int64
}

// activityAcc aggregates the activity of the local dates [d0, d1).
type activityAcc struct {
	d0, d1 int64
	zones  health.HeartRateZones

	days  map[int64]map[uint32]*activityDay
	last  *activityDay
	sids  map[uint32]*sidState
	lastS *sidState
	lastI uint32
	zc    zoneCache

	dayBuf []int64

	workoutEnds map[workoutEnd]int64 // → workout start
	totals      []workoutTotal
}

func newActivityAcc(d0, d1 int64, maxHR int) *activityAcc {
	return &activityAcc{
		d0: d0, d1: d1, zones: health.ZonesFor(maxHR),
		days: map[int64]map[uint32]*activityDay{}, sids: map[uint32]*sidState{},
	}
}

func (a *activityAcc) get(day int64, sid uint32) *activityDay {
	if l := a.last; l != nil && l.day == day && l.sid == sid {
		return l
	}
	m := a.days[day]
	if m == nil {
		m = map[uint32]*activityDay{}
		a.days[day] = m
	}
	d := m[sid]
	if d == nil {
		d = &activityDay{day: day, sid: sid, hrMin: math.Inf(1), hrMax: math.Inf(-1)}
		m[sid] = d
	}
	a.last = d
	return d
}

func (a *activityAcc) state(sid uint32) *sidState {
	if a.lastS != nil && a.lastI == sid {
		return a.lastS
	}
	st := a.sids[sid]
	if st == nil {
		st = &sidState{hrMinute: math.MinInt64}
		a.sids[sid] = st
	}
	a.lastS, a.lastI = st, sid
	return st
}

// outside marks a point whose local date is outside the window.
const outside = math.MinInt64

// localDays fills a.dayBuf with the local date of each point of a block, or
// outside. A date changes only at a day boundary of the current zone, so
// most points cost a comparison.
func (a *activityAcc) localDays(b *pebblestore.LeanBlock) []int64 {
	days := a.dayBuf[:0]
	i := 0
	for _, run := range b.Zones {
		off := a.zc.offset(run.Zone)
		day, bound := int64(0), int64(math.MinInt64)
		for _, t := range b.Start[i : i+run.N] {
			if t >= bound || t < bound-dayUsec {
				day = localDay(t, off)
				bound = (day+1)*dayUsec - off
			}
			if day >= a.d0 && day < a.d1 {
				days = append(days, day)
			} else {
				days = append(days, outside)
			}
		}
		i += run.N
	}
	a.dayBuf = days
	return days
}

// addWorkout notes a workout: its elevation gain counts on the local date
// of its end, and a legacy total statistic stored at its end is recognised.
func (a *activityAcc) addWorkout(sid uint32, start, end int64, zone string, elevation *float64) {
	if a.workoutEnds == nil {
		a.workoutEnds = map[workoutEnd]int64{}
	}
	a.workoutEnds[workoutEnd{sid, end}] = start
	if elevation == nil {
		return
	}
	if d := localDay(end, zoneOffsetUsec(zone)); d >= a.d0 && d < a.d1 {
		ad := a.get(d, sid)
		ad.sum[fElevation] += *elevation
		ad.n[fElevation]++
	}
}

// isWorkoutTotal sets aside a point derived from a workout's legacy total:
// it counts only if the data source has no samples of its own during the
// workout (decided by settleTotals).
func (a *activityAcc) isWorkoutTotal(series uint16, b *pebblestore.LeanBlock, i int, day int64) bool {
	if len(a.workoutEnds) == 0 || !b.Plain[i] || b.Start[i] != b.End[i] || !workoutTotalsFor[series] {
		return false
	}
	start, ok := a.workoutEnds[workoutEnd{b.SID, b.Start[i]}]
	if !ok {
		return false
	}
	a.totals = append(a.totals, workoutTotal{series: series, sid: b.SID, day: day, value: b.Value[i], start: start, end: b.Start[i]})
	return true
}

// addSum adds the points of a summed series to field f.
func (a *activityAcc) addSum(series uint16, f int, b *pebblestore.LeanBlock) {
	for i, day := range a.localDays(b) {
		if day == outside || a.isWorkoutTotal(series, b, i, day) {
			continue
		}
		d := a.get(day, b.SID)
		d.sum[f] += b.Value[i]
		d.n[f]++
	}
}

// addSteps adds step points: to the day's total, and to the minute buckets
// of active and sedentary minutes. A sample of at most a minute counts in
// the minute it starts in; a longer one (up to a day) is spread over the
// minutes it covers in proportion to the overlap.
func (a *activityAcc) addSteps(b *pebblestore.LeanBlock) {
	sid := b.SID
	st := a.state(sid)
	for i, day := range a.localDays(b) {
		if day == outside || a.isWorkoutTotal(serSteps, b, i, day) {
			continue
		}
		start, end, v := b.Start[i], b.End[i], b.Value[i]
		d := a.get(day, sid)
		d.sum[fSteps] += v
		d.n[fSteps]++

		m := floorDivInt(start, minuteUsec)
		if len(st.pend) > 0 && m > st.base {
			a.settleSteps(sid, st, m)
		}
		if len(st.pend) == 0 {
			st.base = m
		}
		dur := end - start
		if dur <= minuteUsec || dur > dayUsec {
			st.slot(m).add(v, day)
			continue
		}
		last := floorDivInt(end-1, minuteUsec)
		for mm := m; mm <= last; mm++ {
			lo, hi := max(start, mm*minuteUsec), min(end, (mm+1)*minuteUsec)
			st.slot(mm).add(v*float64(hi-lo)/float64(dur), day)
		}
	}
}

func (st *sidState) slot(m int64) *minuteSlot {
	i := int(m - st.base)
	for len(st.pend) <= i {
		st.pend = append(st.pend, minuteSlot{})
	}
	return &st.pend[i]
}

func (s *minuteSlot) add(v float64, day int64) {
	if !s.covered {
		s.covered, s.day = true, day
	}
	s.steps += v
}

// settleSteps counts the pending minutes before minute m.
func (a *activityAcc) settleSteps(sid uint32, st *sidState, m int64) {
	k := 0
	for k < len(st.pend) && st.base+int64(k) < m {
		if s := &st.pend[k]; s.covered {
			d := a.get(s.day, sid)
			d.stepMinutes++
			if health.IsActiveMinute(s.steps) {
				d.activeMinutes++
			}
		}
		k++
	}
	if k == 0 {
		return
	}
	n := copy(st.pend, st.pend[k:])
	st.pend = st.pend[:n]
	st.base += int64(k)
}

// addHeartRate adds heart rate points: to the day's average, minimum and
// maximum, and to per-minute averages that give the intensity minutes.
func (a *activityAcc) addHeartRate(b *pebblestore.LeanBlock) {
	sid := b.SID
	st := a.state(sid)
	var d *activityDay
	for i, day := range a.localDays(b) {
		if day == outside {
			continue
		}
		if d == nil || d.day != day {
			d = a.get(day, sid)
		}
		v := b.Value[i]
		d.hrSum += v
		d.hrN++
		d.hrMin = math.Min(d.hrMin, v)
		d.hrMax = math.Max(d.hrMax, v)

		m := floorDivInt(b.Start[i], minuteUsec)
		if st.hrN > 0 && m != st.hrMinute {
			a.settleHeartRate(sid, st)
		}
		if st.hrN == 0 {
			st.hrMinute, st.hrDay = m, day
		}
		st.hrSum += v
		st.hrN++
	}
}

func (a *activityAcc) settleHeartRate(sid uint32, st *sidState) {
	if st.hrN == 0 {
		return
	}
	hr := st.hrSum / float64(st.hrN)
	st.hrSum, st.hrN = 0, 0
	d := a.get(st.hrDay, sid)
	d.hrMinutes++
	switch a.zones.Of(hr) {
	case health.IntensityVigorous:
		d.vigorous++
	case health.IntensityModerate:
		d.moderate++
	case health.IntensityLight:
		d.light++
	}
}

// merge adds another accumulator of the same dates into a.
func (a *activityAcc) merge(b *activityAcc) {
	for day, m := range b.days {
		for sid, d := range m {
			t := a.get(day, sid)
			for f := range t.sum {
				t.sum[f] += d.sum[f]
				t.n[f] += d.n[f]
			}
			t.hrSum += d.hrSum
			t.hrN += d.hrN
			t.hrMin, t.hrMax = math.Min(t.hrMin, d.hrMin), math.Max(t.hrMax, d.hrMax)
			t.stepMinutes += d.stepMinutes
			t.activeMinutes += d.activeMinutes
			t.hrMinutes += d.hrMinutes
			t.light += d.light
			t.moderate += d.moderate
			t.vigorous += d.vigorous
		}
	}
	a.totals = append(a.totals, b.totals...)
}

// finish settles every pending minute.
func (a *activityAcc) finish() {
	for sid, st := range a.sids {
		a.settleSteps(sid, st, math.MaxInt64)
		a.settleHeartRate(sid, st)
	}
}

// IntensityMinutes are the minutes per heart rate zone.
type IntensityMinutes struct {
	Light    int `json:"light"`
	Moderate int `json:"moderate"`
	Vigorous int `json:"vigorous"`
}

// HeartRateSummary is a day's heart rate.
type HeartRateSummary struct {
	AvgBpm int64 `json:"avg_bpm"`
	MaxBpm int64 `json:"max_bpm"`
	MinBpm int64 `json:"min_bpm"`
}

// ActivitySummary is one day of GET /users/{id}/summaries/activity. A
// value is null when the day has no data for it.
type ActivitySummary struct {
	Date               string            `json:"date"`
	Source             *SourceMetadata   `json:"source"`
	Steps              *int64            `json:"steps"`
	DistanceMeters     *float64          `json:"distance_meters"`
	FloorsClimbed      *int64            `json:"floors_climbed"`
	ElevationMeters    *float64          `json:"elevation_meters"`
	ActiveCaloriesKcal *float64          `json:"active_calories_kcal"`
	TotalCaloriesKcal  *float64          `json:"total_calories_kcal"`
	ActiveMinutes      *int64            `json:"active_minutes"`
	SedentaryMinutes   *int64            `json:"sedentary_minutes"`
	IntensityMinutes   *IntensityMinutes `json:"intensity_minutes"`
	HeartRate          *HeartRateSummary `json:"heart_rate"`

	day int64
}

// summary builds the answer for one accumulated day.
func (d *activityDay) summary(src *SourceMetadata) ActivitySummary {
	s := ActivitySummary{Date: dayString(d.day), Source: src, day: d.day}
	if d.n[fSteps] > 0 {
		s.Steps = valPtr(int64(math.Round(d.sum[fSteps])))
	}
	if d.n[fDistance] > 0 {
		s.DistanceMeters = valPtr(roundTo(d.sum[fDistance], 3))
	}
	if d.n[fElevation] > 0 {
		s.ElevationMeters = valPtr(roundTo(d.sum[fElevation], 3))
	}
	switch {
	case d.n[fFlights] > 0:
		s.FloorsClimbed = valPtr(int64(math.Round(d.sum[fFlights])))
	case d.sum[fElevation] > 0:
		s.FloorsClimbed = valPtr(int64(d.sum[fElevation] / 3))
	}
	if d.n[fEnergy] > 0 {
		s.ActiveCaloriesKcal = valPtr(roundTo(d.sum[fEnergy], 3))
	}
	if d.n[fEnergy] > 0 || d.n[fBasal] > 0 {
		s.TotalCaloriesKcal = valPtr(roundTo(d.sum[fEnergy]+d.sum[fBasal], 3))
	}
	if d.stepMinutes > 0 {
		s.ActiveMinutes = valPtr(int64(d.activeMinutes))
		s.SedentaryMinutes = valPtr(int64(d.stepMinutes - d.activeMinutes))
	}
	if d.n[fActiveTime] > 0 {
		s.ActiveMinutes = valPtr(int64(math.Round(d.sum[fActiveTime])))
	}
	if d.hrMinutes > 0 {
		s.IntensityMinutes = &IntensityMinutes{Light: d.light, Moderate: d.moderate, Vigorous: d.vigorous}
	}
	if d.hrN > 0 {
		s.HeartRate = &HeartRateSummary{
			AvgBpm: int64(math.Round(d.hrSum / float64(d.hrN))),
			MaxBpm: int64(math.Round(d.hrMax)), MinBpm: int64(math.Round(d.hrMin)),
		}
	}
	return s
}

// ---------------------------------------------------------------------------
// Activity: reading

// activityChunk computes the summaries of the local dates [d0, d1), one per
// date with data (the best-ranked data source's), in date order.
func (q *Service) activityChunk(iid uint32, d0, d1 int64, maxHR int) ([]ActivitySummary, error) {
	a := newActivityAcc(d0, d1, maxHR)
	from, to := d0*dayUsec-dayMargin, d1*dayUsec+dayMargin
	err := q.store.Workouts(iid, from-workoutMargin, to, func(ref pebblestore.WorkoutRef, v []byte) bool {
		if ref.End < from || ref.End >= to {
			return true
		}
		rec, err := pebblestore.DecodeWorkout(v)
		if err != nil {
			return true
		}
		a.addWorkout(ref.SID, ref.Start, ref.End, rec.Zone, detail(rec, health.DetailTotalElevationGain))
		return true
	})
	if err != nil {
		return nil, err
	}
	// Heart rate is read and aggregated on its own goroutine, alongside the
	// steps and the summed series; the two accumulators touch disjoint
	// fields and are merged at the end.
	hr := newActivityAcc(d0, d1, maxHR)
	hrErr := make(chan error, 1)
	go func() {
		hrErr <- q.store.ScanSeries(iid, serHeartRate, from, to, func(b *pebblestore.LeanBlock) bool {
			hr.addHeartRate(b)
			return true
		})
	}()
	err = q.store.ScanSeries(iid, serSteps, from, to, func(b *pebblestore.LeanBlock) bool {
		a.addSteps(b)
		return true
	})
	for _, s := range summedSeries {
		if err != nil {
			break
		}
		series, field := s.series, s.field
		err = q.store.ScanSeries(iid, series, from, to, func(b *pebblestore.LeanBlock) bool {
			a.addSum(series, field, b)
			return true
		})
	}
	if herr := <-hrErr; err == nil {
		err = herr
	}
	if err != nil {
		return nil, err
	}
	a.finish()
	hr.finish()
	a.merge(hr)
	if err := q.settleTotals(iid, a); err != nil {
		return nil, err
	}
	days := make([]int64, 0, len(a.days))
	for d := range a.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	out := make([]ActivitySummary, 0, len(days))
	for _, d := range days {
		m := a.days[d]
		sids := make([]uint32, 0, len(m))
		for sid := range m {
			sids = append(sids, sid)
		}
		sid := q.best(sids)
		out = append(out, m[sid].summary(q.source(sid)))
	}
	return out, nil
}

// summedSeries are the series whose daily sum is a field of the activity.
var summedSeries = []struct {
	series uint16
	field  int
}{
	{serEnergy, fEnergy}, {serBasalEnergy, fBasal}, {serFlights, fFlights}, {serActiveTime, fActiveTime},
	{serDistWalkRun, fDistance}, {serDistCycling, fDistance}, {serDistSwimming, fDistance}, {serDistSnow, fDistance},
}

// settleTotals counts a workout's legacy total only when its data source
// sent no samples of that series during the workout: otherwise the day
// would count the same steps, energy or distance twice.
func (q *Service) settleTotals(iid uint32, a *activityAcc) error {
	field := map[uint16]int{serSteps: fSteps, serEnergy: fEnergy, serDistWalkRun: fDistance}
	for _, t := range a.totals {
		own := false
		err := q.store.ScanSeries(iid, t.series, t.start, t.end, func(b *pebblestore.LeanBlock) bool {
			own = b.SID == t.sid
			return !own
		})
		if err != nil {
			return err
		}
		if !own {
			d := a.get(t.day, t.sid)
			d.sum[field[t.series]] += t.value
			d.n[field[t.series]]++
		}
	}
	return nil
}

// activityRows computes up to need summaries of the local dates [d0, d1),
// from d0 upwards, or from d1 downwards when desc. It reads the window in
// chunks that double, so that a small page of a long window reads little.
func (q *Service) activityRows(iid uint32, d0, d1 int64, desc bool, need, maxHR int) ([]ActivitySummary, error) {
	var out []ActivitySummary
	size := int64(need)
	for d0 < d1 && len(out) < need {
		var c0, c1 int64
		if desc {
			c0, c1 = max(d0, d1-size), d1
			d1 = c0
		} else {
			c0, c1 = d0, min(d1, d0+size)
			d0 = c1
		}
		rows, err := q.activityChunk(iid, c0, c1, maxHR)
		if err != nil {
			return nil, err
		}
		if desc {
			for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
		out = append(out, rows...)
		size *= 2
	}
	if len(out) > need {
		out = out[:need]
	}
	return out, nil
}

// ActivityParams are the parameters of GET /users/{id}/summaries/activity.
type ActivityParams struct {
	UserID     string    // for the birth date of the intensity zones
	Start, End time.Time // local dates [Start, End), at midnight UTC
	Cursor     string
	Limit      int
	Desc       bool
}

func activityCursor(s *ActivitySummary) string {
	src, dev := "unknown", ""
	if s.Source != nil {
		if s.Source.Source != nil {
			src = *s.Source.Source
		}
		if s.Source.Device != nil {
			dev = *s.Source.Device
		}
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s.Date + "|" + src + "|" + dev))
}

// decodeDateCursor reads the date of an activity cursor, and whether it
// pages backwards ("prev_" prefix).
func decodeActivityCursor(c string) (day int64, back bool, err error) {
	raw, back := strings.CutPrefix(c, "prev_")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	if err == nil {
		date, _, _ := strings.Cut(string(b), "|")
		var t time.Time
		if t, err = time.Parse("2006-01-02", date); err == nil {
			return dayOf(t), back, nil
		}
	}
	return 0, false, badf("Invalid cursor format: '%s'. Expected 'date|source|device'.", c)
}

// ActivitySummaries answers GET /users/{id}/summaries/activity: one summary
// per local date of [Start, End) that has data, from the best-ranked data
// source of that date.
func (q *Service) ActivitySummaries(iid uint32, known bool, p ActivityParams) (*Page[ActivitySummary], error) {
	if !p.End.After(p.Start) {
		return nil, badf("end_date must be after start_date.")
	}
	page := &Page[ActivitySummary]{Data: []ActivitySummary{}}
	st, et := p.Start, p.End
	page.Metadata.StartTime, page.Metadata.EndTime = &st, &et
	var cur int64
	back := false
	if p.Cursor != "" {
		var err error
		if cur, back, err = decodeActivityCursor(p.Cursor); err != nil {
			return nil, err
		}
	}
	if !known {
		return page, nil
	}
	d0, d1 := clampDay(p.Start), clampDay(p.End)
	// The rows are read away from the cursor: after it in the sort order,
	// or before it for a "prev_" cursor.
	desc := p.Desc
	if p.Cursor != "" {
		if p.Desc != back { // dates below the cursor
			d1 = min(d1, cur)
		} else {
			d0 = max(d0, cur+1)
		}
	}
	if back {
		desc = !desc
	}
	rows, err := q.activityRows(iid, d0, d1, desc, p.Limit+1, q.maxHR(p.UserID, p.Start))
	if err != nil {
		return nil, err
	}
	paginate(page, rows, p.Limit, p.Cursor != "", back, func(s *ActivitySummary) string { return activityCursor(s) })
	return page, nil
}

// paginate fills a page from rows read away from the cursor (limit+1 at
// most). A forward page has next_cursor when there is more, and
// previous_cursor ("prev_" and its first row) when it was asked with a
// cursor. A backward page ("prev_" cursor) is returned in the sort order,
// with previous_cursor when there is more before it and next_cursor at its
// last row; has_more then says there is more before.
func paginate[T any](page *Page[T], rows []T, limit int, hasCursor, back bool, cursor func(*T) string) {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if back {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	page.Pagination.HasMore = more
	if len(rows) > 0 {
		first, last := cursor(&rows[0]), cursor(&rows[len(rows)-1])
		if back {
			if more {
				page.Pagination.PreviousCursor = valPtr("prev_" + first)
			}
			page.Pagination.NextCursor = &last
		} else {
			if more {
				page.Pagination.NextCursor = &last
			}
			if hasCursor {
				page.Pagination.PreviousCursor = valPtr("prev_" + first)
			}
		}
	}
	if rows != nil {
		page.Data = rows
	}
	page.Metadata.SampleCount = len(rows)
}

// maxHR is the user's maximum heart rate at a date (health.MaxHeartRate),
// from the birth_date (YYYY-MM-DD) of the user's profile.
func (q *Service) maxHR(userID string, at time.Time) int {
	return health.MaxHeartRate(q.age(userID, at))
}

// age is the user's age in whole years at a time, from the birth_date of
// the user's profile.
func (q *Service) age(userID string, at time.Time) (int, bool) {
	if userID == "" {
		return 0, false
	}
	u, err := q.store.User(userID)
	if err != nil || len(u.Profile) == 0 {
		return 0, false
	}
	var prof struct {
		BirthDate string `json:"birth_date"`
	}
	if json.Unmarshal(u.Profile, &prof) != nil || len(prof.BirthDate) < 10 {
		return 0, false
	}
	b, err := time.Parse("2006-01-02", prof.BirthDate[:10])
	if err != nil {
		return 0, false
	}
	return health.AgeAt(b, at)
}

// ---------------------------------------------------------------------------
// Sleep

// SummaryStages are the stage minutes of a night.
type SummaryStages struct {
	AwakeMinutes int64 `json:"awake_minutes"`
	LightMinutes int64 `json:"light_minutes"`
	DeepMinutes  int64 `json:"deep_minutes"`
	RemMinutes   int64 `json:"rem_minutes"`
}

// SummarySession is one session of a night.
type SummarySession struct {
	StartTime       time.Time `json:"start_time"`
	EndTime         time.Time `json:"end_time"`
	ZoneOffset      *string   `json:"zone_offset"`
	DurationMinutes int64     `json:"duration_minutes"`
	IsNap           bool      `json:"is_nap"`
}

// SleepSummary is one night of GET /users/{id}/summaries/sleep, keyed by
// the local date of its wake-up.
type SleepSummary struct {
	Date                 string           `json:"date"`
	Source               *SourceMetadata  `json:"source"`
	StartTime            time.Time        `json:"start_time"`
	EndTime              time.Time        `json:"end_time"`
	ZoneOffset           *string          `json:"zone_offset"`
	DurationMinutes      int64            `json:"duration_minutes"`
	TotalDurationMinutes int64            `json:"total_duration_minutes"`
	TimeInBedMinutes     int64            `json:"time_in_bed_minutes"`
	EfficiencyPercent    *float64         `json:"efficiency_percent"`
	Stages               *SummaryStages   `json:"stages"`
	InterruptionsCount   int64            `json:"interruptions_count"`
	NapCount             int64            `json:"nap_count"`
	NapDurationMinutes   int64            `json:"nap_duration_minutes"`
	Sessions             []SummarySession `json:"sessions"`
	AvgHeartRateBpm      *int64           `json:"avg_heart_rate_bpm"`
	AvgHrvSdnnMs         *float64         `json:"avg_hrv_sdnn_ms"`
	AvgHrvRmssdMs        *float64         `json:"avg_hrv_rmssd_ms"`
	AvgRespiratoryRate   *float64         `json:"avg_respiratory_rate"`
	AvgSpo2Percent       *float64         `json:"avg_spo2_percent"`

	day     int64
	firstID string
}

// SleepSummaryParams are the parameters of GET /users/{id}/summaries/sleep.
type SleepSummaryParams struct {
	Start, End time.Time // local wake-up dates [Start, End), at midnight UTC
	Cursor     string
	Limit      int
}

// nightSummary builds the summary of the main sessions of one night and
// data source (SDK sessions are never naps).
func nightSummary(day int64, src *SourceMetadata, sessions []SleepSession) SleepSummary {
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].StartTime.Before(sessions[j].StartTime) })
	s := SleepSummary{Date: dayString(day), Source: src, day: day, firstID: sessions[0].ID,
		Stages: &SummaryStages{}, Sessions: make([]SummarySession, 0, len(sessions))}
	var (
		effWeighted, effSeconds float64
		longest                 = -1
		longestMinutes          int64
	)
	for i := range sessions {
		ss := &sessions[i]
		minutes := ss.SleepDurationSeconds / 60
		s.DurationMinutes += minutes
		s.TimeInBedMinutes += ss.TimeInBedMinutes
		s.Stages.AwakeMinutes += ss.Stages.AwakeMinutes
		s.Stages.LightMinutes += ss.Stages.LightMinutes
		s.Stages.DeepMinutes += ss.Stages.DeepMinutes
		s.Stages.RemMinutes += ss.Stages.RemMinutes
		s.InterruptionsCount += ss.interruptions
		if ss.EfficiencyPercent != nil {
			effWeighted += *ss.EfficiencyPercent * float64(ss.DurationSeconds)
			effSeconds += float64(ss.DurationSeconds)
		}
		if longest < 0 || minutes > longestMinutes {
			longest, longestMinutes = i, minutes
		}
		s.Sessions = append(s.Sessions, SummarySession{
			StartTime: ss.StartTime, EndTime: ss.EndTime, ZoneOffset: ss.ZoneOffset, DurationMinutes: minutes,
		})
	}
	s.TotalDurationMinutes = s.DurationMinutes
	if effSeconds > 0 {
		s.EfficiencyPercent = valPtr(roundTo(effWeighted/effSeconds, 2))
	}
	l := &sessions[longest]
	s.StartTime, s.EndTime, s.ZoneOffset = l.StartTime, l.EndTime, l.ZoneOffset
	return s
}

// SleepSummaries answers GET /users/{id}/summaries/sleep: one summary per
// local wake-up date of [Start, End), from the best-ranked data source of
// that date, with the averages of heart rate, HRV, respiratory rate and
// SpO2 over the night.
func (q *Service) SleepSummaries(iid uint32, known bool, p SleepSummaryParams) (*Page[SleepSummary], error) {
	if !p.End.After(p.Start) {
		return nil, badf("end_date must be after start_date.")
	}
	page := &Page[SleepSummary]{Data: []SleepSummary{}}
	st, et := p.Start, p.End
	page.Metadata.StartTime, page.Metadata.EndTime = &st, &et
	var cur int64
	back := false
	if p.Cursor != "" {
		raw, b := strings.CutPrefix(p.Cursor, "prev_")
		t, _, err := decodeCursor(raw)
		if err != nil {
			return nil, err
		}
		cur, back = dayOf(t), b
	}
	if !known {
		return page, nil
	}
	d0, d1 := clampDay(p.Start), clampDay(p.End)
	sessions, err := q.SleepSessions(iid, clampTime(p.Start).Add(-2*24*time.Hour), clampTime(p.End).Add(2*24*time.Hour))
	if err != nil {
		return nil, err
	}
	// Sessions are grouped per (wake-up date, data source); the source
	// metadata of a data source is one shared value.
	type key struct {
		day int64
		src *SourceMetadata
	}
	groups := map[key][]SleepSession{}
	byDay := map[int64][]*SourceMetadata{}
	for _, s := range sessions {
		day := localDay(s.EndTime.UnixMicro(), zoneOffsetUsec(strValue(s.ZoneOffset)))
		if day < d0 || day >= d1 || p.Cursor != "" && (back && day >= cur || !back && day <= cur) {
			continue
		}
		k := key{day, s.Source}
		if groups[k] == nil {
			byDay[day] = append(byDay[day], s.Source)
		}
		groups[k] = append(groups[k], s)
	}
	var rows []SleepSummary
	for day, srcs := range byDay {
		best := srcs[0]
		for _, m := range srcs[1:] {
			if metaRank(m).before(metaRank(best)) {
				best = m
			}
		}
		rows = append(rows, nightSummary(day, best, groups[key{day, best}]))
	}
	sort.Slice(rows, func(i, j int) bool {
		if back {
			return rows[i].day > rows[j].day
		}
		return rows[i].day < rows[j].day
	})
	if len(rows) > p.Limit+1 {
		rows = rows[:p.Limit+1]
	}
	for i := range rows {
		if i < p.Limit {
			if err := q.nightVitals(iid, &rows[i]); err != nil {
				return nil, err
			}
		}
	}
	paginate(page, rows, p.Limit, p.Cursor != "", back, func(s *SleepSummary) string {
		return *encodeCursor(time.Unix(s.day*86400, 0), s.firstID)
	})
	return page, nil
}

func strValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// average is the plain average of a series over [from, to) across every
// data source; scale, when set, maps each value first.
func (q *Service) average(iid uint32, series uint16, from, to int64, scale func(float64) float64) (float64, bool, error) {
	var sum float64
	n := 0
	err := q.store.ScanSeries(iid, series, from, to, func(b *pebblestore.LeanBlock) bool {
		for _, v := range b.Value {
			if scale != nil {
				v = scale(v)
			}
			sum += v
			n++
		}
		return true
	})
	if err != nil || n == 0 {
		return 0, false, err
	}
	return sum / float64(n), true, nil
}

// nightVitals fills the night's averages over [first start, last end) of
// its sessions, from every data source of the user.
func (q *Service) nightVitals(iid uint32, s *SleepSummary) error {
	from, to := s.Sessions[0].StartTime.UnixMicro(), s.Sessions[0].EndTime.UnixMicro()
	for _, ss := range s.Sessions {
		from, to = min(from, ss.StartTime.UnixMicro()), max(to, ss.EndTime.UnixMicro())
	}
	if v, ok, err := q.average(iid, serHeartRate, from, to, nil); err != nil {
		return err
	} else if ok {
		s.AvgHeartRateBpm = valPtr(int64(math.Round(v)))
	}
	for _, f := range []struct {
		series uint16
		dst    **float64
		scale  func(float64) float64
	}{
		{serSDNN, &s.AvgHrvSdnnMs, nil}, {serRMSSD, &s.AvgHrvRmssdMs, nil},
		{serRespiratory, &s.AvgRespiratoryRate, nil}, {serSpO2, &s.AvgSpo2Percent, health.SpO2Percent},
	} {
		v, ok, err := q.average(iid, f.series, from, to, f.scale)
		if err != nil {
			return err
		}
		if ok {
			*f.dst = valPtr(roundTo(v, 1))
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Body

// SlowChanging are the latest slow-changing body values.
type SlowChanging struct {
	WeightKg       *float64 `json:"weight_kg"`
	HeightCm       *float64 `json:"height_cm"`
	BodyFatPercent *float64 `json:"body_fat_percent"`
	MuscleMassKg   *float64 `json:"muscle_mass_kg"`
	LeanBodyMassKg *float64 `json:"lean_body_mass_kg"`
	BMI            *float64 `json:"bmi"`
	Age            *int     `json:"age"`
}

// BodyAveraged are averages over the last period_days.
type BodyAveraged struct {
	PeriodDays          int       `json:"period_days"`
	RestingHeartRateBpm *int64    `json:"resting_heart_rate_bpm"`
	AvgHrvSdnnMs        *float64  `json:"avg_hrv_sdnn_ms"`
	AvgHrvRmssdMs       *float64  `json:"avg_hrv_rmssd_ms"`
	PeriodStart         time.Time `json:"period_start"`
	PeriodEnd           time.Time `json:"period_end"`
}

// BloodPressure summarises the blood pressure readings of the latest
// window: a reading is a systolic and a diastolic value of one data source
// at most 5 s apart.
type BloodPressure struct {
	AvgSystolicMmhg  int64 `json:"avg_systolic_mmhg"`
	AvgDiastolicMmhg int64 `json:"avg_diastolic_mmhg"`
	MaxSystolicMmhg  int64 `json:"max_systolic_mmhg"`
	MaxDiastolicMmhg int64 `json:"max_diastolic_mmhg"`
	MinSystolicMmhg  int64 `json:"min_systolic_mmhg"`
	MinDiastolicMmhg int64 `json:"min_diastolic_mmhg"`
	ReadingCount     int   `json:"reading_count"`
}

// BodyLatest are the latest values of the last latest_window_hours.
type BodyLatest struct {
	BodyTemperatureCelsius    *float64       `json:"body_temperature_celsius"`
	BodyTemperatureMeasuredAt *time.Time     `json:"body_temperature_measured_at"`
	SkinTemperatureCelsius    *float64       `json:"skin_temperature_celsius"`
	SkinTemperatureMeasuredAt *time.Time     `json:"skin_temperature_measured_at"`
	BloodPressure             *BloodPressure `json:"blood_pressure"`
	BloodPressureMeasuredAt   *time.Time     `json:"blood_pressure_measured_at"`
}

// BodySummary is the answer of GET /users/{id}/summaries/body.
type BodySummary struct {
	Source       *SourceMetadata `json:"source"`
	SlowChanging SlowChanging    `json:"slow_changing"`
	Averaged     BodyAveraged    `json:"averaged"`
	Latest       BodyLatest      `json:"latest"`
}

// BodyParams are the parameters of GET /users/{id}/summaries/body.
type BodyParams struct {
	UserID            string
	AveragePeriodDays int
	LatestWindowHours int
	Now               time.Time // zero: the current time
}

// latest returns the point of a series with the greatest start in [from,
// to), ties going to the best-ranked data source.
func (q *Service) latest(iid uint32, series uint16, from, to int64) (*pebblestore.SourcedPoint, error) {
	pts, err := q.store.LatestPoints(iid, series, from, to)
	if err != nil || len(pts) == 0 {
		return nil, err
	}
	sids := make([]uint32, len(pts))
	for i := range pts {
		sids[i] = pts[i].SID
	}
	b := q.best(sids)
	for i := range pts {
		if pts[i].SID == b {
			return &pts[i], nil
		}
	}
	return nil, nil
}

// BodySummary answers GET /users/{id}/summaries/body; nil when the user has
// none of its values.
func (q *Service) BodySummary(iid uint32, known bool, p BodyParams) (*BodySummary, error) {
	if !known {
		return nil, nil
	}
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	nowUs := now.UnixMicro()
	b := &BodySummary{Source: &SourceMetadata{Provider: "unknown"}}
	found := false
	// Slow-changing: the latest value before now, whenever it was taken.
	var newest *pebblestore.SourcedPoint
	for _, f := range []struct {
		series uint16
		dst    **float64
	}{
		{serWeight, &b.SlowChanging.WeightKg}, {serHeight, &b.SlowChanging.HeightCm},
		{serBodyFat, &b.SlowChanging.BodyFatPercent}, {serMuscleMass, &b.SlowChanging.MuscleMassKg},
		{serLeanMass, &b.SlowChanging.LeanBodyMassKg}, {serBMI, &b.SlowChanging.BMI},
	} {
		sp, err := q.latest(iid, f.series, farPast.UnixMicro(), nowUs)
		if err != nil {
			return nil, err
		}
		if sp == nil {
			continue
		}
		found = true
		*f.dst = valPtr(sp.Value)
		if newest == nil || sp.Start > newest.Start {
			newest = sp
		}
	}
	if newest != nil {
		b.Source = q.source(newest.SID)
	}
	sc := &b.SlowChanging
	if sc.BMI == nil && sc.WeightKg != nil && sc.HeightCm != nil && *sc.HeightCm > 0 {
		m := *sc.HeightCm / 100
		sc.BMI = valPtr(roundTo(*sc.WeightKg/(m*m), 1))
	}
	if age, ok := q.age(p.UserID, now); ok {
		sc.Age = &age
	}
	// Averaged over [now - period, now).
	from := now.Add(-time.Duration(p.AveragePeriodDays) * 24 * time.Hour)
	b.Averaged = BodyAveraged{PeriodDays: p.AveragePeriodDays, PeriodStart: from, PeriodEnd: now}
	if v, ok, err := q.average(iid, serRestingHR, from.UnixMicro(), nowUs, nil); err != nil {
		return nil, err
	} else if ok {
		found = true
		b.Averaged.RestingHeartRateBpm = valPtr(int64(math.Round(v)))
	}
	for _, f := range []struct {
		series uint16
		dst    **float64
	}{{serSDNN, &b.Averaged.AvgHrvSdnnMs}, {serRMSSD, &b.Averaged.AvgHrvRmssdMs}} {
		v, ok, err := q.average(iid, f.series, from.UnixMicro(), nowUs, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			found = true
			*f.dst = valPtr(roundTo(v, 1))
		}
	}
	// Latest within [now - window, now].
	wFrom := now.Add(-time.Duration(p.LatestWindowHours) * time.Hour).UnixMicro()
	for _, f := range []struct {
		series uint16
		val    **float64
		at     **time.Time
	}{
		{serBodyTemp, &b.Latest.BodyTemperatureCelsius, &b.Latest.BodyTemperatureMeasuredAt},
		{serSkinTemp, &b.Latest.SkinTemperatureCelsius, &b.Latest.SkinTemperatureMeasuredAt},
	} {
		sp, err := q.latest(iid, f.series, wFrom, nowUs+1)
		if err != nil {
			return nil, err
		}
		if sp != nil {
			found = true
			*f.val, *f.at = valPtr(sp.Value), valPtr(fromMicro(sp.Start))
		}
	}
	bp, at, err := q.bloodPressure(iid, wFrom, nowUs+1)
	if err != nil {
		return nil, err
	}
	if bp != nil {
		found = true
		b.Latest.BloodPressure, b.Latest.BloodPressureMeasuredAt = bp, at
	}
	if !found {
		return nil, nil
	}
	return b, nil
}

// bloodPressure summarises the paired readings of [from, to).
func (q *Service) bloodPressure(iid uint32, from, to int64) (*BloodPressure, *time.Time, error) {
	read := func(series uint16) (map[uint32][]health.TimedValue, error) {
		m := map[uint32][]health.TimedValue{}
		err := q.store.ScanSeries(iid, series, from, to, func(b *pebblestore.LeanBlock) bool {
			for i, t := range b.Start {
				m[b.SID] = append(m[b.SID], health.TimedValue{T: t, V: b.Value[i]})
			}
			return true
		})
		return m, err
	}
	sys, err := read(serSystolic)
	if err != nil {
		return nil, nil, err
	}
	dia, err := read(serDiastolic)
	if err != nil {
		return nil, nil, err
	}
	var all []health.BloodPressureReading
	for sid, s := range sys {
		all = append(all, health.PairBloodPressure(s, dia[sid])...)
	}
	if len(all) == 0 {
		return nil, nil, nil
	}
	return summariseBP(all)
}

// summariseBP gives the averages, extremes and count of paired readings,
// and the time of the latest.
func summariseBP(all []health.BloodPressureReading) (*BloodPressure, *time.Time, error) {
	var sumS, sumD float64
	maxS, maxD, minS, minD := math.Inf(-1), math.Inf(-1), math.Inf(1), math.Inf(1)
	var at int64 = math.MinInt64
	for _, r := range all {
		sumS += r.Systolic
		sumD += r.Diastolic
		maxS, maxD = math.Max(maxS, r.Systolic), math.Max(maxD, r.Diastolic)
		minS, minD = math.Min(minS, r.Systolic), math.Min(minD, r.Diastolic)
		at = max(at, r.At)
	}
	n := float64(len(all))
	r := func(v float64) int64 { return int64(math.Round(v)) }
	return &BloodPressure{
		AvgSystolicMmhg: r(sumS / n), AvgDiastolicMmhg: r(sumD / n),
		MaxSystolicMmhg: r(maxS), MaxDiastolicMmhg: r(maxD), MinSystolicMmhg: r(minS), MinDiastolicMmhg: r(minD),
		ReadingCount: len(all),
	}, valPtr(fromMicro(at)), nil
}

// ---------------------------------------------------------------------------
// Data

// ProviderCounts are the counts of one provider.
type ProviderCounts struct {
	Provider     string         `json:"provider"`
	DataPoints   int            `json:"data_points"`
	SeriesCounts map[string]int `json:"series_counts"`
	WorkoutCount int            `json:"workout_count"`
	SleepCount   int            `json:"sleep_count"`
}

// DataSummary is the answer of GET /users/{id}/summaries/data.
type DataSummary struct {
	UserID              string           `json:"user_id"`
	TotalDataPoints     int              `json:"total_data_points"`
	TotalWorkouts       int              `json:"total_workouts"`
	TotalSleepEvents    int              `json:"total_sleep_events"`
	SeriesTypeCounts    map[string]int   `json:"series_type_counts"`
	WorkoutTypeCounts   map[string]int   `json:"workout_type_counts"`
	ByProvider          []ProviderCounts `json:"by_provider"`
	HasWomensHealthData bool             `json:"has_womens_health_data"`
}

// DataParams are the parameters of GET /users/{id}/summaries/data.
type DataParams struct {
	UserID     string
	Start, End *time.Time // optional; data points by time, events by start
}

// Far bounds of an unbounded data summary.
var (
	farPast   = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// clampTime keeps a time within [farPast, farFuture], where times in Unix µs
// and hour numbers do not overflow.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(farPast):
		return farPast
	case t.After(farFuture):
		return farFuture
	}
	return t
}

func clampDay(t time.Time) int64 { return dayOf(clampTime(t)) }

// DataSummary answers GET /users/{id}/summaries/data: counts of points per
// series, workouts per type and sleep sessions, in all and per provider.
func (q *Service) DataSummary(iid uint32, known bool, p DataParams) (*DataSummary, error) {
	start, end := farPast, farFuture
	if p.Start != nil {
		start = *p.Start
	}
	if p.End != nil {
		end = *p.End
	}
	if !end.After(start) {
		return nil, badf("end_date must be after start_date.")
	}
	start, end = clampTime(start), clampTime(end)
	out := &DataSummary{UserID: p.UserID, SeriesTypeCounts: map[string]int{}, WorkoutTypeCounts: map[string]int{},
		ByProvider: []ProviderCounts{}}
	if !known {
		return out, nil
	}
	byProv := map[string]*ProviderCounts{}
	prov := func(name string) *ProviderCounts {
		pc := byProv[name]
		if pc == nil {
			pc = &ProviderCounts{Provider: name, SeriesCounts: map[string]int{}}
			byProv[name] = pc
		}
		return pc
	}
	from, to := start.UnixMicro(), end.UnixMicro()
	series, err := q.store.UserSeries(iid)
	if err != nil {
		return nil, err
	}
	for _, id := range series {
		counts, err := q.store.SeriesCountBySource(iid, id, from, to)
		if err != nil {
			return nil, err
		}
		code, _, _ := q.seriesInfo(iid, id)
		for sid, n := range counts {
			if n == 0 {
				continue
			}
			out.TotalDataPoints += n
			out.SeriesTypeCounts[code] += n
			pc := prov(q.source(sid).Provider)
			pc.DataPoints += n
			pc.SeriesCounts[code] += n
		}
	}
	err = q.store.Workouts(iid, from, to, func(ref pebblestore.WorkoutRef, v []byte) bool {
		typ := "unknown"
		if rec, err := pebblestore.DecodeWorkout(v); err == nil && rec.Type != "" {
			typ = rec.Type
		}
		out.TotalWorkouts++
		out.WorkoutTypeCounts[typ]++
		prov(q.source(ref.SID).Provider).WorkoutCount++
		return true
	})
	if err != nil {
		return nil, err
	}
	sessions, err := q.SleepSessions(iid, start, end.Add(2*24*time.Hour))
	if err != nil {
		return nil, err
	}
	for _, s := range sessions {
		if !s.StartTime.Before(end) {
			continue
		}
		out.TotalSleepEvents++
		prov(s.Source.Provider).SleepCount++
	}
	for _, pc := range byProv {
		out.ByProvider = append(out.ByProvider, *pc)
	}
	sort.Slice(out.ByProvider, func(i, j int) bool { return out.ByProvider[i].Provider < out.ByProvider[j].Provider })
	return out, nil
}
