package query

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// Workout is a workout in the list of GET /users/{id}/events/workouts.
type Workout struct {
	ID                  string          `json:"id"`
	Type                string          `json:"type"`
	Name                *string         `json:"name"`
	StartTime           time.Time       `json:"start_time"`
	EndTime             time.Time       `json:"end_time"`
	ZoneOffset          *string         `json:"zone_offset"`
	DurationSeconds     int64           `json:"duration_seconds"`
	Source              *SourceMetadata `json:"source"`
	CaloriesKcal        *float64        `json:"calories_kcal"`
	DistanceMeters      *float64        `json:"distance_meters"`
	AvgHeartRateBpm     *int64          `json:"avg_heart_rate_bpm"`
	MaxHeartRateBpm     *int64          `json:"max_heart_rate_bpm"`
	AvgPaceSecPerKm     *float64        `json:"avg_pace_sec_per_km"`
	ElevationGainMeters *float64        `json:"elevation_gain_meters"`
}

// WorkoutDetail is one workout with everything that was sent with it.
type WorkoutDetail struct {
	Workout
	Title      *string                   `json:"title"`
	Notes      *string                   `json:"notes"`
	SDKType    *string                   `json:"sdk_type"`
	ExternalID *string                   `json:"external_id"`
	Details    map[string]float64        `json:"details"`
	Statistics []pebblestore.WorkoutStat `json:"statistics"`
	Route      json.RawMessage           `json:"route"`
	Samples    json.RawMessage           `json:"samples"`
	Laps       json.RawMessage           `json:"laps"`
	Segments   json.RawMessage           `json:"segments"`
	Metadata   json.RawMessage           `json:"metadata"`
}

// WorkoutParams are the parameters of the workout list.
type WorkoutParams struct {
	Start, End time.Time
	RecordType string
	Cursor     string
	Limit      int
}

func workoutID(ref pebblestore.WorkoutRef) string {
	return hexID(uint64(ref.SID), uint64(ref.Start), uint64(ref.End))
}

func parseWorkoutID(id string) (pebblestore.WorkoutRef, bool) { return pebblestore.ParseWorkoutID(id) }

func nonZero(v *float64) *float64 {
	if v == nil || *v == 0 {
		return nil
	}
	return v
}

func detail(rec *pebblestore.WorkoutRecord, f string) *float64 {
	if v, ok := rec.Details[f]; ok {
		return &v
	}
	return nil
}

// workout builds the list view of a stored workout. The average heart rate
// is the statistic when sent, else the average of the heart rate series of
// the same data source during the workout.
func (q *Service) workout(iid uint32, ref pebblestore.WorkoutRef, rec *pebblestore.WorkoutRecord) (Workout, error) {
	src, err := q.source(ref.SID)
	if err != nil {
		return Workout{}, err
	}
	w := Workout{
		ID: workoutID(ref), Type: rec.Type, StartTime: fromMicro(ref.Start), EndTime: fromMicro(ref.End),
		ZoneOffset: strPtr(rec.Zone), DurationSeconds: rec.DurationSeconds, Source: src,
		CaloriesKcal: nonZero(rec.EnergyKcal), DistanceMeters: nonZero(detail(rec, health.DetailDistance)),
		ElevationGainMeters: nonZero(detail(rec, health.DetailTotalElevationGain)),
	}
	if w.Type == "" {
		w.Type = "unknown"
	}
	if v := detail(rec, health.DetailHeartRateAvg); v != nil {
		r := int64(math.Round(*v))
		w.AvgHeartRateBpm = &r
	} else if hr, ok := health.SeriesByCode("heart_rate"); ok {
		var sum float64
		n := 0
		if err := q.store.SeriesRange(iid, hr.ID, ref.Start, ref.End, func(sp *pebblestore.SourcedPoint) bool {
			if sp.SID == ref.SID {
				sum += sp.Value
				n++
			}
			return true
		}); err != nil {
			return Workout{}, err
		}
		if n > 0 {
			r := int64(math.Round(sum / float64(n)))
			w.AvgHeartRateBpm = &r
		}
	}
	if v := detail(rec, health.DetailHeartRateMax); v != nil {
		r := int64(*v)
		w.MaxHeartRateBpm = &r
	}
	return w, nil
}

// Workouts answers the workout list: workouts that start at or after Start
// and end before End, newest first; an unknown user has an empty page.
func (q *Service) Workouts(userID string, p WorkoutParams) (*Page[Workout], error) {
	page := emptyPage[Workout](p.Start, p.End)
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return page, nil
	}
	iid := u.IID
	if p.Cursor != "" {
		if _, _, err := decodeCursor(p.Cursor); err != nil {
			return nil, err // before reading anything
		}
	}
	rt := strings.ToLower(p.RecordType)
	var all []Workout
	var readErr error // a stored workout that cannot be read fails the page
	err = q.store.Workouts(iid, p.Start.UnixMicro(), p.End.UnixMicro(), func(ref pebblestore.WorkoutRef, v []byte) bool {
		if ref.End >= p.End.UnixMicro() {
			return true
		}
		rec, err := pebblestore.DecodeWorkout(v)
		if err != nil {
			readErr = err
			return false
		}
		if rt != "" && !strings.Contains(strings.ToLower(rec.Type), rt) {
			return true
		}
		w, err := q.workout(iid, ref, rec)
		if err != nil {
			readErr = err
			return false
		}
		all = append(all, w)
		return true
	})
	if err == nil {
		err = readErr
	}
	if err != nil {
		return nil, err
	}
	// Newest first: start descending, then id descending.
	sort.Slice(all, func(i, j int) bool {
		if !all[i].StartTime.Equal(all[j].StartTime) {
			return all[i].StartTime.After(all[j].StartTime)
		}
		return all[i].ID > all[j].ID
	})
	if err := pageNewestFirst(page, all, p.Cursor, p.Limit, func(w *Workout) (time.Time, string) { return w.StartTime, w.ID }); err != nil {
		return nil, err
	}
	return page, nil
}

// storedWorkout reads a user's workout by its id, with the user's internal
// id and the workout's key: ErrNotFound for an unknown user, a malformed id
// or no such workout.
func (q *Service) storedWorkout(userID, id string) (uint32, pebblestore.WorkoutRef, *pebblestore.WorkoutRecord, error) {
	u, ok, err := q.lookup(userID)
	if err != nil {
		return 0, pebblestore.WorkoutRef{}, nil, err
	}
	ref, valid := parseWorkoutID(id)
	if !ok || !valid {
		return 0, pebblestore.WorkoutRef{}, nil, ErrNotFound
	}
	v, err := q.store.WorkoutPart(u.IID, ref, pebblestore.PartWorkout)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return 0, pebblestore.WorkoutRef{}, nil, ErrNotFound
	} else if err != nil {
		return 0, pebblestore.WorkoutRef{}, nil, err
	}
	rec, err := pebblestore.DecodeWorkout(v)
	if err != nil {
		return 0, pebblestore.WorkoutRef{}, nil, err
	}
	return u.IID, ref, rec, nil
}

// WorkoutByID answers GET /users/{id}/events/workouts/{workout_id}:
// ErrNotFound for an unknown user or workout.
func (q *Service) WorkoutByID(userID, id string) (*WorkoutDetail, error) {
	iid, ref, rec, err := q.storedWorkout(userID, id)
	if err != nil {
		return nil, err
	}
	w, err := q.workout(iid, ref, rec)
	if err != nil {
		return nil, err
	}
	d := &WorkoutDetail{
		Workout: w, Title: strPtr(rec.Title), Notes: strPtr(rec.Notes),
		SDKType: strPtr(rec.SDKType), ExternalID: strPtr(rec.ExtID), Details: rec.Details,
		Statistics: rec.Statistics, Metadata: rec.Metadata,
	}
	if d.Statistics == nil {
		d.Statistics = []pebblestore.WorkoutStat{}
	}
	if d.Details == nil {
		d.Details = map[string]float64{}
	}
	if health.WorkoutHasPace(rec.Type) {
		if dist := detail(rec, health.DetailDistance); dist != nil && *dist > 0 && rec.DurationSeconds > 0 {
			pace := math.Round(float64(rec.DurationSeconds)/(*dist/1000)*100) / 100
			d.AvgPaceSecPerKm = &pace
		}
	}
	for part, dst := range map[byte]*json.RawMessage{
		pebblestore.PartRoute: &d.Route, pebblestore.PartSamples: &d.Samples,
		pebblestore.PartLaps: &d.Laps, pebblestore.PartSegments: &d.Segments,
	} {
		b, err := q.store.WorkoutPart(iid, ref, part)
		if errors.Is(err, pebblestore.ErrNotFound) {
			b = json.RawMessage("[]")
		} else if err != nil {
			return nil, err
		}
		*dst = b
	}
	if d.Metadata == nil {
		d.Metadata = json.RawMessage("null")
	}
	return d, nil
}
