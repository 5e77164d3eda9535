package query

import (
	"slices"
	"strings"
	"testing"

	"wearhouse/health"
)

func TestCoverageMatrix(t *testing.T) {
	c := CoverageMatrix()
	if !slices.Equal(c.Providers, []string{"apple", "google", "samsung"}) {
		t.Errorf("providers %v", c.Providers)
	}
	got := map[string]string{}
	for _, cat := range c.Timeseries {
		for i, m := range cat.Metrics {
			s, ok := health.SeriesByCode(m.Code)
			if !ok || s.Category != cat.Name || s.Unit != m.Unit {
				t.Errorf("%s in %q: series %+v", m.Code, cat.Name, s)
			}
			if _, dup := got[m.Code]; dup {
				t.Errorf("%s listed twice", m.Code)
			}
			if i > 0 && cat.Metrics[i-1].Code >= m.Code {
				t.Errorf("%s: metrics not in code order", cat.Name)
			}
			got[m.Code] = strings.Join(m.Providers, ",")
		}
	}
	for code, want := range map[string]string{
		"heart_rate":                   "apple,google,samsung",
		"heart_rate_variability_sdnn":  "apple",
		"heart_rate_variability_rmssd": "google,samsung",
		"walking_step_length":          "apple",
		"hydration":                    "google,samsung",
		// Fed by workout statistics, which any provider sends.
		"running_stride_length": "apple,google,samsung",
		"average_met":           "apple,google,samsung",
		// Nothing of the SDKs feeds it.
		"garmin_body_battery": "",
	} {
		if got[code] != want {
			t.Errorf("%s fed by %q, want %q", code, got[code], want)
		}
	}
	// Every series a metric type or a statistic maps to is listed.
	for _, m := range health.AllMetrics() {
		if got[m.Series] == "" {
			t.Errorf("%s (from %s) not listed", m.Series, m.Type)
		}
	}
	// Every category of the series table has its place in the order.
	for _, s := range health.AllSeries() {
		if !slices.Contains(categoryOrder, s.Category) {
			t.Errorf("category %q of %s has no place", s.Category, s.Code)
		}
	}
	var fields []string
	for _, f := range c.WorkoutFields {
		fields = append(fields, f.Code)
	}
	if !slices.IsSorted(fields) || !slices.Contains(fields, "energy_burned") || !slices.Contains(fields, "heart_rate_avg") ||
		slices.Contains(fields, "cadence") {
		t.Errorf("workout fields %v", fields)
	}
	if len(c.SleepFields) == 0 || c.MenstrualCycleFields == nil || c.HealthScores == nil {
		t.Errorf("sleep %v, menstrual %v, scores %v", c.SleepFields, c.MenstrualCycleFields, c.HealthScores)
	}
}
