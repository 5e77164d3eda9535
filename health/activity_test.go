package health

import (
	"testing"
	"time"
)

func TestMaxHeartRate(t *testing.T) {
	for _, c := range []struct {
		age   int
		known bool
		want  int
	}{
		{0, false, 190},  // no birth date
		{70, false, 190}, // the age is ignored when not known
		{0, true, 220},   // born today: the ceiling
		{30, true, 190},
		{119, true, 101},
		{120, true, 100}, // 220 − 120: exactly the floor
		{121, true, 100}, // below the floor
		{200, true, 100},
	} {
		if got := MaxHeartRate(c.age, c.known); got != c.want {
			t.Errorf("MaxHeartRate(%d, %v) = %d, want %d", c.age, c.known, got, c.want)
		}
	}
}

func TestAgeAt(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	for _, c := range []struct {
		birth, at string
		want      int
		ok        bool
	}{
		{"1990-06-15", "2026-06-14", 35, true}, // the day before the birthday
		{"1990-06-15", "2026-06-15", 36, true}, // the birthday
		{"1990-06-15", "2026-05-31", 35, true}, // an earlier month
		{"1990-06-15", "2026-07-01", 36, true}, // a later month
		{"2000-02-29", "2026-02-28", 25, true}, // a leap-day birth before 1 March
		{"2000-02-29", "2026-03-01", 26, true},
		{"2026-06-15", "2026-06-15", 0, true},  // born that day
		{"2026-06-16", "2026-06-15", 0, false}, // born after
	} {
		got, ok := AgeAt(d(c.birth), d(c.at))
		if got != c.want || ok != c.ok {
			t.Errorf("AgeAt(%s, %s) = %d, %v; want %d, %v", c.birth, c.at, got, ok, c.want, c.ok)
		}
	}
}

func TestZonesFor(t *testing.T) {
	for _, c := range []struct {
		maxHR int
		want  HeartRateZones
	}{
		{190, HeartRateZones{95, 119, 144}},
		{220, HeartRateZones{110, 138, 167}},
		{199, HeartRateZones{99, 125, 151}}, // 99.5, 125.37, 151.24 rounded down
		{100, HeartRateZones{50, 63, 76}},
		{40, HeartRateZones{50, 63, 76}}, // below the floor of 100
		{0, HeartRateZones{50, 63, 76}},
	} {
		if got := ZonesFor(c.maxHR); got != c.want {
			t.Errorf("ZonesFor(%d) = %+v, want %+v", c.maxHR, got, c.want)
		}
	}
}

func TestZoneOf(t *testing.T) {
	z := ZonesFor(190) // light 95-119, moderate above 119 to 144, vigorous above 144
	for _, c := range []struct {
		bpm  float64
		want Intensity
	}{
		{0, IntensityNone},
		{94, IntensityNone},
		{94.99, IntensityNone},
		{95, IntensityLight}, // the lower bound of light is in light
		{119, IntensityLight},
		{119.5, IntensityModerate}, // the upper bounds belong to the zone below
		{120, IntensityModerate},
		{144, IntensityModerate},
		{144.01, IntensityVigorous},
		{145, IntensityVigorous},
		{250, IntensityVigorous},
	} {
		if got := z.Of(c.bpm); got != c.want {
			t.Errorf("Of(%v) = %d, want %d", c.bpm, got, c.want)
		}
	}
}

func TestIsActiveMinute(t *testing.T) {
	for _, c := range []struct {
		steps float64
		want  bool
	}{
		{0, false},
		{29, false},
		{29.999, false},
		{30 - 1e-10, true}, // 30 less a rounding error of the spreading
		{30, true},
		{31, true},
		{1000, true},
	} {
		if got := IsActiveMinute(c.steps); got != c.want {
			t.Errorf("IsActiveMinute(%v) = %v, want %v", c.steps, got, c.want)
		}
	}
}
