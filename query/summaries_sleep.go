package query

// Sleep summaries: the main sessions of each night, keyed by the local date
// of the wake-up, with the averages of the vitals over the night.

import (
	"math"
	"sort"
	"strings"
	"time"

	"wearhouse/health"
)

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
// SpO2 over the night. An unknown user has an empty page.
func (q *Service) SleepSummaries(userID string, p SleepSummaryParams) (*Page[SleepSummary], error) {
	page, err := datePage[SleepSummary](p.Start, p.End)
	if err != nil {
		return nil, err
	}
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
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return page, nil
	}
	d0, d1 := clampDay(p.Start), clampDay(p.End)
	sessions, err := q.sleepSessions(u.IID, clampTime(p.Start).Add(-2*24*time.Hour), clampTime(p.End).Add(2*24*time.Hour))
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
			if err := q.nightVitals(u.IID, &rows[i]); err != nil {
				return nil, err
			}
		}
	}
	paginate(page, rows, p.Limit, p.Cursor != "", back, func(s *SleepSummary) string {
		return *encodeCursor(time.Unix(s.day*86400, 0), s.firstID)
	})
	return page, nil
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
