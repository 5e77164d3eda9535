package query

// Summaries: daily activity, nightly sleep, body and data summaries, with
// the definitions of fact sheet §5.3 and the decisions listed in the
// README's API notes. Each kind has its file (summaries_activity.go,
// summaries_sleep.go, summaries_body.go, summaries_data.go); this one holds
// what they share: series ids, local dates, source ranking, pagination.
// The rules themselves (heart-rate zones and maximum, active minutes, SpO2
// scale, sleep interruptions, blood-pressure pairing) are health's; query
// reads the points and assembles the answers.
//
// Everything is computed at read time from the stored points, sessions and
// workouts: a replayed or corrected point replaces the stored one, so a
// summary can never count it twice. A day is a LOCAL date: a sample's local
// date is its start shifted by its own zone offset; a sample without a zone
// offset counts as UTC.

import (
	"math"
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

	// maxHR is the maximum heart rate of the heart-rate zones: users have
	// no birth date here (Open Wearables has one only from cloud
	// providers' personal records), as for its SDK users.
	maxHR = health.DefaultMaxHeartRate
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

type sourceRank struct {
	provider, device int
	model, name      string
	sid              uint32
}

func (q *Service) rank(sid uint32) (sourceRank, error) {
	m, err := q.source(sid)
	if err != nil {
		return sourceRank{}, err
	}
	r := metaRank(m)
	r.sid = sid
	return r, nil
}

func metaRank(m *SourceMetadata) sourceRank {
	r := sourceRank{provider: health.ProviderPriority(m.Provider), device: 99}
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
func (q *Service) best(sids []uint32) (uint32, error) {
	b := sids[0]
	br, err := q.rank(b)
	if err != nil {
		return 0, err
	}
	for _, s := range sids[1:] {
		r, err := q.rank(s)
		if err != nil {
			return 0, err
		}
		if r.before(br) {
			b, br = s, r
		}
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// Pages

// datePage is the empty page of a summary of the dates [start, end), or
// the error of a window that ends before it starts.
func datePage[T any](start, end time.Time) (*Page[T], error) {
	if !end.After(start) {
		return nil, badf("end_date must be after start_date.")
	}
	page := &Page[T]{Data: []T{}}
	page.Metadata.StartTime, page.Metadata.EndTime = &start, &end
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

// ---------------------------------------------------------------------------
// Profile, averages and bounds

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
