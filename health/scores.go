package health

// Health scores: Open Wearables' own sleep score and resilience score, the
// two it computes from SDK data (provider "internal"). Both are pure
// functions of plain inputs; query gathers the inputs at read time.
//
// Sleep score (0 to 100), per night: four pillars, each scored 0 to 100 and
// truncated to a whole number, then weighted 40/20/20/20 and truncated again.
//
//   - Duration, from the night's total sleep in hours: 100 from 7 to 9 hours
//     inclusive. Below 7 a rising sigmoid (slope 1.5, midpoint 5 h) scaled so
//     that it is exactly 100 at 7 h; above 9 a falling sigmoid (slope 0.8,
//     midpoint 11 h), exactly 100 at 9 h, never below 50.
//   - Stages: deep and rem each score their minutes / 90 × 100 (100 from 90
//     minutes on, 0 at none), and the pillar is their average.
//   - Consistency: the bedtime's clock time against the median clock time of
//     the previous nights' bedtimes, both on an axis of hours past noon (so
//     that 23:30 and 00:30 are one hour apart). Within 15 minutes: 100. Later
//     than that loses 100 points per 105 minutes; earlier loses at the same
//     rate but at most 20 points. No previous night: 0.
//   - Interruptions: 80 points for time awake after falling asleep, less
//     80 per 70 minutes past a 20-minute grace (never below 0), plus 20
//     points times 1, 1, 0.75, 0.5 or 0 for 0, 1, 2, 3 or 4 and more
//     awakenings longer than 5 minutes.
//
// A night with no sleep, or more than 24 hours of it, has no score.
//
// Resilience score, per day: the coefficient of variation (sample standard
// deviation / mean) of the nightly HRV averages of the 7 days before it,
// computed when at least 5 of them have data; a CV of 7 % or less scores 100,
// 40 % or more scores 0, linearly between, rounded half to even.
//
// Open Wearables evaluates these formulas in Python floats; the functions
// here evaluate them in the same order, and every product that is then
// added is rounded on its own (an explicit float64 conversion), so that a
// fused multiply-add cannot move a result across a truncation.

import (
	"math"
	"slices"
	"time"
)

// The sleep score's parameters, Open Wearables' defaults.
const (
	sleepDurationWeight      = 0.40
	sleepStagesWeight        = 0.20
	sleepConsistencyWeight   = 0.20
	sleepInterruptionsWeight = 0.20

	sleepOptimalMinHours = 7.0
	sleepOptimalMaxHours = 9.0
	undersleepSlope      = 1.5
	undersleepMidpoint   = 5.0
	oversleepSlope       = 0.8
	oversleepMidpoint    = 11.0

	deepTargetMinutes = 90.0
	remTargetMinutes  = 90.0
	deepWeight        = 0.5
	remWeight         = 0.5

	bedtimeGraceMinutes       = 15.0
	lateBedtimeWindowMinutes  = 105.0
	earlyBedtimeWindowMinutes = 105.0
	earlyBedtimeMaxPenalty    = 20.0

	wakeDurationPoints      = 80.0
	wakeFrequencyPoints     = 20.0
	wakeGraceMinutes        = 20.0
	wakePenaltyWindow       = 70.0
	significantWakeMinutes  = 5.0
	maxSleepMinutesPerNight = 24 * 60

	// maxExp bounds the exponent of the duration sigmoid, below where
	// exp overflows.
	maxExp = 709.0
)

// wakeFrequencyFractions is the share of the frequency points kept for 0,
// 1, 2, 3 and 4 or more significant awakenings.
var wakeFrequencyFractions = [...]float64{1.0, 1.0, 0.75, 0.5, 0.0}

// SleepConsistencyNights is how many previous nights the bedtime
// consistency compares against.
const SleepConsistencyNights = 14

// SleepNight is what the sleep score of one night reads.
type SleepNight struct {
	// TotalSleepMinutes is the night's sleep (sleeping, light, deep and
	// rem), in whole minutes as Open Wearables stores it.
	TotalSleepMinutes float64
	// DeepMinutes and RemMinutes are the whole minutes of those stages.
	DeepMinutes, RemMinutes float64
	// Stages are the night's cleaned stages in time order (Session.Stages);
	// the interruptions are read from them.
	Stages []SleepInterval
	// AwakeMinutes is the time awake, used (with no awakenings) only when
	// Stages is empty.
	AwakeMinutes float64
	// Bedtime is the start of the night in its local zone: only its clock
	// time counts.
	Bedtime time.Time
	// PreviousBedtimes are the local starts of the previous nights (see
	// PreviousBedtimes); empty scores consistency 0.
	PreviousBedtimes []time.Time
}

// SleepScore is the score of one night and its four pillars, each 0 to
// 100.
type SleepScore struct {
	Overall       int
	Duration      int
	Stages        int
	Consistency   int
	Interruptions int
}

// ScoreSleep scores one night. ok is false for a night with no sleep or
// more than 24 hours of it, which Open Wearables does not score.
func ScoreSleep(n *SleepNight) (s SleepScore, ok bool) {
	if !(n.TotalSleepMinutes > 0) || n.TotalSleepMinutes > maxSleepMinutesPerNight {
		return SleepScore{}, false
	}
	awake, awakenings := n.AwakeMinutes, []float64(nil)
	if len(n.Stages) > 0 {
		awake, awakenings = wakeAfterSleepOnset(n.Stages)
	}
	s = SleepScore{
		Duration:      durationScore(n.TotalSleepMinutes / 60.0),
		Stages:        stagesScore(n.DeepMinutes, n.RemMinutes),
		Consistency:   consistencyScore(n.PreviousBedtimes, n.Bedtime),
		Interruptions: interruptionsScore(awake, awakenings),
	}
	weighted := float64(float64(s.Duration)/100*sleepDurationWeight) +
		float64(float64(s.Stages)/100*sleepStagesWeight) +
		float64(float64(s.Consistency)/100*sleepConsistencyWeight) +
		float64(float64(s.Interruptions)/100*sleepInterruptionsWeight)
	s.Overall = clampScore(int(100 * weighted))
	return s, true
}

// durationScore scores hours of sleep.
func durationScore(hours float64) int {
	switch {
	case hours >= sleepOptimalMinHours && hours <= sleepOptimalMaxHours:
		return 100
	case hours < sleepOptimalMinHours:
		return clampScore(int(anchoredSigmoid(hours, -undersleepSlope, undersleepMidpoint, sleepOptimalMinHours)))
	}
	return max(50, min(100, int(anchoredSigmoid(hours, oversleepSlope, oversleepMidpoint, sleepOptimalMaxHours))))
}

// anchoredSigmoid is a logistic curve of slope k around midpoint, scaled to
// be exactly 100 at anchor: rising for a negative k, falling for a positive
// one.
func anchoredSigmoid(x, k, midpoint, anchor float64) float64 {
	num := 1 + math.Exp(min(maxExp, k*(anchor-midpoint)))
	den := 1 + math.Exp(min(maxExp, k*(x-midpoint)))
	return 100 * num / den
}

// stageScore scores minutes of one stage against its target.
func stageScore(minutes, target float64) int {
	switch {
	case minutes >= target:
		return 100
	case minutes <= 0:
		return 0
	}
	return int(minutes / target * 100)
}

// stagesScore combines the deep and rem scores.
func stagesScore(deep, rem float64) int {
	total := float64(float64(stageScore(deep, deepTargetMinutes))*deepWeight) +
		float64(float64(stageScore(rem, remTargetMinutes))*remWeight)
	return clampScore(int(total))
}

// hoursPastNoon places a clock time on an axis that starts at noon, so that
// the evening and the small hours are one continuous range.
func hoursPastNoon(t time.Time) float64 {
	h, m, s := t.Clock()
	hours := float64(h) + float64(m)/60.0 + float64(s)/3600.0
	if hours < 12 {
		hours += 24
	}
	return hours - 12
}

// consistencyScore scores a bedtime against the median of the previous
// ones.
func consistencyScore(previous []time.Time, tonight time.Time) int {
	if len(previous) == 0 {
		return 0
	}
	hours := make([]float64, len(previous))
	for i, t := range previous {
		hours[i] = hoursPastNoon(t)
	}
	slices.Sort(hours)
	median := hours[len(hours)/2]
	if len(hours)%2 == 0 {
		median = (hours[len(hours)/2-1] + median) / 2
	}
	diff := (hoursPastNoon(tonight) - median) * 60
	penalty := 0.0
	switch {
	case diff > bedtimeGraceMinutes:
		penalty = (diff - bedtimeGraceMinutes) / lateBedtimeWindowMinutes * 100
	case diff < -bedtimeGraceMinutes:
		penalty = min(earlyBedtimeMaxPenalty, (math.Abs(diff)-bedtimeGraceMinutes)/earlyBedtimeWindowMinutes*100)
	}
	return max(0, int(100-penalty))
}

// wakeAfterSleepOnset reads the awake stages between the first and the last
// stage that is not awake: their total minutes and each one's minutes.
// Awake time before falling asleep and after the final wake-up is not
// counted; adjacent awake stages count as separate awakenings, as Open
// Wearables counts them.
func wakeAfterSleepOnset(stages []SleepInterval) (total float64, awakenings []float64) {
	first, last := -1, -1
	for i := range stages {
		if stages[i].Stage != StageAwake {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	for i := first + 1; first >= 0 && i < last; i++ {
		if stages[i].Stage == StageAwake {
			m := stages[i].End.Sub(stages[i].Start).Seconds() / 60.0
			total += m
			awakenings = append(awakenings, m)
		}
	}
	return total, awakenings
}

// interruptionsScore scores the time awake after falling asleep and the
// number of awakenings longer than significantWakeMinutes.
func interruptionsScore(awakeMinutes float64, awakenings []float64) int {
	duration := wakeDurationPoints
	if awakeMinutes > wakeGraceMinutes {
		penalty := float64((awakeMinutes - wakeGraceMinutes) / wakePenaltyWindow * wakeDurationPoints)
		duration = max(0, wakeDurationPoints-penalty)
	}
	n := 0
	for _, d := range awakenings {
		if d > significantWakeMinutes {
			n++
		}
	}
	frequency := float64(wakeFrequencyPoints * wakeFrequencyFractions[min(n, len(wakeFrequencyFractions)-1)])
	return clampScore(int(duration + frequency))
}

func clampScore(v int) int { return max(0, min(100, v)) }

// PreviousBedtimes picks the bedtimes the consistency of a night compares
// against, as Open Wearables picks them. bedtimes are the local starts of
// the user's sessions (the night's own may be among them), in order of
// their start instants. Taken by local start date, newest first: only
// dates before the night's own and at most 15 days before it, one bedtime
// per date (of that date's sessions, the latest to start), at most
// SleepConsistencyNights of them.
func PreviousBedtimes(bedtimes []time.Time, tonight time.Time) []time.Time {
	night := localDate(tonight)
	cutoff := night.AddDate(0, 0, -(SleepConsistencyNights + 1))
	byDate := slices.Clone(bedtimes)
	slices.SortStableFunc(byDate, func(a, b time.Time) int { return localDate(a).Compare(localDate(b)) })
	var out []time.Time
	var last time.Time // the date taken last
	for i := len(byDate) - 1; i >= 0 && len(out) < SleepConsistencyNights; i-- {
		d := localDate(byDate[i])
		if !d.Before(night) || len(out) > 0 && d.Equal(last) {
			continue
		}
		if d.Before(cutoff) {
			break
		}
		last = d
		out = append(out, byDate[i])
	}
	return out
}

// localDate is the date of a time as written in its own zone, at midnight
// UTC.
func localDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// The resilience score's parameters, Open Wearables' defaults.
const (
	// ResilienceLookbackDays is the window before a day whose nightly HRV
	// its resilience score reads.
	ResilienceLookbackDays = 7
	// resilienceMinDays is how many days of the window must have HRV.
	resilienceMinDays = 5
	cvCeilingPercent  = 7.0
	cvFloorPercent    = 40.0
)

// Resilience is the resilience of one day.
type Resilience struct {
	// CV is the coefficient of variation of the nightly HRV averages, a
	// fraction (0.123 is 12.3 %), not rounded.
	CV float64
	// Score is CV mapped to 0 to 100.
	Score int
	// DaysCounted is how many days of the window had HRV.
	DaysCounted int
}

// ScoreResilience computes the resilience of a day from the average
// overnight HRV (ms) of each day of its lookback window that has any, at
// most ResilienceLookbackDays values. ok is false with fewer than 5 days,
// or fewer than two positive averages, where Open Wearables has no score.
func ScoreResilience(nightly []float64) (r Resilience, ok bool) {
	r.DaysCounted = len(nightly)
	if r.DaysCounted < resilienceMinDays {
		return r, false
	}
	var valid []float64
	for _, v := range nightly {
		if v > 0 && !math.IsInf(v, 0) {
			valid = append(valid, v)
		}
	}
	if len(valid) < 2 {
		return r, false
	}
	var sum float64
	for _, v := range valid {
		sum += v
	}
	mean := sum / float64(len(valid))
	var sq float64
	for _, v := range valid {
		sq += float64((v - mean) * (v - mean))
	}
	r.CV = math.Sqrt(sq/float64(len(valid)-1)) / mean
	r.Score = resilienceScore(r.CV)
	return r, true
}

// resilienceScore maps a coefficient of variation (a fraction) to 0 to 100.
func resilienceScore(cv float64) int {
	pct := cv * 100
	switch {
	case pct <= cvCeilingPercent:
		return 100
	case pct >= cvFloorPercent:
		return 0
	}
	return clampScore(int(math.RoundToEven(100 * (cvFloorPercent - pct) / (cvFloorPercent - cvCeilingPercent))))
}
