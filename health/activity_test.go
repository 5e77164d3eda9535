package health

import "testing"

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
