package query

// Data summary: counts of points, workouts and sleep sessions, in all and
// per provider.

import (
	"sort"
	"time"

	"wearhouse/pebblestore"
)

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
	Start, End *time.Time // optional; data points by time, events by start
}

// DataSummary answers GET /users/{id}/summaries/data: counts of points per
// series, workouts per type and sleep sessions, in all and per provider.
func (q *Service) DataSummary(userID string, p DataParams) (*DataSummary, error) {
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
	out := &DataSummary{UserID: userID, SeriesTypeCounts: map[string]int{}, WorkoutTypeCounts: map[string]int{},
		ByProvider: []ProviderCounts{}}
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return out, nil
	}
	iid := u.IID
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
			src, err := q.source(sid)
			if err != nil {
				return nil, err
			}
			pc := prov(src.Provider)
			pc.DataPoints += n
			pc.SeriesCounts[code] += n
		}
	}
	var readErr error // a stored workout or source that cannot be read fails the summary
	err = q.store.Workouts(iid, from, to, func(ref pebblestore.WorkoutRef, v []byte) bool {
		rec, err := pebblestore.DecodeWorkout(v)
		if err != nil {
			readErr = err
			return false
		}
		typ := "unknown"
		if rec.Type != "" {
			typ = rec.Type
		}
		src, err := q.source(ref.SID)
		if err != nil {
			readErr = err
			return false
		}
		out.TotalWorkouts++
		out.WorkoutTypeCounts[typ]++
		prov(src.Provider).WorkoutCount++
		return true
	})
	if err == nil {
		err = readErr
	}
	if err != nil {
		return nil, err
	}
	sessions, err := q.sleepSessions(iid, start, end.Add(2*24*time.Hour))
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
