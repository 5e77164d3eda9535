package health

import "time"

// Vital-sign rules of the summaries: the scale of oxygen saturation and the
// pairing of blood-pressure values into readings.

// SpO2Percent reads an oxygen saturation as a percent. HealthKit sends a
// fraction of 1, which is stored as sent: a value of at most 1 is a
// fraction, anything above a percent.
func SpO2Percent(v float64) float64 {
	if v <= 1 {
		return v * 100
	}
	return v
}

// BloodPressureMaxApart is how far apart in time a systolic and a
// diastolic value may be and still form one reading.
const BloodPressureMaxApart = 5 * time.Second

// TimedValue is a value at a time in Unix µs.
type TimedValue struct {
	T int64
	V float64
}

// BloodPressureReading is a systolic and a diastolic value paired.
type BloodPressureReading struct {
	At                  int64 // the later of the two times, Unix µs
	Systolic, Diastolic float64
}

// PairBloodPressure pairs the systolic and diastolic values of one data
// source, both in time order: each systolic value in turn takes the nearest
// diastolic value not yet taken that is at most BloodPressureMaxApart away
// (the earlier one on a tie). A value without a partner is no reading.
func PairBloodPressure(sys, dia []TimedValue) []BloodPressureReading {
	const maxApart = int64(BloodPressureMaxApart / time.Microsecond)
	var out []BloodPressureReading
	used := make([]bool, len(dia))
	j := 0
	for _, s := range sys {
		for j < len(dia) && dia[j].T < s.T-maxApart {
			j++
		}
		best := -1
		for k := j; k < len(dia) && dia[k].T <= s.T+maxApart; k++ {
			if used[k] {
				continue
			}
			if best < 0 || absMicros(dia[k].T-s.T) < absMicros(dia[best].T-s.T) {
				best = k
			}
		}
		if best >= 0 {
			used[best] = true
			out = append(out, BloodPressureReading{At: max(s.T, dia[best].T), Systolic: s.V, Diastolic: dia[best].V})
		}
	}
	return out
}

func absMicros(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
