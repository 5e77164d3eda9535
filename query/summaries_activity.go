package query

// Activity summaries: the daily steps, distance, floors, calories, active
// minutes, intensity minutes and heart rate of each local date, from the
// best-ranked data source of that date.

import (
	"encoding/base64"
	"math"
	"sort"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

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
	var readErr error // a stored workout that cannot be read fails the summaries
	err := q.store.Workouts(iid, from-workoutMargin, to, func(ref pebblestore.WorkoutRef, v []byte) bool {
		if ref.End < from || ref.End >= to {
			return true
		}
		rec, err := pebblestore.DecodeWorkout(v)
		if err != nil {
			readErr = err
			return false
		}
		a.addWorkout(ref.SID, ref.Start, ref.End, rec.Zone, detail(rec, health.DetailTotalElevationGain))
		return true
	})
	if err == nil {
		err = readErr
	}
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
		sid, err := q.best(sids)
		if err != nil {
			return nil, err
		}
		src, err := q.source(sid)
		if err != nil {
			return nil, err
		}
		out = append(out, m[sid].summary(src))
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
// source of that date; the heart-rate zones are those of a maximum heart
// rate of 190 (health.DefaultMaxHeartRate). An unknown user has an empty
// page.
func (q *Service) ActivitySummaries(userID string, p ActivityParams) (*Page[ActivitySummary], error) {
	page, err := datePage[ActivitySummary](p.Start, p.End)
	if err != nil {
		return nil, err
	}
	var cur int64
	back := false
	if p.Cursor != "" {
		if cur, back, err = decodeActivityCursor(p.Cursor); err != nil {
			return nil, err
		}
	}
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
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
	rows, err := q.activityRows(u.IID, d0, d1, desc, p.Limit+1, maxHR)
	if err != nil {
		return nil, err
	}
	paginate(page, rows, p.Limit, p.Cursor != "", back, func(s *ActivitySummary) string { return activityCursor(s) })
	return page, nil
}
