package query

import (
	"math"
	"sort"
	"strconv"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// SleepSession is a session of GET /users/{id}/events/sleep.
type SleepSession struct {
	ID                   string          `json:"id"`
	StartTime            time.Time       `json:"start_time"`
	EndTime              time.Time       `json:"end_time"`
	ZoneOffset           *string         `json:"zone_offset"`
	Source               *SourceMetadata `json:"source"`
	DurationSeconds      int64           `json:"duration_seconds"`
	SleepDurationSeconds int64           `json:"sleep_duration_seconds"`
	TimeInBedMinutes     int64           `json:"time_in_bed_minutes"`
	EfficiencyPercent    *float64        `json:"efficiency_percent"`
	Stages               SleepStages     `json:"stages"`
	Intervals            []StageInterval `json:"sleep_stage_intervals"`
	IsNap                bool            `json:"is_nap"`

	// What the summaries need, not encoded.
	TotalSleepMinutes float64 `json:"-"`
	interruptions     int64   // health.Session.Interruptions
}

// SleepStages are the minutes per stage, rounded down as Open Wearables.
type SleepStages struct {
	AwakeMinutes    int64 `json:"awake_minutes"`
	LightMinutes    int64 `json:"light_minutes"`
	DeepMinutes     int64 `json:"deep_minutes"`
	RemMinutes      int64 `json:"rem_minutes"`
	SleepingMinutes int64 `json:"sleeping_minutes"`
}

// StageInterval is one cleaned stage of a session.
type StageInterval struct {
	Stage     string    `json:"stage"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
}

// sessionMargin is how far outside a window stages are read, so that a
// session crossing the window's edge is built from all of its stages.
const sessionMargin = 36 * time.Hour

// sleepSessions builds the sessions of a user from the stored stages of
// each provider. A session belongs to the window when it starts at or
// after its start and ends before its end. Sessions are rebuilt from the
// stages on every read, so they always reflect every stage received, in
// whatever order it came.
func (q *Service) sleepSessions(iid uint32, start, end time.Time) ([]SleepSession, error) {
	var out []SleepSession
	for _, prov := range health.ProviderCodes() {
		sessions, err := q.providerSessions(iid, prov, start, end)
		if err != nil {
			return nil, err
		}
		for _, s := range sessions {
			if s.Start.Before(start) || !s.End.Before(end) {
				continue
			}
			ss, err := q.session(prov, &s)
			if err != nil {
				return nil, err
			}
			out = append(out, ss)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartTime.Equal(out[j].StartTime) {
			return out[i].StartTime.After(out[j].StartTime)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// providerSessions builds the sessions of one provider of a user from the
// stages that start in [from, to) and sessionMargin around it.
func (q *Service) providerSessions(iid uint32, prov byte, from, to time.Time) ([]health.Session, error) {
	var stages []health.SleepInterval
	err := q.store.SleepStages(iid, prov, from.Add(-sessionMargin).UnixMicro(), to.Add(sessionMargin).UnixMicro(),
		func(r *pebblestore.SleepStageRecord) bool {
			stages = append(stages, health.SleepInterval{
				Stage: health.Stage(r.Stage), Start: fromMicro(r.Start), End: fromMicro(r.End),
				Source: strconv.FormatUint(uint64(r.SID), 10), ZoneOffset: r.Zone,
			})
			return true
		})
	if err != nil {
		return nil, err
	}
	return health.BuildSessions(stages), nil
}

func (q *Service) session(prov byte, s *health.Session) (SleepSession, error) {
	sid, _ := strconv.ParseUint(s.Source, 10, 32)
	src, err := q.source(uint32(sid))
	if err != nil {
		return SleepSession{}, err
	}
	out := SleepSession{
		ID:                   hexID(uint64(prov), uint64(s.Start.UnixMicro()), uint64(s.End.UnixMicro())),
		StartTime:            s.Start,
		EndTime:              s.End,
		ZoneOffset:           strPtr(s.ZoneOffset),
		Source:               src,
		DurationSeconds:      int64(s.End.Sub(s.Start) / time.Second),
		SleepDurationSeconds: int64(math.Floor(s.TotalSleepMinutes)) * 60,
		TimeInBedMinutes:     int64(math.Floor(s.TimeInBedMinutes)),
		Stages: SleepStages{
			AwakeMinutes: int64(math.Floor(s.AwakeMinutes)), LightMinutes: int64(math.Floor(s.LightMinutes)),
			DeepMinutes: int64(math.Floor(s.DeepMinutes)), RemMinutes: int64(math.Floor(s.RemMinutes)),
			SleepingMinutes: int64(math.Floor(s.SleepingMinutes)),
		},
		Intervals:         make([]StageInterval, 0, len(s.Stages)),
		TotalSleepMinutes: s.TotalSleepMinutes,
		interruptions:     int64(s.Interruptions()),
	}
	if s.Efficiency > 0 {
		e := math.Round(s.Efficiency*100) / 100
		out.EfficiencyPercent = &e
	}
	for _, st := range s.Stages {
		out.Intervals = append(out.Intervals, StageInterval{Stage: st.Stage.String(), StartTime: st.Start, EndTime: st.End})
	}
	return out, nil
}

// SleepParams are the parameters of the sleep session list.
type SleepParams struct {
	Start, End time.Time
	Cursor     string
	Limit      int
}

// Sleep answers GET /users/{id}/events/sleep, newest first; an unknown
// user has an empty page.
func (q *Service) Sleep(userID string, p SleepParams) (*Page[SleepSession], error) {
	page := emptyPage[SleepSession](p.Start, p.End)
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return page, nil
	}
	all, err := q.sleepSessions(u.IID, p.Start, p.End)
	if err != nil {
		return nil, err
	}
	err = pageNewestFirst(page, all, p.Cursor, p.Limit, func(s *SleepSession) (time.Time, string) { return s.StartTime, s.ID })
	if err != nil {
		return nil, err
	}
	return page, nil
}
