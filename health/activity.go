package health

// Activity rules of the daily summaries (fact sheet §5.3): the maximum
// heart rate, the heart-rate intensity zones that follow from it, and the
// step count that makes a minute active.

const (
	// DefaultMaxHeartRate is the maximum heart rate, in bpm, of a user
	// whose age is not known: every user here, as Open Wearables' SDK
	// users (its ages come from cloud providers' personal records).
	DefaultMaxHeartRate = 190
	// MinMaxHeartRate is the lowest maximum heart rate, in bpm, the zones
	// are ever computed from.
	MinMaxHeartRate = 100
)

// Intensity is the heart-rate zone of a minute.
type Intensity uint8

// The intensity zones, from none (below light) to vigorous.
const (
	IntensityNone Intensity = iota
	IntensityLight
	IntensityModerate
	IntensityVigorous
)

// HeartRateZones are the bounds in whole bpm of the intensity zones: light
// is [LightFrom, LightTo], moderate (LightTo, ModerateTo], vigorous above
// ModerateTo.
type HeartRateZones struct {
	LightFrom, LightTo, ModerateTo float64
}

// ZonesFor are the zones of a maximum heart rate: 50 %, 63 % and 76 % of
// it, each rounded down to a whole bpm. A maximum below MinMaxHeartRate is
// taken as MinMaxHeartRate.
func ZonesFor(maxHR int) HeartRateZones {
	maxHR = max(maxHR, MinMaxHeartRate)
	return HeartRateZones{
		LightFrom: float64(maxHR * 50 / 100), LightTo: float64(maxHR * 63 / 100), ModerateTo: float64(maxHR * 76 / 100),
	}
}

// Of is the zone of a minute's average heart rate.
func (z HeartRateZones) Of(bpm float64) Intensity {
	switch {
	case bpm > z.ModerateTo:
		return IntensityVigorous
	case bpm > z.LightTo:
		return IntensityModerate
	case bpm >= z.LightFrom:
		return IntensityLight
	}
	return IntensityNone
}

// ActiveStepsPerMinute is the step count from which a minute is active.
const ActiveStepsPerMinute = 30

// IsActiveMinute reports whether a minute with a step count is active: at
// least ActiveStepsPerMinute steps, allowing for the rounding of a count
// that was spread over the minutes of a longer sample.
func IsActiveMinute(steps float64) bool { return steps >= ActiveStepsPerMinute-1e-9 }
