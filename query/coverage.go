package query

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"wearhouse/health"
)

// Coverage is the answer of GET /meta/coverage: what the data of each
// provider's SDK feeds, in Open Wearables' shape.
type Coverage struct {
	Providers            []string           `json:"providers"`
	Timeseries           []CoverageCategory `json:"timeseries"`
	WorkoutFields        []CoverageField    `json:"workout_fields"`
	SleepFields          []CoverageField    `json:"sleep_fields"`
	MenstrualCycleFields []CoverageField    `json:"menstrual_cycle_fields"`
	HealthScores         []CoverageField    `json:"health_scores"`
}

// CoverageCategory is one series category with the series fed in it.
type CoverageCategory struct {
	Name    string           `json:"name"`
	Metrics []CoverageMetric `json:"metrics"`
}

// CoverageMetric is one series and the providers whose data feed it.
type CoverageMetric struct {
	Code      string   `json:"code"`
	Unit      string   `json:"unit"`
	Providers []string `json:"providers"`
}

// CoverageField is a field of an event record and the providers whose data
// fill it.
type CoverageField struct {
	Code      string   `json:"code"`
	Providers []string `json:"providers"`
}

// coverageProviders are the SDK providers, in name order.
var coverageProviders = slices.Sorted(slices.Values(health.Providers()))

// sleepFields are the fields of a sleep session built from stages. Every
// provider sends stages, and every field is built from them alone.
var sleepFields = []string{
	"is_nap", "sleep_awake_minutes", "sleep_deep_minutes", "sleep_efficiency_score", "sleep_light_minutes",
	"sleep_rem_minutes", "sleep_stages", "sleep_time_in_bed_minutes", "sleep_total_duration_minutes",
}

// categoryOrder is the order of the series categories in the answer.
var categoryOrder = []string{
	health.CategoryHeartCardiovascular, health.CategoryBloodRespiratory, health.CategoryBodyComposition,
	health.CategoryFitnessMetrics, health.CategoryActivityBasic, health.CategoryActivityDistance,
	health.CategoryActivityWalking, health.CategoryActivityRunning, health.CategoryActivitySwimming,
	health.CategoryActivityGeneric, health.CategoryEnvironmental, health.CategoryProviderSpecific,
	health.CategoryOther,
}

// CoverageMatrix returns the coverage, computed once from the health tables:
//   - a series is fed by apple when a HealthKit type (HK…) maps to it, by
//     samsung and google when an Android type does, as Open Wearables
//     splits its metric table;
//   - a series that a workout statistic feeds, and every workout detail
//     field, is fed by all three: any provider may send any statistic;
//   - sleep fields come from stages, which every provider sends;
//   - no SDK data makes menstrual cycles or health scores.
//
// Categories follow the id ranges; series within one, and fields, are in
// code order. The value is shared: callers must not change it.
var CoverageMatrix = sync.OnceValue(buildCoverage)

func buildCoverage() *Coverage {
	fed := map[string]map[string]bool{}
	feed := func(series string, providers ...string) {
		if fed[series] == nil {
			fed[series] = map[string]bool{}
		}
		for _, p := range providers {
			fed[series][p] = true
		}
	}
	for _, m := range health.AllMetrics() {
		if strings.HasPrefix(m.Type, "HK") {
			feed(m.Series, "apple")
		} else {
			feed(m.Series, "google", "samsung")
		}
	}
	fields := map[string]bool{}
	for _, st := range health.AllWorkoutStatistics() {
		switch t := health.WorkoutStatistic(st); t.Kind {
		case health.StatSeries:
			feed(t.Series, coverageProviders...)
		case health.StatDetail:
			fields[t.Field] = true
		case health.StatEnergy:
			fields["energy_burned"] = true
		}
	}

	c := &Coverage{Providers: coverageProviders, MenstrualCycleFields: []CoverageField{}, HealthScores: []CoverageField{}}
	byCategory := map[string][]CoverageMetric{}
	for _, s := range health.AllSeries() {
		ps := fed[s.Code]
		if len(ps) == 0 {
			continue
		}
		m := CoverageMetric{Code: s.Code, Unit: s.Unit}
		for _, p := range coverageProviders {
			if ps[p] {
				m.Providers = append(m.Providers, p)
			}
		}
		byCategory[s.Category] = append(byCategory[s.Category], m)
	}
	for _, name := range categoryOrder {
		ms := byCategory[name]
		if len(ms) == 0 {
			continue
		}
		slices.SortFunc(ms, func(a, b CoverageMetric) int { return strings.Compare(a.Code, b.Code) })
		c.Timeseries = append(c.Timeseries, CoverageCategory{Name: name, Metrics: ms})
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		c.WorkoutFields = append(c.WorkoutFields, CoverageField{Code: f, Providers: coverageProviders})
	}
	for _, f := range sleepFields {
		c.SleepFields = append(c.SleepFields, CoverageField{Code: f, Providers: coverageProviders})
	}
	return c
}
