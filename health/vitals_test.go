package health

import (
	"slices"
	"testing"
)

func TestSpO2Percent(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0.97, 97}, // a HealthKit fraction
		{1, 100},   // 1 is a fraction: 100 %
		{0, 0},     // no saturation either way
		{0.5, 50},  // a fraction however low
		{1.5, 1.5}, // above 1: a percent, as sent
		{96, 96},   // a percent
		{100, 100}, // a percent
	} {
		if got := SpO2Percent(c.in); got != c.want {
			t.Errorf("SpO2Percent(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestPairBloodPressure(t *testing.T) {
	const s = int64(1_000_000)
	type tv = TimedValue
	type r = BloodPressureReading
	for _, c := range []struct {
		name     string
		sys, dia []TimedValue
		want     []BloodPressureReading
	}{
		{"no data", nil, nil, nil},
		{"no diastolic", []tv{{0, 120}}, nil, nil},
		{"no systolic", nil, []tv{{0, 80}}, nil},
		{"same time", []tv{{0, 120}}, []tv{{0, 80}}, []r{{0, 120, 80}}},
		{"5 s after: paired", []tv{{0, 120}}, []tv{{5 * s, 80}}, []r{{5 * s, 120, 80}}},
		{"5 s before: paired", []tv{{5 * s, 120}}, []tv{{0, 80}}, []r{{5 * s, 120, 80}}},
		{"just over 5 s after", []tv{{0, 120}}, []tv{{5*s + 1, 80}}, nil},
		{"just over 5 s before", []tv{{5*s + 1, 120}}, []tv{{0, 80}}, nil},
		{"the nearest wins", []tv{{10 * s, 120}}, []tv{{6 * s, 70}, {9 * s, 80}, {14 * s, 90}}, []r{{10 * s, 120, 80}}},
		{"a tie goes to the earlier", []tv{{10 * s, 120}}, []tv{{8 * s, 70}, {12 * s, 80}}, []r{{10 * s, 120, 70}}},
		{
			"each diastolic once",
			[]tv{{0, 120}, {1 * s, 125}, {2 * s, 130}},
			[]tv{{1 * s, 80}, {3 * s, 85}},
			[]r{{1 * s, 120, 80}, {3 * s, 125, 85}},
		},
		{
			"the first systolic takes its nearest even when the next is nearer",
			[]tv{{0, 120}, {4 * s, 130}},
			[]tv{{4 * s, 80}},
			[]r{{4 * s, 120, 80}},
		},
		{
			"the fixture of the summaries",
			[]tv{{0, 120}, {10 * s, 130}, {100 * s, 140}},
			[]tv{{4 * s, 80}, {6 * s, 85}, {200 * s, 90}},
			[]r{{4 * s, 120, 80}, {10 * s, 130, 85}},
		},
	} {
		if got := PairBloodPressure(c.sys, c.dia); !slices.Equal(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
