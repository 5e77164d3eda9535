package query

// Body summary: the latest slow-changing values, the averages of the last
// days and the latest vitals of a window, blood pressure paired.

import (
	"math"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

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
	b, err := q.best(sids)
	if err != nil {
		return nil, err
	}
	for i := range pts {
		if pts[i].SID == b {
			return &pts[i], nil
		}
	}
	return nil, nil
}

// BodySummary answers GET /users/{id}/summaries/body; nil when the user has
// none of its values, or is unknown.
func (q *Service) BodySummary(userID string, p BodyParams) (*BodySummary, error) {
	u, ok, err := q.lookup(userID)
	if err != nil || !ok {
		return nil, err
	}
	iid := u.IID
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
		src, err := q.source(newest.SID)
		if err != nil {
			return nil, err
		}
		b.Source = src
	}
	sc := &b.SlowChanging
	if sc.BMI == nil && sc.WeightKg != nil && sc.HeightCm != nil && *sc.HeightCm > 0 {
		m := *sc.HeightCm / 100
		sc.BMI = valPtr(roundTo(*sc.WeightKg/(m*m), 1))
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
