package health

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// The Health app's export (export.xml) writes each value in the unit the
// phone displays (lb, mi, degF, mmol/L...) and names things as HealthKit
// does. The tables below turn them into what the iOS SDK sends for the same
// sample, so that an imported sample and a synced one are stored alike.

// unitDim is the physical dimension of an export unit; conversions are only
// between units of one dimension.
type unitDim uint8

const (
	dimCount unitDim = iota + 1
	dimRate          // count per minute
	dimLength
	dimMass
	dimEnergy
	dimTime
	dimSpeed
	dimVolume
	dimFlow
	dimGlucose
	dimPercent
	dimPower
	dimPressure
	dimTemperature
	dimVO2
	dimMET
	dimSound
	dimIU
	dimConductance
	dimEffort
)

// exportUnits lists the unit strings of the export (HKUnit's unitString)
// and the SDK's own spellings, each with its dimension and its size in the
// dimension's first unit, as an exact decimal or a fraction. Temperatures
// are affine and converted apart (degF, K).
var exportUnits = []struct {
	Unit   string
	Dim    unitDim
	Factor string
}{
	{"count", dimCount, "1"},
	{"count/min", dimRate, "1"},
	{"bpm", dimRate, "1"},
	{"breaths/min", dimRate, "1"},
	{"count/s", dimRate, "60"},
	{"m", dimLength, "1"},
	{"cm", dimLength, "0.01"},
	{"mm", dimLength, "0.001"},
	{"km", dimLength, "1000"},
	{"in", dimLength, "0.0254"},
	{"ft", dimLength, "0.3048"},
	{"yd", dimLength, "0.9144"},
	{"mi", dimLength, "1609.344"},
	{"kg", dimMass, "1"},
	{"g", dimMass, "0.001"},
	{"mg", dimMass, "0.000001"},
	{"mcg", dimMass, "0.000000001"},
	{"lb", dimMass, "0.45359237"},
	{"oz", dimMass, "0.028349523125"},
	{"st", dimMass, "6.35029318"},
	{"kcal", dimEnergy, "1"},
	{"Cal", dimEnergy, "1"}, // the food calorie, a kilocalorie
	{"cal", dimEnergy, "0.001"},
	{"kJ", dimEnergy, "1000/4184"},
	{"J", dimEnergy, "1/4184"},
	{"s", dimTime, "1"},
	{"ms", dimTime, "0.001"},
	{"min", dimTime, "60"},
	{"hr", dimTime, "3600"},
	{"d", dimTime, "86400"},
	{"m/s", dimSpeed, "1"},
	{"km/hr", dimSpeed, "1000/3600"},
	{"mi/hr", dimSpeed, "0.44704"},
	{"m/hr", dimSpeed, "1/3600"},
	{"ft/s", dimSpeed, "0.3048"},
	{"L", dimVolume, "1"},
	{"mL", dimVolume, "0.001"},
	{"dL", dimVolume, "0.1"},
	{"fl_oz_us", dimVolume, "0.0295735295625"},
	{"fl_oz_imp", dimVolume, "0.0284130625"},
	{"cup_us", dimVolume, "0.2365882365"},
	{"pt_us", dimVolume, "0.473176473"},
	{"L/min", dimFlow, "1"},
	{"mg/dL", dimGlucose, "1"},
	// HealthKit writes mmol/L of glucose with its molar mass; one mmol/L
	// is M/10 mg/dL. A plain mmol/L (another writer) uses the factor the
	// sync path uses.
	{"mmol<180.15588000005408>/L", dimGlucose, "18.015588000005408"},
	{"mmol/L", dimGlucose, glucoseMgdlPerMmol},
	{"%", dimPercent, "1"},
	{"W", dimPower, "1"},
	{"mmHg", dimPressure, "1"},
	{"degC", dimTemperature, "1"},
	{"degF", dimTemperature, "5/9"}, // after adding -32
	{"K", dimTemperature, "1"},      // after adding -273.15
	{"mL/min·kg", dimVO2, "1"},
	{"mL/kg/min", dimVO2, "1"},
	{"kcal/hr·kg", dimMET, "1"},
	{"kcal/kg/hr", dimMET, "1"},
	{"dBASPL", dimSound, "1"},
	{"IU", dimIU, "1"},
	{"mcS", dimConductance, "1"},
	{"appleEffortScore", dimEffort, "1"},
}

// temperatureOffsets are added to a temperature before it is scaled.
var temperatureOffsets = map[string]string{"degF": "-32", "K": "-273.15"}

// exportTarget is what the iOS SDK sends for a record type: the unit string
// it writes (Label) and the unit of exportUnits the value is in (Unit).
type exportTarget struct {
	Label, Unit string
	// Times100: the SDK multiplies the value by 100 (SpO2, a 0-1 ratio in
	// HealthKit, sent as a percentage).
	Times100 bool
}

// exportTargetTable holds the record types of the export with the unit the
// iOS SDK sends them in (its _defaultUnit, and the units its later versions
// send for the running and cycling types), and for the types it does not
// send, the unit of the series they are stored under. Ratios in "%" stay
// 0-1 ratios as the SDK sends them (the sync path scales body fat), except
// SpO2, which the SDK sends ×100; BMI is written with the unit "count".
var exportTargetTable = []struct {
	Type   string
	Target exportTarget
}{
	{"HKQuantityTypeIdentifierStepCount", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierFlightsClimbed", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierPushCount", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierSwimmingStrokeCount", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierNumberOfTimesFallen", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierInhalerUsage", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierNumberOfAlcoholicBeverages", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierUVExposure", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierNikeFuel", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierAppleSleepingBreathingDisturbances", exportTarget{"count", "count", false}},
	{"HKQuantityTypeIdentifierDistanceWalkingRunning", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceCycling", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceSwimming", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceDownhillSnowSports", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceWheelchair", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistancePaddleSports", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceRowing", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceSkatingSports", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierDistanceCrossCountrySkiing", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierSixMinuteWalkTestDistance", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierWalkingStepLength", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierHeight", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierWaistCircumference", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierRunningStrideLength", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierUnderwaterDepth", exportTarget{"m", "m", false}},
	{"HKQuantityTypeIdentifierRunningVerticalOscillation", exportTarget{"cm", "cm", false}},
	{"HKQuantityTypeIdentifierWalkingSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierStairAscentSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierStairDescentSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierRunningSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierCyclingSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierCrossCountrySkiingSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierPaddleSportsSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierRowingSpeed", exportTarget{"m/s", "m/s", false}},
	{"HKQuantityTypeIdentifierWalkingAsymmetryPercentage", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierWalkingDoubleSupportPercentage", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierBodyFatPercentage", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierAppleWalkingSteadiness", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierBloodAlcoholContent", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierPeripheralPerfusionIndex", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierAtrialFibrillationBurden", exportTarget{"%", "%", false}},
	{"HKQuantityTypeIdentifierOxygenSaturation", exportTarget{"%", "%", true}},
	{"HKQuantityTypeIdentifierActiveEnergyBurned", exportTarget{"Cal", "kcal", false}},
	{"HKQuantityTypeIdentifierBasalEnergyBurned", exportTarget{"Cal", "kcal", false}},
	{"HKQuantityTypeIdentifierDietaryEnergyConsumed", exportTarget{"Cal", "kcal", false}},
	{"HKQuantityTypeIdentifierHeartRate", exportTarget{"bpm", "count/min", false}},
	{"HKQuantityTypeIdentifierRestingHeartRate", exportTarget{"bpm", "count/min", false}},
	{"HKQuantityTypeIdentifierWalkingHeartRateAverage", exportTarget{"bpm", "count/min", false}},
	{"HKQuantityTypeIdentifierHeartRateRecoveryOneMinute", exportTarget{"bpm", "count/min", false}},
	{"HKQuantityTypeIdentifierRespiratoryRate", exportTarget{"breaths/min", "count/min", false}},
	{"HKQuantityTypeIdentifierCyclingCadence", exportTarget{"count/min", "count/min", false}},
	{"HKQuantityTypeIdentifierHeartRateVariabilitySDNN", exportTarget{"ms", "ms", false}},
	{"HKQuantityTypeIdentifierRunningGroundContactTime", exportTarget{"ms", "ms", false}},
	{"HKQuantityTypeIdentifierAppleExerciseTime", exportTarget{"min", "min", false}},
	{"HKQuantityTypeIdentifierAppleStandTime", exportTarget{"min", "min", false}},
	{"HKQuantityTypeIdentifierAppleMoveTime", exportTarget{"min", "min", false}},
	{"HKQuantityTypeIdentifierTimeInDaylight", exportTarget{"min", "min", false}},
	{"HKQuantityTypeIdentifierVO2Max", exportTarget{"mL/kg/min", "mL/kg/min", false}},
	{"HKQuantityTypeIdentifierBodyMass", exportTarget{"kg", "kg", false}},
	{"HKQuantityTypeIdentifierLeanBodyMass", exportTarget{"kg", "kg", false}},
	{"HKQuantityTypeIdentifierBodyMassIndex", exportTarget{"kg/m²", "count", false}},
	{"HKQuantityTypeIdentifierBodyTemperature", exportTarget{"degC", "degC", false}},
	{"HKQuantityTypeIdentifierBasalBodyTemperature", exportTarget{"degC", "degC", false}},
	{"HKQuantityTypeIdentifierAppleSleepingWristTemperature", exportTarget{"degC", "degC", false}},
	{"HKQuantityTypeIdentifierWaterTemperature", exportTarget{"degC", "degC", false}},
	{"HKQuantityTypeIdentifierBloodGlucose", exportTarget{"mg/dL", "mg/dL", false}},
	{"HKQuantityTypeIdentifierInsulinDelivery", exportTarget{"IU", "IU", false}},
	{"HKQuantityTypeIdentifierBloodPressureSystolic", exportTarget{"mmHg", "mmHg", false}},
	{"HKQuantityTypeIdentifierBloodPressureDiastolic", exportTarget{"mmHg", "mmHg", false}},
	{"HKQuantityTypeIdentifierDietaryCarbohydrates", exportTarget{"g", "g", false}},
	{"HKQuantityTypeIdentifierDietaryProtein", exportTarget{"g", "g", false}},
	{"HKQuantityTypeIdentifierDietaryFatTotal", exportTarget{"g", "g", false}},
	{"HKQuantityTypeIdentifierDietaryWater", exportTarget{"L", "L", false}},
	{"HKQuantityTypeIdentifierRunningPower", exportTarget{"W", "W", false}},
	{"HKQuantityTypeIdentifierCyclingPower", exportTarget{"W", "W", false}},
	{"HKQuantityTypeIdentifierCyclingFunctionalThresholdPower", exportTarget{"W", "W", false}},
	{"HKQuantityTypeIdentifierEnvironmentalAudioExposure", exportTarget{"dBASPL", "dBASPL", false}},
	{"HKQuantityTypeIdentifierHeadphoneAudioExposure", exportTarget{"dBASPL", "dBASPL", false}},
	{"HKQuantityTypeIdentifierEnvironmentalSoundReduction", exportTarget{"dBASPL", "dBASPL", false}},
	{"HKQuantityTypeIdentifierForcedVitalCapacity", exportTarget{"L", "L", false}},
	{"HKQuantityTypeIdentifierForcedExpiratoryVolume1", exportTarget{"L", "L", false}},
	{"HKQuantityTypeIdentifierPeakExpiratoryFlowRate", exportTarget{"L/min", "L/min", false}},
	{"HKQuantityTypeIdentifierPhysicalEffort", exportTarget{"kcal/hr·kg", "kcal/hr·kg", false}},
	{"HKQuantityTypeIdentifierElectrodermalActivity", exportTarget{"mcS", "mcS", false}},
	{"HKQuantityTypeIdentifierWorkoutEffortScore", exportTarget{"appleEffortScore", "appleEffortScore", false}},
	{"HKQuantityTypeIdentifierEstimatedWorkoutEffortScore", exportTarget{"appleEffortScore", "appleEffortScore", false}},
}

// unitConv is the conversion of a value from one unit to another of its
// dimension: out = (v + offset) × factor, exactly in decimal, rounded once.
type unitConv struct {
	identity bool
	// The factor as mant × 10^exp / den when the numbers fit (fast path),
	// else rat.
	fast bool
	mant uint64
	exp  int
	den  uint64
	rat  *big.Rat
	// offset is nil unless a temperature.
	offset *big.Rat
}

type convKey struct{ from, to string }

var (
	exportTargets = indexExportTargets()
	exportConvs   = indexExportConvs()
)

func indexExportTargets() map[string]exportTarget {
	idx := make(map[string]exportTarget, len(exportTargetTable))
	for _, t := range exportTargetTable {
		idx[t.Type] = t.Target
	}
	return idx
}

func indexExportConvs() map[convKey]*unitConv {
	idx := map[convKey]*unitConv{}
	for _, from := range exportUnits {
		for _, to := range exportUnits {
			if from.Dim != to.Dim {
				continue
			}
			if from.Dim == dimTemperature && to.Unit != "degC" {
				continue // temperatures convert to degC only
			}
			ff, _ := new(big.Rat).SetString(from.Factor)
			tf, _ := new(big.Rat).SetString(to.Factor)
			idx[convKey{from.Unit, to.Unit}] = newUnitConv(new(big.Rat).Quo(ff, tf), temperatureOffsets[from.Unit])
		}
	}
	return idx
}

func newUnitConv(r *big.Rat, offset string) *unitConv {
	c := &unitConv{rat: r}
	if offset != "" {
		c.offset, _ = new(big.Rat).SetString(offset)
		return c
	}
	if r.Cmp(big.NewRat(1, 1)) == 0 {
		c.identity = true
		return c
	}
	c.mant, c.exp, c.den, c.fast = ratParts(r)
	return c
}

// ratParts writes a positive r as mant × 10^exp / den, with den free of the
// factors 2 and 5 (1 for a decimal), when the numbers fit the fast path.
func ratParts(r *big.Rat) (mant uint64, exp int, den uint64, ok bool) {
	num, d := new(big.Int).Set(r.Num()), new(big.Int).Set(r.Denom())
	two, five, ten := big.NewInt(2), big.NewInt(5), big.NewInt(10)
	zero := new(big.Int)
	for {
		switch {
		case new(big.Int).Mod(d, two).Cmp(zero) == 0:
			num.Mul(num, five)
			d.Quo(d, two)
		case new(big.Int).Mod(d, five).Cmp(zero) == 0:
			num.Mul(num, two)
			d.Quo(d, five)
		default:
			for num.Sign() != 0 && new(big.Int).Mod(num, ten).Cmp(zero) == 0 {
				num.Quo(num, ten)
				exp++
			}
			if !num.IsUint64() || !d.IsUint64() || d.Uint64() >= 1<<32 {
				return 0, 0, 0, false
			}
			return num.Uint64(), exp, d.Uint64(), true
		}
		exp--
	}
}

func (c *unitConv) apply(v float64) float64 {
	switch {
	case c.identity:
		return v
	case math.IsNaN(v) || math.IsInf(v, 0):
		f, _ := c.rat.Float64()
		return v * f
	case c.fast:
		if r, ok := scaleFast(v, c.mant, c.exp, c.den); ok {
			return r
		}
	}
	x := decimalRat(v)
	if c.offset != nil {
		x.Add(x, c.offset)
	}
	r, _ := x.Mul(x, c.rat).Float64()
	return r
}

// scaleFast multiplies v, read as its shortest decimal representation, by
// mant × 10^exp / den exactly and returns the nearest float64, as
// scaleDecimal does, without big numbers. false when the product does not
// fit in 64 bits, or when its rounding cannot be told from the 24 digits
// computed (a quotient that does not end).
func scaleFast(v float64, mant uint64, exp int, den uint64) (float64, bool) {
	var buf [48]byte
	s := strconv.AppendFloat(buf[:0], v, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	// s is "d.ddde±XX" or "de±XX": the digits after the point are
	// fractional, one decimal place each.
	m := uint64(s[0] - '0')
	i := 1
	if s[i] == '.' {
		for i++; s[i] != 'e'; i++ {
			m = m*10 + uint64(s[i]-'0')
			exp--
		}
	}
	e := 0
	for _, c := range s[i+2:] {
		e = e*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		e = -e
	}
	exp += e
	hi, n := bits.Mul64(m, mant)
	if hi != 0 {
		return 0, false
	}
	// The digits of n / den: the quotient, then fractional digits until
	// the division ends or 24 digits are written.
	out := buf[:0]
	if neg {
		out = append(out, '-')
	}
	digits := len(out)
	out = strconv.AppendUint(out, n/den, 10)
	rem := n % den
	for ; rem != 0 && len(out)-digits < 24; exp-- {
		rem *= 10
		out = append(out, byte('0'+rem/den))
		rem %= den
	}
	mantEnd := len(out)
	out = append(out, 'e')
	out = strconv.AppendInt(out, int64(exp), 10)
	r, err := strconv.ParseFloat(string(out), 64)
	if err != nil {
		return 0, false
	}
	if rem == 0 {
		return r, true
	}
	// The exact product lies between the digits written and the same
	// digits plus one in the last place: if both round alike, so does it.
	j := mantEnd - 1
	for ; j >= digits && out[j] == '9'; j-- {
		out[j] = '0'
	}
	if j < digits {
		return 0, false
	}
	out[j]++
	up, err := strconv.ParseFloat(string(out), 64)
	return r, err == nil && up == r
}

// ExportUnit converts a value of the export's record type from the unit the
// export wrote it in to the unit the iOS SDK sends for that type, and
// returns the SDK's unit string ("count/min" heart rates become "bpm",
// energy in kJ becomes "Cal", 150 lb becomes 68.0388555 kg, SpO2 0.97
// becomes 97). The conversion is exact in decimal, rounded once, so it is
// deterministic. false when the type is not in the table or the unit is not
// one the type can be converted from: the caller keeps the value as written.
func ExportUnit(recordType, unit string, value float64) (float64, string, bool) {
	t, ok := exportTargets[recordType]
	if !ok {
		return value, unit, false
	}
	v, ok := ExportConvert(value, unit, t.Unit)
	if !ok {
		return value, unit, false
	}
	if t.Times100 {
		v = scaleDecimal(v, percentFactor)
	}
	return v, t.Label, true
}

// ExportConvert converts a value between two units of the export (HKUnit
// unit strings, and the SDK's spellings such as "bpm" or "mL/kg/min") of
// one dimension, exactly in decimal. Temperatures convert to "degC" only.
// Glucose in mmol/L with any molar mass ("mmol<180.15588000005408>/L")
// converts to mg/dL. false when either unit is unknown or the two measure
// different things.
func ExportConvert(value float64, from, to string) (float64, bool) {
	if c, ok := exportConvs[convKey{from, to}]; ok {
		return c.apply(value), true
	}
	if to == "mg/dL" {
		if mass, ok := strings.CutPrefix(from, "mmol<"); ok {
			if mass, ok = strings.CutSuffix(mass, ">/L"); ok {
				m, ok := new(big.Rat).SetString(mass)
				if ok && m.Sign() > 0 && len(mass) < 40 {
					return newUnitConv(m.Quo(m, big.NewRat(10, 1)), "").apply(value), true
				}
			}
		}
	}
	return value, false
}

// hkWorkoutPrefix starts every workout activity type of the export.
const hkWorkoutPrefix = "HKWorkoutActivityType"

// exportWorkoutTypeTable names each HKWorkoutActivityType as the iOS SDK
// sends it (its _workoutTypeString); the names are the SDK's, which do not
// always follow HealthKit's (TraditionalStrengthTraining is
// "strength_training", WheelchairRunPace "wheelchair_run").
var exportWorkoutTypeTable = []struct{ HK, SDK string }{
	{"Running", "running"}, {"Walking", "walking"}, {"Hiking", "hiking"},
	{"WheelchairRunPace", "wheelchair_run"}, {"WheelchairWalkPace", "wheelchair_walk"},
	{"Cycling", "cycling"}, {"HandCycling", "hand_cycling"}, {"Swimming", "swimming"},
	{"PaddleSports", "paddle_sports"}, {"Rowing", "rowing"}, {"SurfingSports", "surfing"},
	{"WaterFitness", "water_fitness"}, {"WaterPolo", "water_polo"}, {"WaterSports", "water_sports"},
	{"TraditionalStrengthTraining", "strength_training"},
	{"FunctionalStrengthTraining", "functional_strength_training"},
	{"CoreTraining", "core_training"}, {"CrossTraining", "cross_training"}, {"MixedCardio", "mixed_cardio"},
	{"HighIntensityIntervalTraining", "hiit"}, {"Flexibility", "flexibility"}, {"Cooldown", "cooldown"},
	{"Elliptical", "elliptical"}, {"StairClimbing", "stair_climbing"}, {"Stairs", "stairs"},
	{"StepTraining", "step_training"}, {"FitnessGaming", "fitness_gaming"}, {"JumpRope", "jump_rope"},
	{"Pilates", "pilates"}, {"PreparationAndRecovery", "preparation_and_recovery"}, {"Yoga", "yoga"},
	{"MindAndBody", "mind_and_body"}, {"Barre", "barre"}, {"TaiChi", "tai_chi"}, {"Dance", "dance"},
	{"DanceInspiredTraining", "dance_inspired_training"}, {"SocialDance", "social_dance"},
	{"CardioDance", "cardio_dance"}, {"Tennis", "tennis"}, {"TableTennis", "table_tennis"},
	{"Badminton", "badminton"}, {"Squash", "squash"}, {"Racquetball", "racquetball"},
	{"Pickleball", "pickleball"}, {"Soccer", "soccer"}, {"Basketball", "basketball"},
	{"Baseball", "baseball"}, {"Softball", "softball"}, {"AmericanFootball", "american_football"},
	{"AustralianFootball", "australian_football"}, {"Rugby", "rugby"}, {"Hockey", "hockey"},
	{"Lacrosse", "lacrosse"}, {"Volleyball", "volleyball"}, {"Handball", "handball"},
	{"Cricket", "cricket"}, {"DiscSports", "disc_sports"}, {"Boxing", "boxing"},
	{"Kickboxing", "kickboxing"}, {"MartialArts", "martial_arts"}, {"Wrestling", "wrestling"},
	{"Fencing", "fencing"}, {"SnowSports", "snow_sports"}, {"CrossCountrySkiing", "cross_country_skiing"},
	{"DownhillSkiing", "downhill_skiing"}, {"Snowboarding", "snowboarding"}, {"SkatingSports", "skating"},
	{"Curling", "curling"}, {"Golf", "golf"}, {"Archery", "archery"}, {"Fishing", "fishing"},
	{"Hunting", "hunting"}, {"Climbing", "climbing"}, {"EquestrianSports", "equestrian"}, {"Play", "play"},
	{"TrackAndField", "track_and_field"}, {"Bowling", "bowling"}, {"Gymnastics", "gymnastics"},
	{"MixedMetabolicCardioTraining", "mixed_metabolic_cardio_training"}, {"Sailing", "sailing"},
	{"SwimBikeRun", "swim_bike_run"}, {"Transition", "transition"},
	{"UnderwaterDiving", "underwater_diving"}, {"Other", "other"},
}

var exportWorkoutTypes = func() map[string]string {
	idx := make(map[string]string, len(exportWorkoutTypeTable))
	for _, w := range exportWorkoutTypeTable {
		idx[hkWorkoutPrefix+w.HK] = w.SDK
	}
	return idx
}()

// ExportWorkoutType names a workout activity type of the export
// ("HKWorkoutActivityTypeRunning") as the iOS SDK does ("running"). A type
// not in the table keeps its own name, the prefix cut and snake_cased
// ("HKWorkoutActivityTypeUnderwaterHockey" gives "underwater_hockey"); an
// empty type stays empty.
func ExportWorkoutType(hkActivityType string) string {
	if t, ok := exportWorkoutTypes[hkActivityType]; ok {
		return t
	}
	return snakeCase(strings.TrimPrefix(hkActivityType, hkWorkoutPrefix))
}

// snakeCase writes a CamelCase name in snake_case: a capital starts a new
// word unless it follows another capital that is not followed by a small
// letter (HIIT stays one word).
func snakeCase(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prevLower := s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] >= '0' && s[i-1] <= '9'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			prevUpper := s[i-1] >= 'A' && s[i-1] <= 'Z'
			if prevLower || prevUpper && nextLower {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// exportSleepStages maps the sleep analysis values of the export to the
// stages, as the iOS SDK maps HealthKit's raw values 0 to 5 (in_bed,
// sleeping, awake, light, deep, rem). The raw values are accepted too.
var exportSleepStages = map[string]Stage{
	"HKCategoryValueSleepAnalysisInBed":             StageInBed,
	"HKCategoryValueSleepAnalysisAsleepUnspecified": StageSleeping,
	"HKCategoryValueSleepAnalysisAsleep":            StageSleeping, // before iOS 16
	"HKCategoryValueSleepAnalysisAwake":             StageAwake,
	"HKCategoryValueSleepAnalysisAsleepCore":        StageLight,
	"HKCategoryValueSleepAnalysisAsleepDeep":        StageDeep,
	"HKCategoryValueSleepAnalysisAsleepREM":         StageRem,

	// HealthKit's raw values.
	"0": StageInBed, "1": StageSleeping, "2": StageAwake, "3": StageLight, "4": StageDeep, "5": StageRem,
}

// ExportSleepStage returns the stage of a sleep analysis value of the
// export. false for any other value: the iOS SDK sends such a sample as
// "unknown".
func ExportSleepStage(categoryValue string) (Stage, bool) {
	st, ok := exportSleepStages[categoryValue]
	return st, ok
}

// exportCategoryValues are HealthKit's raw values of the category value
// names the export writes (the HKCategoryValue... enums); the iOS SDK sends
// a category sample's raw value, with a null unit.
var exportCategoryValues = map[string]int{
	// HKCategoryValue: MindfulSession, SexualActivity, the events
	// (HighHeartRateEvent, ...), and every type without values of its own.
	"HKCategoryValueNotApplicable": 0,
	// HKCategoryValueMenstrualFlow (and VaginalBleeding, iOS 18).
	"HKCategoryValueMenstrualFlowUnspecified":   1,
	"HKCategoryValueMenstrualFlowLight":         2,
	"HKCategoryValueMenstrualFlowMedium":        3,
	"HKCategoryValueMenstrualFlowHeavy":         4,
	"HKCategoryValueMenstrualFlowNone":          5,
	"HKCategoryValueVaginalBleedingUnspecified": 1,
	"HKCategoryValueVaginalBleedingLight":       2,
	"HKCategoryValueVaginalBleedingMedium":      3,
	"HKCategoryValueVaginalBleedingHeavy":       4,
	"HKCategoryValueVaginalBleedingNone":        5,
	// HKCategoryValueCervicalMucusQuality.
	"HKCategoryValueCervicalMucusQualityDry":      1,
	"HKCategoryValueCervicalMucusQualitySticky":   2,
	"HKCategoryValueCervicalMucusQualityCreamy":   3,
	"HKCategoryValueCervicalMucusQualityWatery":   4,
	"HKCategoryValueCervicalMucusQualityEggWhite": 5,
	// HKCategoryValueOvulationTestResult (Positive is the old name of
	// LuteinizingHormoneSurge).
	"HKCategoryValueOvulationTestResultNegative":                1,
	"HKCategoryValueOvulationTestResultPositive":                2,
	"HKCategoryValueOvulationTestResultLuteinizingHormoneSurge": 2,
	"HKCategoryValueOvulationTestResultIndeterminate":           3,
	"HKCategoryValueOvulationTestResultEstrogenSurge":           4,
	// HKCategoryValuePregnancyTestResult, HKCategoryValueProgesteroneTestResult.
	"HKCategoryValuePregnancyTestResultNegative":         1,
	"HKCategoryValuePregnancyTestResultPositive":         2,
	"HKCategoryValuePregnancyTestResultIndeterminate":    3,
	"HKCategoryValueProgesteroneTestResultNegative":      1,
	"HKCategoryValueProgesteroneTestResultPositive":      2,
	"HKCategoryValueProgesteroneTestResultIndeterminate": 3,
	// HKCategoryValueContraceptive.
	"HKCategoryValueContraceptiveUnspecified":        1,
	"HKCategoryValueContraceptiveImplant":            2,
	"HKCategoryValueContraceptiveInjection":          3,
	"HKCategoryValueContraceptiveIntrauterineDevice": 4,
	"HKCategoryValueContraceptiveIntravaginalRing":   5,
	"HKCategoryValueContraceptiveOral":               6,
	"HKCategoryValueContraceptivePatch":              7,
	// HKCategoryValueAppleStandHour.
	"HKCategoryValueAppleStandHourStood": 0,
	"HKCategoryValueAppleStandHourIdle":  1,
	// HKCategoryValueSeverity (symptoms).
	"HKCategoryValueSeverityUnspecified": 0,
	"HKCategoryValueSeverityNotPresent":  1,
	"HKCategoryValueSeverityMild":        2,
	"HKCategoryValueSeverityModerate":    3,
	"HKCategoryValueSeveritySevere":      4,
	// HKCategoryValuePresence (symptoms).
	"HKCategoryValuePresencePresent":    0,
	"HKCategoryValuePresenceNotPresent": 1,
	// HKCategoryValueAppetiteChanges.
	"HKCategoryValueAppetiteChangesUnspecified": 0,
	"HKCategoryValueAppetiteChangesNoChange":    1,
	"HKCategoryValueAppetiteChangesDecreased":   2,
	"HKCategoryValueAppetiteChangesIncreased":   3,
	// The audio exposure, cardio fitness and steadiness events.
	"HKCategoryValueEnvironmentalAudioExposureEventMomentaryLimit": 1,
	"HKCategoryValueHeadphoneAudioExposureEventSevenDayLimit":      1,
	"HKCategoryValueLowCardioFitnessEventLowFitness":               1,
	"HKCategoryValueAppleWalkingSteadinessEventInitialLow":         1,
	"HKCategoryValueAppleWalkingSteadinessEventInitialVeryLow":     2,
	"HKCategoryValueAppleWalkingSteadinessEventRepeatLow":          3,
	"HKCategoryValueAppleWalkingSteadinessEventRepeatVeryLow":      4,
	// HKCategoryValueSleepAnalysis, for completeness: sleep samples are
	// stages, not records.
	"HKCategoryValueSleepAnalysisInBed":             0,
	"HKCategoryValueSleepAnalysisAsleepUnspecified": 1,
	"HKCategoryValueSleepAnalysisAsleep":            1,
	"HKCategoryValueSleepAnalysisAwake":             2,
	"HKCategoryValueSleepAnalysisAsleepCore":        3,
	"HKCategoryValueSleepAnalysisAsleepDeep":        4,
	"HKCategoryValueSleepAnalysisAsleepREM":         5,
}

// ExportCategoryValue returns HealthKit's raw value of a category value of
// the export: an enum name such as "HKCategoryValueMenstrualFlowLight" (2),
// or a raw value written as a number. false for any other name.
func ExportCategoryValue(value string) (int, bool) {
	if v, ok := exportCategoryValues[value]; ok {
		return v, true
	}
	if n, err := strconv.Atoi(value); err == nil && n >= 0 && n <= math.MaxInt32 {
		return n, true
	}
	return 0, false
}

// ExportField names the attribute of a WorkoutStatistics element a
// statistic is read from.
type ExportField uint8

// The fields.
const (
	ExportSum ExportField = iota + 1
	ExportAverage
	ExportMinimum
	ExportMaximum
)

// ExportStat is an SDK workout statistic read from a WorkoutStatistics
// element of the export.
type ExportStat struct {
	Field ExportField
	// Type and Unit are the SDK's statistic name and unit (§3.7); the value
	// is converted with ExportUnit of the element's type.
	Type, Unit string
	// Rank orders statistics of the same Type: the SDK sends only the first
	// distance of walking/running, cycling, swimming or downhill, so the
	// lowest rank present wins.
	Rank uint8
}

// exportWorkoutStatTable is what the iOS SDK reads from a workout's
// statistics (its _buildWorkoutStats), by quantity type.
var exportWorkoutStatTable = []struct {
	Type  string
	Stats []ExportStat
}{
	{"HKQuantityTypeIdentifierActiveEnergyBurned", []ExportStat{{ExportSum, "activeEnergyBurned", "kcal", 0}}},
	{"HKQuantityTypeIdentifierBasalEnergyBurned", []ExportStat{{ExportSum, "basalEnergyBurned", "kcal", 0}}},
	{"HKQuantityTypeIdentifierDistanceWalkingRunning", []ExportStat{{ExportSum, "distance", "m", 0}}},
	{"HKQuantityTypeIdentifierDistanceCycling", []ExportStat{{ExportSum, "distance", "m", 1}}},
	{"HKQuantityTypeIdentifierDistanceSwimming", []ExportStat{{ExportSum, "distance", "m", 2}}},
	{"HKQuantityTypeIdentifierDistanceDownhillSnowSports", []ExportStat{{ExportSum, "distance", "m", 3}}},
	{"HKQuantityTypeIdentifierStepCount", []ExportStat{{ExportSum, "stepCount", "count", 0}}},
	{"HKQuantityTypeIdentifierSwimmingStrokeCount", []ExportStat{{ExportSum, "swimmingStrokeCount", "count", 0}}},
	{"HKQuantityTypeIdentifierHeartRate", []ExportStat{
		{ExportMinimum, "minHeartRate", "bpm", 0},
		{ExportAverage, "averageHeartRate", "bpm", 0},
		{ExportMaximum, "maxHeartRate", "bpm", 0},
	}},
	{"HKQuantityTypeIdentifierRunningPower", []ExportStat{{ExportAverage, "averageRunningPower", "W", 0}}},
	{"HKQuantityTypeIdentifierRunningSpeed", []ExportStat{{ExportAverage, "averageRunningSpeed", "m/s", 0}}},
	{"HKQuantityTypeIdentifierRunningStrideLength", []ExportStat{{ExportAverage, "averageRunningStrideLength", "m", 0}}},
	{"HKQuantityTypeIdentifierRunningVerticalOscillation", []ExportStat{{ExportAverage, "averageVerticalOscillation", "cm", 0}}},
	{"HKQuantityTypeIdentifierRunningGroundContactTime", []ExportStat{{ExportAverage, "averageGroundContactTime", "ms", 0}}},
}

var exportWorkoutStats = func() map[string][]ExportStat {
	idx := make(map[string][]ExportStat, len(exportWorkoutStatTable))
	for _, s := range exportWorkoutStatTable {
		idx[s.Type] = s.Stats
	}
	return idx
}()

// ExportWorkoutStatistic returns the SDK statistics a WorkoutStatistics
// element of the quantity type gives, nil for a type the SDK does not read.
// The slice is a copy.
func ExportWorkoutStatistic(statType string) []ExportStat {
	s := exportWorkoutStats[statType]
	if s == nil {
		return nil
	}
	return append([]ExportStat(nil), s...)
}

// exportMetadataStatTable is what the iOS SDK reads from a workout's
// metadata, by metadata key: the statistic, its unit, and the unit of
// exportUnits the value is converted to. Quantities are written as "<value>
// <unit>" ("1234 cm", "52.3 degF"); HKIndoorWorkout is "0" or "1", the
// swimming location type a number. A percentage quantity is written 100
// times what HealthKit gives in percent ("6600 %" is a humidity the SDK
// sends as 66): Unit "%100" divides by 100.
var exportMetadataStatTable = []struct {
	Key, Type, Unit, Convert string
}{
	{"HKElevationAscended", "elevationAscended", "m", "m"},
	{"HKElevationDescended", "elevationDescended", "m", "m"},
	{"HKAverageSpeed", "averageSpeed", "m/s", "m/s"},
	{"HKMaximumSpeed", "maxSpeed", "m/s", "m/s"},
	{"HKAverageMETs", "averageMETs", "kcal/kg/hr", "kcal/kg/hr"},
	{"HKLapLength", "lapLength", "m", "m"},
	{"HKSwimmingLocationType", "swimmingLocationType", "enum", ""},
	{"HKIndoorWorkout", "indoorWorkout", "bool", ""},
	{"HKWeatherTemperature", "weatherTemperature", "degC", "degC"},
	{"HKWeatherHumidity", "weatherHumidity", "%", "%100"},
}

// ExportWorkoutMetadata reads a workout metadata entry of the export as the
// SDK statistic it gives: its type, unit and value. false when the key is
// not one the SDK reads or the value cannot be read or converted.
func ExportWorkoutMetadata(key, value string) (statType, unit string, v float64, ok bool) {
	for _, m := range exportMetadataStatTable {
		if m.Key != key {
			continue
		}
		num, u, _ := strings.Cut(strings.TrimSpace(value), " ")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", "", 0, false
		}
		switch m.Convert {
		case "":
			if u != "" || f != math.Trunc(f) {
				return "", "", 0, false
			}
		case "%100":
			if u != "%" {
				return "", "", 0, false
			}
			f = scaleDecimal(f, "0.01")
		default:
			if f, ok = ExportConvert(f, u, m.Convert); !ok {
				return "", "", 0, false
			}
		}
		return m.Type, m.Unit, f, true
	}
	return "", "", 0, false
}

// ExportRecordUnit returns the unit the iOS SDK sends for a record type of
// the export, false for a type ExportUnit does not convert.
func ExportRecordUnit(recordType string) (string, bool) {
	t, ok := exportTargets[recordType]
	return t.Label, ok
}
