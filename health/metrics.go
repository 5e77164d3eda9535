package health

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Metric is one row of the SDK record vocabulary: a record type string as the
// SDKs send it and the code of the series it is stored under.
type Metric struct {
	// Type is the record's type string, e.g. "HKQuantityTypeIdentifierHeartRate"
	// (Apple) or "HEART_RATE" (Samsung, Health Connect).
	Type string
	// Series is the code of the series the record is stored under.
	Series string
}

// metricTable maps every SDK record type to its series, as Open Wearables
// does. Any provider may send any type. Several types share one series, and
// some are stored under a series that does not describe them; these are
// Open Wearables' choices, kept so that the same data reads back the same:
//   - HEART_RATE_VARIABILITY (Health Connect) is RMSSD, Apple's is SDNN;
//   - active, total calories and Apple active energy all go to energy;
//   - exercise and move time go to exercise_time;
//   - four temperatures go to body_temperature, three powers to power;
//   - BASAL_METABOLIC_RATE goes to basal_energy;
//   - cross-country skiing, paddle sports and rowing speeds, underwater depth
//     and Nike Fuel go to distance_other, in meters.
var metricTable = []Metric{
	{"HKQuantityTypeIdentifierHeartRate", "heart_rate"},
	{"HEART_RATE", "heart_rate"},
	{"HKQuantityTypeIdentifierRestingHeartRate", "resting_heart_rate"},
	{"RESTING_HEART_RATE", "resting_heart_rate"},
	{"HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "heart_rate_variability_sdnn"},
	{"HEART_RATE_VARIABILITY", "heart_rate_variability_rmssd"},
	{"HKQuantityTypeIdentifierHeartRateRecoveryOneMinute", "heart_rate_recovery_one_minute"},
	{"HKQuantityTypeIdentifierWalkingHeartRateAverage", "walking_heart_rate_average"},
	{"HKQuantityTypeIdentifierOxygenSaturation", "oxygen_saturation"},
	{"OXYGEN_SATURATION", "oxygen_saturation"},
	{"HKQuantityTypeIdentifierBloodGlucose", "blood_glucose"},
	{"BLOOD_GLUCOSE", "blood_glucose"},
	{"HKQuantityTypeIdentifierBloodPressureSystolic", "blood_pressure_systolic"},
	{"BLOOD_PRESSURE_SYSTOLIC", "blood_pressure_systolic"},
	{"HKQuantityTypeIdentifierBloodPressureDiastolic", "blood_pressure_diastolic"},
	{"BLOOD_PRESSURE_DIASTOLIC", "blood_pressure_diastolic"},
	{"HKQuantityTypeIdentifierRespiratoryRate", "respiratory_rate"},
	{"RESPIRATORY_RATE", "respiratory_rate"},
	{"HKQuantityTypeIdentifierHeight", "height"},
	{"HEIGHT", "height"},
	{"WEIGHT", "weight"},
	{"HKQuantityTypeIdentifierBodyMass", "weight"},
	{"LEAN_BODY_MASS", "lean_body_mass"},
	{"SKELETAL_MUSCLE_MASS", "skeletal_muscle_mass"},
	{"BODY_FAT_MASS", "body_fat_mass"},
	{"HKQuantityTypeIdentifierBodyFatPercentage", "body_fat_percentage"},
	{"BODY_FAT", "body_fat_percentage"},
	{"HKQuantityTypeIdentifierBodyMassIndex", "body_mass_index"},
	{"BMI", "body_mass_index"},
	{"HKQuantityTypeIdentifierLeanBodyMass", "lean_body_mass"},
	{"HKQuantityTypeIdentifierBodyTemperature", "body_temperature"},
	{"BODY_TEMPERATURE", "body_temperature"},
	{"HKQuantityTypeIdentifierVO2Max", "vo2_max"},
	{"VO2_MAX", "vo2_max"},
	{"HKQuantityTypeIdentifierSixMinuteWalkTestDistance", "six_minute_walk_test_distance"},
	{"HKQuantityTypeIdentifierStepCount", "steps"},
	{"STEP_COUNT", "steps"},
	{"HKQuantityTypeIdentifierActiveEnergyBurned", "energy"},
	{"HKQuantityTypeIdentifierBasalEnergyBurned", "basal_energy"},
	{"ACTIVE_CALORIES_BURNED", "energy"},
	{"BASAL_METABOLIC_RATE", "basal_energy"},
	{"HKQuantityTypeIdentifierAppleStandTime", "stand_time"},
	{"HKQuantityTypeIdentifierAppleExerciseTime", "exercise_time"},
	{"HKQuantityTypeIdentifierFlightsClimbed", "flights_climbed"},
	{"FLOORS_CLIMBED", "flights_climbed"},
	{"DISTANCE", "distance_walking_running"},
	{"HKQuantityTypeIdentifierDistanceWalkingRunning", "distance_walking_running"},
	{"HKQuantityTypeIdentifierDistanceCycling", "distance_cycling"},
	{"HKQuantityTypeIdentifierDistanceSwimming", "distance_swimming"},
	{"HKQuantityTypeIdentifierDistanceDownhillSnowSports", "distance_downhill_snow_sports"},
	{"HKQuantityTypeIdentifierDistancePaddleSports", "distance_other"},
	{"HKQuantityTypeIdentifierDistanceRowing", "distance_other"},
	{"HKQuantityTypeIdentifierDistanceSkatingSports", "distance_other"},
	{"HKQuantityTypeIdentifierDistanceWheelchair", "distance_other"},
	{"HKQuantityTypeIdentifierDistanceCrossCountrySkiing", "distance_other"},
	{"HKQuantityTypeIdentifierWalkingStepLength", "walking_step_length"},
	{"HKQuantityTypeIdentifierWalkingSpeed", "walking_speed"},
	{"HKQuantityTypeIdentifierWalkingDoubleSupportPercentage", "walking_double_support_percentage"},
	{"HKQuantityTypeIdentifierWalkingAsymmetryPercentage", "walking_asymmetry_percentage"},
	{"HKQuantityTypeIdentifierAppleWalkingSteadiness", "walking_steadiness"},
	{"HKQuantityTypeIdentifierStairDescentSpeed", "stair_descent_speed"},
	{"HKQuantityTypeIdentifierStairAscentSpeed", "stair_ascent_speed"},
	{"HKQuantityTypeIdentifierRunningPower", "running_power"},
	{"HKQuantityTypeIdentifierRunningSpeed", "running_speed"},
	{"HKQuantityTypeIdentifierRunningVerticalOscillation", "running_vertical_oscillation"},
	{"HKQuantityTypeIdentifierRunningGroundContactTime", "running_ground_contact_time"},
	{"HKQuantityTypeIdentifierRunningStrideLength", "running_stride_length"},
	{"HKQuantityTypeIdentifierSwimmingStrokeCount", "swimming_stroke_count"},
	{"HKQuantityTypeIdentifierEnvironmentalAudioExposure", "environmental_audio_exposure"},
	{"HKQuantityTypeIdentifierHeadphoneAudioExposure", "headphone_audio_exposure"},
	{"HKQuantityTypeIdentifierEnvironmentalSoundReduction", "environmental_sound_reduction"},
	{"HKQuantityTypeIdentifierTimeInDaylight", "time_in_daylight"},
	{"HKQuantityTypeIdentifierPhysicalEffort", "physical_effort"},
	{"HKQuantityTypeIdentifierWorkoutEffortScore", "workout_effort_score"},
	{"HKQuantityTypeIdentifierEstimatedWorkoutEffortScore", "estimated_workout_effort_score"},
	{"HKQuantityTypeIdentifierAppleMoveTime", "exercise_time"},
	{"HKQuantityTypeIdentifierAppleSleepingWristTemperature", "body_temperature"},
	{"HKQuantityTypeIdentifierBloodAlcoholContent", "blood_alcohol_content"},
	{"HKQuantityTypeIdentifierPeripheralPerfusionIndex", "peripheral_perfusion_index"},
	{"HKQuantityTypeIdentifierForcedVitalCapacity", "forced_vital_capacity"},
	{"HKQuantityTypeIdentifierForcedExpiratoryVolume1", "forced_expiratory_volume_1"},
	{"HKQuantityTypeIdentifierPeakExpiratoryFlowRate", "peak_expiratory_flow_rate"},
	{"HKQuantityTypeIdentifierBasalBodyTemperature", "body_temperature"},
	{"HKQuantityTypeIdentifierAppleSleepingBreathingDisturbances", "sleeping_breathing_disturbances"},
	{"HKQuantityTypeIdentifierWaistCircumference", "waist_circumference"},
	{"HKQuantityTypeIdentifierInsulinDelivery", "insulin_delivery"},
	{"HKQuantityTypeIdentifierNumberOfTimesFallen", "number_of_times_fallen"},
	{"HKQuantityTypeIdentifierInhalerUsage", "inhaler_usage"},
	{"HKQuantityTypeIdentifierNumberOfAlcoholicBeverages", "number_of_alcoholic_beverages"},
	{"HYDRATION", "hydration"},
	{"HKQuantityTypeIdentifierElectrodermalActivity", "electrodermal_activity"},
	{"HKQuantityTypeIdentifierUVExposure", "uv_exposure"},
	{"HKQuantityTypeIdentifierPushCount", "push_count"},
	{"HKQuantityTypeIdentifierAtrialFibrillationBurden", "atrial_fibrillation_burden"},
	{"HKQuantityTypeIdentifierUnderwaterDepth", "distance_other"},
	{"HKQuantityTypeIdentifierWaterTemperature", "water_temperature"},
	{"HKQuantityTypeIdentifierCyclingCadence", "cadence"},
	{"HKQuantityTypeIdentifierCyclingFunctionalThresholdPower", "power"},
	{"HKQuantityTypeIdentifierCyclingPower", "power"},
	{"HKQuantityTypeIdentifierCyclingSpeed", "speed"},
	{"POWER", "power"},
	{"SPEED", "speed"},
	{"CYCLING_PEDALING_CADENCE", "cadence"},
	{"TOTAL_CALORIES_BURNED", "energy"},
	{"HKQuantityTypeIdentifierCrossCountrySkiingSpeed", "distance_other"},
	{"HKQuantityTypeIdentifierPaddleSportsSpeed", "distance_other"},
	{"HKQuantityTypeIdentifierRowingSpeed", "distance_other"},
	{"HKQuantityTypeIdentifierNikeFuel", "distance_other"},
}

// metricSeries indexes metricTable by SDK type.
var metricSeries = indexMetrics()

func indexMetrics() map[string]Series {
	idx := make(map[string]Series, len(metricTable))
	for _, m := range metricTable {
		if s, ok := SeriesByCode(m.Series); ok {
			idx[m.Type] = s
		}
	}
	return idx
}

// MapMetric returns the series a record of the SDK type is stored under. The
// match is exact and case-sensitive; a type not in the table returns false.
func MapMetric(sdkType string) (Series, bool) {
	s, ok := metricSeries[sdkType]
	return s, ok
}

// AllMetrics returns every SDK record type with its series, in table order.
// The slice is a copy.
func AllMetrics() []Metric {
	return append([]Metric(nil), metricTable...)
}

// Conversion is how the values of a series are rescaled on the way in. It
// belongs to the series, not to the SDK type: every type stored under the
// series is converted alike.
type Conversion uint8

// The conversions.
const (
	// ConvNone keeps the value: it is already in the series' unit.
	ConvNone Conversion = iota
	// ConvMetersToCentimeters multiplies by 100, for every provider.
	ConvMetersToCentimeters
	// ConvFractionToPercent multiplies by 100, for every provider.
	ConvFractionToPercent
	// ConvAppleFractionToPercent multiplies by 100 when the provider is
	// Apple, compared case-insensitively; other providers already send a
	// percentage.
	ConvAppleFractionToPercent
	// ConvMmolToMgdl multiplies by 18.0182 (mmol/L to mg/dL) when the
	// record's unit, lower-cased, starts with "mmol"; any other unit, or
	// none, keeps the value.
	ConvMmolToMgdl
)

// String returns the conversion's name.
func (c Conversion) String() string {
	switch c {
	case ConvNone:
		return "none"
	case ConvMetersToCentimeters:
		return "m_to_cm"
	case ConvFractionToPercent:
		return "fraction_to_percent"
	case ConvAppleFractionToPercent:
		return "apple_fraction_to_percent"
	case ConvMmolToMgdl:
		return "mmol_to_mg_dl"
	}
	return "Conversion(" + strconv.Itoa(int(c)) + ")"
}

// conversionTable lists the series whose incoming values are rescaled; every
// other series keeps its values. The record's unit string is not read except
// for blood glucose. Open Wearables' quirks are kept: oxygen_saturation is not
// scaled (Health Connect sends 0-100, HealthKit a 0-1 fraction), nor is
// running_stride_length (HealthKit sends meters under a "cm" series).
var conversionTable = []struct {
	Series string
	Conv   Conversion
}{
	{"height", ConvMetersToCentimeters},
	{"walking_step_length", ConvMetersToCentimeters},
	{"body_fat_percentage", ConvAppleFractionToPercent},
	{"walking_double_support_percentage", ConvFractionToPercent},
	{"walking_asymmetry_percentage", ConvFractionToPercent},
	{"walking_steadiness", ConvFractionToPercent},
	{"blood_glucose", ConvMmolToMgdl},
}

// conversionByID is conversionTable indexed by series id.
var conversionByID = indexConversions()

func indexConversions() []Conversion {
	maxID := uint16(0)
	for _, s := range seriesTable {
		maxID = max(maxID, s.ID)
	}
	idx := make([]Conversion, int(maxID)+1)
	for _, c := range conversionTable {
		if s, ok := SeriesByCode(c.Series); ok {
			idx[s.ID] = c.Conv
		}
	}
	return idx
}

// Conversion returns the conversion applied to the series' incoming values.
func (s Series) Conversion() Conversion {
	if int(s.ID) < len(conversionByID) {
		return conversionByID[s.ID]
	}
	return ConvNone
}

// Decimal factors of the conversions.
const (
	percentFactor      = "100"
	glucoseMgdlPerMmol = "18.0182"
)

// NormalizeValue converts a record's value into its series' unit. provider is
// the batch's provider as sent ("apple", "Apple", "samsung", "google"); unit is
// the record's own unit string, read only for blood glucose.
//
// The value is scaled as the decimal it was sent as, and the result is the
// float64 nearest to the exact product: Apple body fat 0.304 gives 30.4,
// height 1.7526 gives 175.26, glucose 6.111 mmol/L gives 110.1092202.
func NormalizeValue(provider string, s Series, value float64, unit string) float64 {
	switch s.Conversion() {
	case ConvMetersToCentimeters, ConvFractionToPercent:
		return scaleDecimal(value, percentFactor)
	case ConvAppleFractionToPercent:
		if strings.EqualFold(provider, "apple") {
			return scaleDecimal(value, percentFactor)
		}
	case ConvMmolToMgdl:
		if len(unit) >= 4 && strings.EqualFold(unit[:4], "mmol") {
			return scaleDecimal(value, glucoseMgdlPerMmol)
		}
	}
	return value
}

// scaleDecimal multiplies value by the decimal factor exactly, reading value
// as its shortest decimal representation, and returns the nearest float64.
// Non-finite values are multiplied as floats.
func scaleDecimal(value float64, factor string) float64 {
	f, _ := new(big.Rat).SetString(factor)
	if math.IsNaN(value) || math.IsInf(value, 0) {
		x, _ := f.Float64()
		return value * x
	}
	v := decimalRat(value)
	r, _ := v.Mul(v, f).Float64()
	return r
}

// decimalRat returns v as the exact value of its shortest decimal
// representation, so that products and sums are exact in decimal. Non-finite values count
// as zero.
func decimalRat(v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	if !ok {
		return new(big.Rat)
	}
	return r
}
