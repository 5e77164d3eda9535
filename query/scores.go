package query

// Health scores and menstrual cycles.
//
// Open Wearables computes two scores of its own from SDK data (provider
// "internal") in periodic tasks and stores them: a sleep score per sleep
// session and a resilience score per day. wearhouse computes the same
// scores with the same rules (health.ScoreSleep, health.ScoreResilience)
// at read time, from the stored sleep stages and RMSSD samples, so that a
// score always reflects every sample received. Open Wearables' tasks only
// look back 30 days and never recompute a stored score; here every night
// and day with enough data has its score, from the data as it is now.
//
// Menstrual cycles are written in Open Wearables only by cloud providers'
// cycle tracking; the SDKs send none (their menstrual flow records are no
// cycles, and are kept as the user's own record type), so that list is
// always empty.

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// The health score categories and providers Open Wearables accepts as
// filters.
var (
	ScoreCategories = []string{"sleep", "recovery", "readiness", "activity", "stress", "resilience", "body_battery", "strain"}
	ScoreProviders  = []string{"apple", "samsung", "garmin", "google", "polar", "suunto", "whoop", "strava", "oura",
		"fitbit", "ultrahuman", "sensorbio", "unknown", "internal"}
)

const (
	categorySleep      = "sleep"
	categoryResilience = "resilience"
	providerInternal   = "internal"

	// The first word of a score's id, so that a sleep score's id and a
	// resilience score's never meet.
	scoreIDSleep      = 1
	scoreIDResilience = 2

	// scoreHistory is how long before a window sessions are read for the
	// bedtimes its nights compare against (15 local dates, and the zone
	// offsets on both sides).
	scoreHistory = 18 * 24 * time.Hour
	// scoreEndMargin is how long after a window a session may end whose
	// score falls in it (its local end is the score's time).
	scoreEndMargin = 2 * 24 * time.Hour
)

// ScoreComponent is one part of a health score.
type ScoreComponent struct {
	Value     *float64 `json:"value"`
	Qualifier *string  `json:"qualifier"`
}

// SleepScoreComponents are the four pillars of a sleep score, 0 to 100.
type SleepScoreComponents struct {
	Duration      ScoreComponent `json:"duration"`
	Stages        ScoreComponent `json:"stages"`
	Consistency   ScoreComponent `json:"consistency"`
	Interruptions ScoreComponent `json:"interruptions"`
}

// ResilienceComponents are the parts of a resilience score: the days of
// the window with HRV, the HRV metric, and the score 0 to 100 (the score's
// value is the coefficient of variation itself).
type ResilienceComponents struct {
	DaysCounted     ScoreComponent `json:"days_counted"`
	MetricType      ScoreComponent `json:"metric_type"`
	ResilienceScore ScoreComponent `json:"resilience_score"`
}

// HealthScore is one score of GET /users/{id}/health-scores, in Open
// Wearables' field order. Components is a *SleepScoreComponents or a
// *ResilienceComponents.
type HealthScore struct {
	Category     string    `json:"category"`
	Value        *float64  `json:"value"`
	Qualifier    *string   `json:"qualifier"`
	RecordedAt   time.Time `json:"recorded_at"`
	ZoneOffset   *string   `json:"zone_offset"`
	Components   any       `json:"components"`
	ID           string    `json:"id"`
	DataSourceID *string   `json:"data_source_id"`
	Provider     *string   `json:"provider"`
}

// HealthScoreParams are the parameters of the health score list.
type HealthScoreParams struct {
	// Start and End bound the scores' recorded_at, [Start, End); nil is
	// unbounded.
	Start, End *time.Time
	// Category and Provider filter when not empty.
	Category, Provider string
	Limit, Offset      int
	// Now is the time of the read (zero: the clock's): resilience is
	// computed for the days up to its UTC date, as far as Open Wearables'
	// daily task would have by then.
	Now time.Time
}

// HealthScores answers GET /users/{id}/health-scores: the sleep scores of
// the user's sleep sessions, recorded at each session's local end, and the
// daily resilience scores, recorded at midnight UTC; newest first, paged
// by offset.
func (q *Service) HealthScores(userID string, p HealthScoreParams) (*Page[HealthScore], error) {
	if p.Category != "" && !slices.Contains(ScoreCategories, p.Category) {
		return nil, badf("category must be one of %s.", strings.Join(ScoreCategories, ", "))
	}
	if p.Provider != "" && !slices.Contains(ScoreProviders, p.Provider) {
		return nil, badf("provider must be one of %s.", strings.Join(ScoreProviders, ", "))
	}
	if p.Start != nil && p.End != nil && !p.Start.Before(*p.End) {
		return nil, badf("start_date must be before end_date.")
	}
	page := &Page[HealthScore]{Data: []HealthScore{}}
	page.Metadata.StartTime, page.Metadata.EndTime = p.Start, p.End
	total := 0
	page.Pagination.TotalCount = &total

	sleep := p.Category == "" || p.Category == categorySleep
	resilience := p.Category == "" || p.Category == categoryResilience
	if p.Provider != "" && p.Provider != providerInternal || !sleep && !resilience {
		return page, nil
	}
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return page, nil
	}
	lo, hi := farPast, farFuture
	if p.Start != nil {
		lo = clampTime(*p.Start)
	}
	if p.End != nil {
		hi = clampTime(*p.End)
	}
	nights, err := q.scoreNights(u.IID, clampTime(lo.Add(-scoreHistory)), clampTime(hi.Add(scoreEndMargin)))
	if err != nil {
		return nil, err
	}
	var all []HealthScore
	if sleep {
		all = sleepScores(nights, lo, hi)
	}
	if resilience {
		now := p.Now
		if now.IsZero() {
			now = time.Now()
		}
		r, err := q.resilienceScores(u.IID, nights, lo, hi, dayOf(now))
		if err != nil {
			return nil, err
		}
		all = append(all, r...)
	}
	// Open Wearables orders by recorded_at alone; the id settles ties.
	sort.Slice(all, func(i, j int) bool {
		if !all[i].RecordedAt.Equal(all[j].RecordedAt) {
			return all[i].RecordedAt.After(all[j].RecordedAt)
		}
		return all[i].ID > all[j].ID
	})
	total = len(all)
	if p.Offset < len(all) {
		page.Data = all[p.Offset:min(len(all), p.Offset+p.Limit)]
	}
	page.Pagination.HasMore = p.Offset+len(page.Data) < total
	page.Metadata.SampleCount = len(page.Data)
	return page, nil
}

// scoreNight is one sleep session with what its scores read.
type scoreNight struct {
	provider byte
	health.Session
	offset  time.Duration // the zone offset of the session
	bedtime time.Time     // its start in its zone
}

// scoreNights builds the user's sleep sessions, of every provider, as
// the sleep list builds them, from the stages starting in [from, to) and
// a margin around; in order of their start.
func (q *Service) scoreNights(iid uint32, from, to time.Time) ([]scoreNight, error) {
	var out []scoreNight
	for _, prov := range health.ProviderCodes() {
		sessions, err := q.providerSessions(iid, prov, from, to)
		if err != nil {
			return nil, err
		}
		for _, s := range sessions {
			off := time.Duration(zoneOffsetUsec(s.ZoneOffset)) * time.Microsecond
			out = append(out, scoreNight{provider: prov, Session: s, offset: off,
				bedtime: s.Start.In(time.FixedZone("", int(off/time.Second)))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// sleepScores scores every night whose local end is in [lo, hi). Its
// bedtime consistency compares against the nights before it, as
// health.PreviousBedtimes picks them.
func sleepScores(nights []scoreNight, lo, hi time.Time) []HealthScore {
	bedtimes := make([]time.Time, len(nights))
	for i := range nights {
		bedtimes[i] = nights[i].bedtime
	}
	var out []HealthScore
	for i := range nights {
		n := &nights[i]
		// Open Wearables records a sleep score at the session's local end
		// written as UTC, with no zone offset.
		at := n.End.Add(n.offset)
		if at.Before(lo) || !at.Before(hi) {
			continue
		}
		// The nights that may be previous ones: those starting from
		// scoreHistory before this one to a day after it (a zone further
		// west may start later and still be on an earlier date).
		j0 := sort.Search(len(nights), func(k int) bool { return !nights[k].Start.Before(n.Start.Add(-scoreHistory)) })
		j1 := sort.Search(len(nights), func(k int) bool { return nights[k].Start.After(n.Start.Add(scoreEndMargin)) })
		// Open Wearables reads the whole minutes it stores.
		sc, ok := health.ScoreSleep(&health.SleepNight{
			TotalSleepMinutes: math.Floor(n.TotalSleepMinutes), DeepMinutes: math.Floor(n.DeepMinutes),
			RemMinutes: math.Floor(n.RemMinutes), AwakeMinutes: math.Floor(n.AwakeMinutes), Stages: n.Stages,
			Bedtime: n.bedtime, PreviousBedtimes: health.PreviousBedtimes(bedtimes[j0:j1], n.bedtime),
		})
		if !ok {
			continue
		}
		sid, _ := strconv.ParseUint(n.Source, 10, 32)
		out = append(out, HealthScore{
			Category: categorySleep, Value: valPtr(float64(sc.Overall)), RecordedAt: at.UTC(),
			Components: &SleepScoreComponents{
				Duration: scoreValue(sc.Duration), Stages: scoreValue(sc.Stages),
				Consistency: scoreValue(sc.Consistency), Interruptions: scoreValue(sc.Interruptions),
			},
			ID:           hexID(scoreIDSleep, uint64(n.provider), uint64(n.Start.UnixMicro()), uint64(n.End.UnixMicro())),
			DataSourceID: valPtr(hexID(sid)), Provider: valPtr(providerInternal),
		})
	}
	return out
}

func scoreValue(v int) ScoreComponent { return ScoreComponent{Value: valPtr(float64(v))} }

// resilienceScores computes the resilience of every day at midnight UTC
// in [lo, hi), up to today, whose lookback window has enough nights: the
// average RMSSD of each UTC day, from the samples taken while asleep (in a
// sleeping, light, deep or rem stage of a session). Open Wearables uses
// RMSSD only (its SDNN fallback is disabled), so Apple's SDNN gives none.
func (q *Service) resilienceScores(iid uint32, nights []scoreNight, lo, hi time.Time, today int64) ([]HealthScore, error) {
	first := -floorDivInt(-lo.Unix(), 86400) // the first midnight at or after lo
	last := min(-floorDivInt(-hi.Unix(), 86400)-1, today)
	if first > last {
		return nil, nil
	}
	asleep := asleepSpans(nights)
	type dayAcc struct {
		sum float64
		n   int
	}
	days := map[int64]*dayAcc{}
	err := q.store.ScanSeries(iid, serRMSSD, (first-health.ResilienceLookbackDays)*dayUsec, last*dayUsec,
		func(b *pebblestore.LeanBlock) bool {
			for i, t := range b.Start {
				if !inSpans(asleep, t) {
					continue
				}
				d := floorDivInt(t, dayUsec)
				a := days[d]
				if a == nil {
					a = &dayAcc{}
					days[d] = a
				}
				a.sum += b.Value[i]
				a.n++
			}
			return true
		})
	if err != nil {
		return nil, err
	}
	// The days whose window holds a day with HRV.
	var refs []int64
	for d := range days {
		for r := d + 1; r <= d+health.ResilienceLookbackDays; r++ {
			if r >= first && r <= last {
				refs = append(refs, r)
			}
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	var out []HealthScore
	nightly := make([]float64, 0, health.ResilienceLookbackDays)
	for _, r := range refs {
		nightly = nightly[:0]
		for d := r - health.ResilienceLookbackDays; d < r; d++ {
			if a := days[d]; a != nil {
				nightly = append(nightly, a.sum/float64(a.n))
			}
		}
		res, ok := health.ScoreResilience(nightly)
		if !ok {
			continue
		}
		out = append(out, HealthScore{
			// Open Wearables stores the CV with three decimals.
			Category: categoryResilience, Value: valPtr(roundTo(res.CV, 3)), RecordedAt: time.Unix(r*86400, 0).UTC(),
			Components: &ResilienceComponents{
				DaysCounted:     ScoreComponent{Value: valPtr(float64(res.DaysCounted))},
				MetricType:      ScoreComponent{Qualifier: valPtr("RMSSD")},
				ResilienceScore: scoreValue(res.Score),
			},
			ID: hexID(scoreIDResilience, uint64(r)), Provider: valPtr(providerInternal),
		})
	}
	return out, nil
}

// span is a half-open interval of Unix µs.
type span struct{ start, end int64 }

// asleepSpans is the union of the asleep stages of the nights, sorted and
// merged.
func asleepSpans(nights []scoreNight) []span {
	var out []span
	for i := range nights {
		for _, st := range nights[i].Stages {
			if st.Stage.IsAsleep() {
				out = append(out, span{st.Start.UnixMicro(), st.End.UnixMicro()})
			}
		}
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// inSpans reports whether t is in one of the merged spans.
func inSpans(spans []span, t int64) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].end > t })
	return i < len(spans) && spans[i].start <= t
}

// MenstrualParams are the parameters of the menstrual cycle list that
// its answer reads (its end_date and limit are only checked).
type MenstrualParams struct {
	Start  time.Time
	Cursor string
}

// MenstrualCycles answers GET /users/{id}/events/menstrual-cycles as Open
// Wearables does for SDK data: an empty page. Its end_time is null, as
// Open Wearables' (which filters cycles by their start only, and drops the
// end before it answers).
func MenstrualCycles(p MenstrualParams) (*Page[struct{}], error) {
	if p.Cursor != "" {
		if _, _, err := decodeCursor(strings.TrimPrefix(p.Cursor, "prev_")); err != nil {
			return nil, err
		}
	}
	page := &Page[struct{}]{Data: []struct{}{}}
	start := p.Start
	page.Metadata.StartTime = &start
	total := 0
	page.Pagination.TotalCount = &total
	return page, nil
}
