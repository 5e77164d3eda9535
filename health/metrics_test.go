package health

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// factSheetMetrics is the table of SDK record types from Open Wearables'
// documentation, copied as it stands (code spans unquoted): type, enum
// member, series, series id, stored unit, conversion.
const factSheetMetrics = `
| SDK type string | enum member | → SeriesType | id | stored unit | conversion |
|---|---|---|---|---|---|
| HKQuantityTypeIdentifierHeartRate | APPLE_HEART_RATE | heart_rate | 1 | bpm | none |
| HEART_RATE | ANDROID_HEART_RATE | heart_rate | 1 | bpm | none |
| HKQuantityTypeIdentifierRestingHeartRate | APPLE_RESTING_HEART_RATE | resting_heart_rate | 2 | bpm | none |
| RESTING_HEART_RATE | ANDROID_RESTING_HEART_RATE | resting_heart_rate | 2 | bpm | none |
| HKQuantityTypeIdentifierHeartRateVariabilitySDNN | APPLE_HEART_RATE_VARIABILITY_SDNN | heart_rate_variability_sdnn | 3 | ms | none |
| HEART_RATE_VARIABILITY | ANDROID_HEART_RATE_VARIABILITY | heart_rate_variability_rmssd | 7 | ms | none |
| HKQuantityTypeIdentifierHeartRateRecoveryOneMinute | HEART_RATE_RECOVERY_ONE_MINUTE | heart_rate_recovery_one_minute | 4 | bpm | none |
| HKQuantityTypeIdentifierWalkingHeartRateAverage | WALKING_HEART_RATE_AVERAGE | walking_heart_rate_average | 5 | bpm | none |
| HKQuantityTypeIdentifierOxygenSaturation | APPLE_OXYGEN_SATURATION | oxygen_saturation | 20 | percent | none |
| OXYGEN_SATURATION | ANDROID_OXYGEN_SATURATION | oxygen_saturation | 20 | percent | none |
| HKQuantityTypeIdentifierBloodGlucose | APPLE_BLOOD_GLUCOSE | blood_glucose | 21 | mg_dl | ×18.0182 only if record unit lowercased starts with "mmol" |
| BLOOD_GLUCOSE | ANDROID_BLOOD_GLUCOSE | blood_glucose | 21 | mg_dl | ×18.0182 only if record unit lowercased starts with "mmol" |
| HKQuantityTypeIdentifierBloodPressureSystolic | APPLE_BLOOD_PRESSURE_SYSTOLIC | blood_pressure_systolic | 22 | mmHg | none |
| BLOOD_PRESSURE_SYSTOLIC | ANDROID_BLOOD_PRESSURE_SYSTOLIC | blood_pressure_systolic | 22 | mmHg | none |
| HKQuantityTypeIdentifierBloodPressureDiastolic | APPLE_BLOOD_PRESSURE_DIASTOLIC | blood_pressure_diastolic | 23 | mmHg | none |
| BLOOD_PRESSURE_DIASTOLIC | ANDROID_BLOOD_PRESSURE_DIASTOLIC | blood_pressure_diastolic | 23 | mmHg | none |
| HKQuantityTypeIdentifierRespiratoryRate | APPLE_RESPIRATORY_RATE | respiratory_rate | 24 | brpm | none |
| RESPIRATORY_RATE | ANDROID_RESPIRATORY_RATE | respiratory_rate | 24 | brpm | none |
| HKQuantityTypeIdentifierHeight | APPLE_HEIGHT | height | 40 | cm | ×100 (m→cm), all providers |
| HEIGHT | ANDROID_HEIGHT | height | 40 | cm | ×100 (m→cm), all providers |
| WEIGHT | ANDROID_WEIGHT | weight | 41 | kg | none |
| HKQuantityTypeIdentifierBodyMass | APPLE_BODY_MASS | weight | 41 | kg | none |
| LEAN_BODY_MASS | ANDROID_LEAN_BODY_MASS | lean_body_mass | 44 | kg | none |
| SKELETAL_MUSCLE_MASS | ANDROID_SKELETAL_MUSCLE_MASS | skeletal_muscle_mass | 49 | kg | none |
| BODY_FAT_MASS | ANDROID_BODY_FAT_MASS | body_fat_mass | 48 | kg | none |
| HKQuantityTypeIdentifierBodyFatPercentage | APPLE_BODY_FAT_PERCENTAGE | body_fat_percentage | 42 | percent | ×100 only when provider=="apple" (fraction→%); Android/Google: none |
| BODY_FAT | ANDROID_BODY_FAT_PERCENTAGE | body_fat_percentage | 42 | percent | ×100 only when provider=="apple" (fraction→%); Android/Google: none |
| HKQuantityTypeIdentifierBodyMassIndex | APPLE_BODY_MASS_INDEX | body_mass_index | 43 | kg_m2 | none |
| BMI | ANDROID_BODY_MASS_INDEX | body_mass_index | 43 | kg_m2 | none |
| HKQuantityTypeIdentifierLeanBodyMass | LEAN_BODY_MASS | lean_body_mass | 44 | kg | none |
| HKQuantityTypeIdentifierBodyTemperature | APPLE_BODY_TEMPERATURE | body_temperature | 45 | celsius | none |
| BODY_TEMPERATURE | ANDROID_BODY_TEMPERATURE | body_temperature | 45 | celsius | none |
| HKQuantityTypeIdentifierVO2Max | APPLE_VO2_MAX | vo2_max | 60 | ml_kg_min | none |
| VO2_MAX | ANDROID_VO2_MAX | vo2_max | 60 | ml_kg_min | none |
| HKQuantityTypeIdentifierSixMinuteWalkTestDistance | SIX_MINUTE_WALK_TEST_DISTANCE | six_minute_walk_test_distance | 61 | meters | none |
| HKQuantityTypeIdentifierStepCount | APPLE_STEP_COUNT | steps | 80 | count | none |
| STEP_COUNT | ANDROID_STEP_COUNT | steps | 80 | count | none |
| HKQuantityTypeIdentifierActiveEnergyBurned | APPLE_ACTIVE_ENERGY_BURNED | energy | 81 | kcal | none |
| HKQuantityTypeIdentifierBasalEnergyBurned | APPLE_BASAL_ENERGY_BURNED | basal_energy | 82 | kcal | none |
| ACTIVE_CALORIES_BURNED | ANDROID_ACTIVE_CALORIES_BURNED | energy | 81 | kcal | none |
| BASAL_METABOLIC_RATE | ANDROID_BASAL_METABOLIC_RATE | basal_energy | 82 | kcal | none |
| HKQuantityTypeIdentifierAppleStandTime | APPLE_STAND_TIME | stand_time | 83 | minutes | none |
| HKQuantityTypeIdentifierAppleExerciseTime | APPLE_EXERCISE_TIME | exercise_time | 84 | minutes | none |
| HKQuantityTypeIdentifierFlightsClimbed | FLIGHTS_CLIMBED | flights_climbed | 86 | count | none |
| FLOORS_CLIMBED | ANDROID_FLOORS_CLIMBED | flights_climbed | 86 | count | none |
| DISTANCE | ANDROID_DISTANCE | distance_walking_running | 100 | meters | none |
| HKQuantityTypeIdentifierDistanceWalkingRunning | DISTANCE_WALKING_RUNNING | distance_walking_running | 100 | meters | none |
| HKQuantityTypeIdentifierDistanceCycling | DISTANCE_CYCLING | distance_cycling | 101 | meters | none |
| HKQuantityTypeIdentifierDistanceSwimming | DISTANCE_SWIMMING | distance_swimming | 102 | meters | none |
| HKQuantityTypeIdentifierDistanceDownhillSnowSports | DISTANCE_DOWNHILL_SNOW_SPORTS | distance_downhill_snow_sports | 103 | meters | none |
| HKQuantityTypeIdentifierDistancePaddleSports | DISTANCE_PADDLE_SPORTS | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierDistanceRowing | DISTANCE_ROWING | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierDistanceSkatingSports | DISTANCE_SKATING_SPORTS | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierDistanceWheelchair | DISTANCE_WHEELCHAIR | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierDistanceCrossCountrySkiing | DISTANCE_CROSS_COUNTRY_SKIING | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierWalkingStepLength | WALKING_STEP_LENGTH | walking_step_length | 120 | cm | ×100 (m→cm) |
| HKQuantityTypeIdentifierWalkingSpeed | WALKING_SPEED | walking_speed | 121 | m_per_s | none |
| HKQuantityTypeIdentifierWalkingDoubleSupportPercentage | WALKING_DOUBLE_SUPPORT_PERCENTAGE | walking_double_support_percentage | 122 | percent | ×100 (fraction→%) |
| HKQuantityTypeIdentifierWalkingAsymmetryPercentage | WALKING_ASYMMETRY_PERCENTAGE | walking_asymmetry_percentage | 123 | percent | ×100 (fraction→%) |
| HKQuantityTypeIdentifierAppleWalkingSteadiness | APPLE_WALKING_STEADINESS | walking_steadiness | 124 | percent | ×100 (fraction→%) |
| HKQuantityTypeIdentifierStairDescentSpeed | STAIR_DESCENT_SPEED | stair_descent_speed | 125 | m_per_s | none |
| HKQuantityTypeIdentifierStairAscentSpeed | STAIR_ASCENT_SPEED | stair_ascent_speed | 126 | m_per_s | none |
| HKQuantityTypeIdentifierRunningPower | RUNNING_POWER | running_power | 140 | watts | none |
| HKQuantityTypeIdentifierRunningSpeed | RUNNING_SPEED | running_speed | 141 | m_per_s | none |
| HKQuantityTypeIdentifierRunningVerticalOscillation | RUNNING_VERTICAL_OSCILLATION | running_vertical_oscillation | 142 | cm | none |
| HKQuantityTypeIdentifierRunningGroundContactTime | RUNNING_GROUND_CONTACT_TIME | running_ground_contact_time | 143 | ms | none |
| HKQuantityTypeIdentifierRunningStrideLength | RUNNING_STRIDE_LENGTH | running_stride_length | 144 | cm | none |
| HKQuantityTypeIdentifierSwimmingStrokeCount | SWIMMING_STROKE_COUNT | swimming_stroke_count | 160 | count | none |
| HKQuantityTypeIdentifierEnvironmentalAudioExposure | ENVIRONMENTAL_AUDIO_EXPOSURE | environmental_audio_exposure | 200 | dB | none |
| HKQuantityTypeIdentifierHeadphoneAudioExposure | HEADPHONE_AUDIO_EXPOSURE | headphone_audio_exposure | 201 | dB | none |
| HKQuantityTypeIdentifierEnvironmentalSoundReduction | ENVIRONMENTAL_SOUND_REDUCTION | environmental_sound_reduction | 202 | dB | none |
| HKQuantityTypeIdentifierTimeInDaylight | TIME_IN_DAYLIGHT | time_in_daylight | 203 | minutes | none |
| HKQuantityTypeIdentifierPhysicalEffort | PHYSICAL_EFFORT | physical_effort | 85 | score | none |
| HKQuantityTypeIdentifierWorkoutEffortScore | WORKOUT_EFFORT_SCORE | workout_effort_score | 183 | score | none |
| HKQuantityTypeIdentifierEstimatedWorkoutEffortScore | ESTIMATED_WORKOUT_EFFORT_SCORE | estimated_workout_effort_score | 184 | score | none |
| HKQuantityTypeIdentifierAppleMoveTime | APPLE_MOVE_TIME | exercise_time | 84 | minutes | none |
| HKQuantityTypeIdentifierAppleSleepingWristTemperature | APPLE_SLEEPING_WRIST_TEMPERATURE | body_temperature | 45 | celsius | none |
| HKQuantityTypeIdentifierBloodAlcoholContent | BLOOD_ALCOHOL_CONTENT | blood_alcohol_content | 26 | mg_dl | none |
| HKQuantityTypeIdentifierPeripheralPerfusionIndex | PERIPHERAL_PERFUSION_INDEX | peripheral_perfusion_index | 27 | score | none |
| HKQuantityTypeIdentifierForcedVitalCapacity | FORCED_VITAL_CAPACITY | forced_vital_capacity | 28 | liters | none |
| HKQuantityTypeIdentifierForcedExpiratoryVolume1 | FORCED_EXPIRATORY_VOLUME_1 | forced_expiratory_volume_1 | 29 | liters | none |
| HKQuantityTypeIdentifierPeakExpiratoryFlowRate | PEAK_EXPIRATORY_FLOW_RATE | peak_expiratory_flow_rate | 30 | L/min | none |
| HKQuantityTypeIdentifierBasalBodyTemperature | BASAL_BODY_TEMPERATURE | body_temperature | 45 | celsius | none |
| HKQuantityTypeIdentifierAppleSleepingBreathingDisturbances | SLEEPING_BREATHING_DISTURBANCES | sleeping_breathing_disturbances | 25 | count | none |
| HKQuantityTypeIdentifierWaistCircumference | WAIST_CIRCUMFERENCE | waist_circumference | 47 | cm | none |
| HKQuantityTypeIdentifierInsulinDelivery | INSULIN_DELIVERY | insulin_delivery | 503 | count | none |
| HKQuantityTypeIdentifierNumberOfTimesFallen | NUMBER_OF_TIMES_FALLEN | number_of_times_fallen | 504 | count | none |
| HKQuantityTypeIdentifierInhalerUsage | INHALER_USAGE | inhaler_usage | 206 | count | none |
| HKQuantityTypeIdentifierNumberOfAlcoholicBeverages | NUMBER_OF_ALCOHOLIC_BEVERAGES | number_of_alcoholic_beverages | 505 | count | none |
| HYDRATION | ANDROID_HYDRATION | hydration | 507 | mL | none |
| HKQuantityTypeIdentifierElectrodermalActivity | ELECTRODERMAL_ACTIVITY | electrodermal_activity | 500 | count | none |
| HKQuantityTypeIdentifierUVExposure | UV_EXPOSURE | uv_exposure | 205 | count | none |
| HKQuantityTypeIdentifierPushCount | PUSH_COUNT | push_count | 501 | count | none |
| HKQuantityTypeIdentifierAtrialFibrillationBurden | ATRIAL_FIBRILLATION_BURDEN | atrial_fibrillation_burden | 502 | count | none |
| HKQuantityTypeIdentifierUnderwaterDepth | UNDERWATER_DEPTH | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierWaterTemperature | WATER_TEMPERATURE | water_temperature | 204 | celsius | none |
| HKQuantityTypeIdentifierCyclingCadence | CYCLING_CADENCE | cadence | 180 | rpm | none |
| HKQuantityTypeIdentifierCyclingFunctionalThresholdPower | CYCLING_FUNCTIONAL_THRESHOLD_POWER | power | 181 | watts | none |
| HKQuantityTypeIdentifierCyclingPower | CYCLING_POWER | power | 181 | watts | none |
| HKQuantityTypeIdentifierCyclingSpeed | CYCLING_SPEED | speed | 182 | m_per_s | none |
| POWER | ANDROID_POWER | power | 181 | watts | none |
| SPEED | ANDROID_SPEED | speed | 182 | m_per_s | none |
| CYCLING_PEDALING_CADENCE | ANDROID_CYCLING_PEDALING_CADENCE | cadence | 180 | rpm | none |
| TOTAL_CALORIES_BURNED | ANDROID_TOTAL_CALORIES_BURNED | energy | 81 | kcal | none |
| HKQuantityTypeIdentifierCrossCountrySkiingSpeed | CROSS_COUNTRY_SKIING_SPEED | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierPaddleSportsSpeed | PADDLE_SPORTS_SPEED | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierRowingSpeed | ROWING_SPEED | distance_other | 104 | meters | none |
| HKQuantityTypeIdentifierNikeFuel | NIKE_FUEL | distance_other | 104 | meters | none |
`

func TestMetricTableMatchesFactSheet(t *testing.T) {
	rows := vocabMarkdownRows(t, factSheetMetrics)
	if len(rows) != 108 {
		t.Fatalf("fact sheet rows = %d, want 108", len(rows))
	}
	if len(metricTable) != 108 {
		t.Errorf("metric table has %d rows, want 108", len(metricTable))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		sdkType, code, unit := r[0], r[2], r[4]
		id, err := strconv.ParseUint(r[3], 10, 16)
		if err != nil {
			t.Fatalf("row %q: bad id: %v", r, err)
		}
		if seen[sdkType] {
			t.Errorf("fact sheet lists %q twice", sdkType)
		}
		seen[sdkType] = true

		s, ok := MapMetric(sdkType)
		if !ok {
			t.Errorf("MapMetric(%q): not mapped, want %s", sdkType, code)
			continue
		}
		if s.Code != code || s.ID != uint16(id) || s.Unit != unit {
			t.Errorf("MapMetric(%q) = %d %s %s, want %d %s %s", sdkType, s.ID, s.Code, s.Unit, id, code, unit)
		}
		checkConversion(t, sdkType, s, r[5])
	}
}

// checkConversion checks NormalizeValue on a series against the fact sheet's
// description of its conversion.
func checkConversion(t *testing.T, sdkType string, s Series, conversion string) {
	t.Helper()
	const v = 0.5
	providers := []string{"apple", "Apple", "APPLE", "samsung", "google", "Samsung"}
	units := []string{"", "mmol/L", "mg/dL", "%", "m", "count"}
	check := func(provider, unit string, want float64) {
		t.Helper()
		if got := NormalizeValue(provider, s, v, unit); got != want {
			t.Errorf("%s (%s): NormalizeValue(%q, %v, %q) = %v, want %v (conversion %q)",
				sdkType, s.Code, provider, v, unit, got, want, conversion)
		}
	}
	switch {
	case conversion == "none":
		for _, p := range providers {
			for _, u := range units {
				check(p, u, v)
			}
		}
	case strings.HasPrefix(conversion, "×100 (m→cm), all providers"),
		strings.HasPrefix(conversion, "×100 (m→cm)"),
		strings.HasPrefix(conversion, "×100 (fraction→%)"):
		for _, p := range providers {
			for _, u := range units {
				check(p, u, 50)
			}
		}
	case strings.HasPrefix(conversion, `×100 only when provider=="apple"`):
		for _, p := range providers {
			want := v
			if strings.ToLower(p) == "apple" {
				want = 50
			}
			for _, u := range units {
				check(p, u, want)
			}
		}
	case strings.HasPrefix(conversion, `×18.0182 only if record unit lowercased starts with "mmol"`):
		for _, p := range providers {
			for _, u := range units {
				want := v
				if strings.HasPrefix(strings.ToLower(u), "mmol") {
					want = 9.0091
				}
				check(p, u, want)
			}
		}
	default:
		t.Errorf("%s: conversion %q not understood by the test", sdkType, conversion)
	}
}

func TestMetricTableInvariants(t *testing.T) {
	types := map[string]bool{}
	for _, m := range metricTable {
		if types[m.Type] {
			t.Errorf("duplicate SDK type %q", m.Type)
		}
		types[m.Type] = true
		if _, ok := SeriesByCode(m.Series); !ok {
			t.Errorf("%s maps to %q, which is not a series", m.Type, m.Series)
		}
		if strings.TrimSpace(m.Type) != m.Type || m.Type == "" {
			t.Errorf("SDK type %q", m.Type)
		}
	}
	if len(metricSeries) != len(metricTable) {
		t.Errorf("index holds %d types for %d rows", len(metricSeries), len(metricTable))
	}
	all := AllMetrics()
	if len(all) != len(metricTable) {
		t.Fatalf("AllMetrics() has %d rows", len(all))
	}
	all[0].Series = "changed"
	if metricTable[0].Series == "changed" {
		t.Error("changing AllMetrics' result changed the table")
	}
}

func TestMapMetricIsExact(t *testing.T) {
	for _, sdkType := range []string{
		"", "heart_rate", "Heart_Rate", " HEART_RATE", "HEART_RATE ", "hkquantitytypeidentifierheartrate",
		"HKQuantityTypeIdentifierDietaryWater", "HKCategoryTypeIdentifierSleepAnalysis", "BLOOD_PRESSURE",
	} {
		if s, ok := MapMetric(sdkType); ok {
			t.Errorf("MapMetric(%q) = %s, want not mapped", sdkType, s.Code)
		}
	}
}

func TestConversionTable(t *testing.T) {
	// Conversions belong to series: exactly these seven series convert.
	want := map[string]Conversion{
		"height":                            ConvMetersToCentimeters,
		"walking_step_length":               ConvMetersToCentimeters,
		"body_fat_percentage":               ConvAppleFractionToPercent,
		"walking_double_support_percentage": ConvFractionToPercent,
		"walking_asymmetry_percentage":      ConvFractionToPercent,
		"walking_steadiness":                ConvFractionToPercent,
		"blood_glucose":                     ConvMmolToMgdl,
	}
	for _, s := range seriesTable {
		if got := s.Conversion(); got != want[s.Code] {
			t.Errorf("%s: conversion %v, want %v", s.Code, got, want[s.Code])
		}
	}
	if got := (Series{ID: 60000}).Conversion(); got != ConvNone {
		t.Errorf("unknown id: conversion %v", got)
	}
	for c, name := range map[Conversion]string{
		ConvNone: "none", ConvMetersToCentimeters: "m_to_cm", ConvFractionToPercent: "fraction_to_percent",
		ConvAppleFractionToPercent: "apple_fraction_to_percent", ConvMmolToMgdl: "mmol_to_mg_dl", 42: "Conversion(42)",
	} {
		if c.String() != name {
			t.Errorf("Conversion(%d).String() = %q, want %q", uint8(c), c.String(), name)
		}
	}
}

// TestNormalizeValueWorkedValues checks the values Open Wearables' own import
// tests check, from the same request bodies.
func TestNormalizeValueWorkedValues(t *testing.T) {
	cases := []struct {
		name     string
		provider string
		sdkType  string
		value    float64
		unit     string
		want     float64
	}{
		{"apple body fat ratio", "apple", "HKQuantityTypeIdentifierBodyFatPercentage", 0.304, "%", 30.4},
		{"Apple body fat ratio, provider capitalised", "Apple", "HKQuantityTypeIdentifierBodyFatPercentage", 0.304, "%", 30.4},
		{"google body fat percent", "google", "BODY_FAT", 30.4, "%", 30.4},
		{"samsung body fat percent", "samsung", "BODY_FAT", 18.5, "%", 18.5},
		{"apple height m", "apple", "HKQuantityTypeIdentifierHeight", 1.7526, "m", 175.26},
		{"google height m", "google", "HEIGHT", 1.7526, "m", 175.26},
		{"samsung glucose mmol/L", "samsung", "BLOOD_GLUCOSE", 6.111, "mmol/L", 110.1092202},
		{"samsung glucose MMOL/L", "samsung", "BLOOD_GLUCOSE", 6.111, "MMOL/L", 110.1092202},
		{"samsung glucose unit null", "samsung", "BLOOD_GLUCOSE", 6.111, "", 6.111},
		{"samsung glucose unit empty", "samsung", "BLOOD_GLUCOSE", 6.111, "", 6.111},
		{"apple glucose mg/dL", "apple", "HKQuantityTypeIdentifierBloodGlucose", 105, "mg/dL", 105},
		{"apple glucose mmol", "apple", "HKQuantityTypeIdentifierBloodGlucose", 5.5, "mmol/l", 99.1001},
		{"glucose unit not a prefix", "apple", "HKQuantityTypeIdentifierBloodGlucose", 5.5, "x-mmol/L", 5.5},
		{"step length", "apple", "HKQuantityTypeIdentifierWalkingStepLength", 0.72, "m", 72},
		{"walking asymmetry", "apple", "HKQuantityTypeIdentifierWalkingAsymmetryPercentage", 0.057, "%", 5.7},
		{"double support", "apple", "HKQuantityTypeIdentifierWalkingDoubleSupportPercentage", 0.281, "%", 28.1},
		{"steadiness", "apple", "HKQuantityTypeIdentifierAppleWalkingSteadiness", 0.87, "%", 87},
		{"oxygen saturation is not scaled", "apple", "HKQuantityTypeIdentifierOxygenSaturation", 0.97, "%", 0.97},
		{"stride length is not scaled", "apple", "HKQuantityTypeIdentifierRunningStrideLength", 1.1, "m", 1.1},
		{"heart rate", "samsung", "HEART_RATE", 72.5, "bpm", 72.5},
	}
	for _, c := range cases {
		s, ok := MapMetric(c.sdkType)
		if !ok {
			t.Fatalf("%s: %s not mapped", c.name, c.sdkType)
		}
		// The conversion is exact in decimal: the result is the float64
		// nearest to the decimal product, the same as the literal.
		if got := NormalizeValue(c.provider, s, c.value, c.unit); got != c.want {
			t.Errorf("%s: NormalizeValue(%q, %s, %v, %q) = %v, want %v", c.name, c.provider, s.Code, c.value, c.unit, got, c.want)
		}
	}
	// Open Wearables stores three decimals: 110.1092202 reads back as 110.109.
	g, _ := MapMetric("BLOOD_GLUCOSE")
	if got := math.Round(NormalizeValue("samsung", g, 6.111, "mmol/L")*1000) / 1000; got != 110.109 {
		t.Errorf("glucose to three decimals = %v, want 110.109", got)
	}
}

func TestNormalizeValueNonFinite(t *testing.T) {
	h, _ := SeriesByCode("height")
	if got := NormalizeValue("apple", h, math.Inf(1), ""); !math.IsInf(got, 1) {
		t.Errorf("+Inf → %v", got)
	}
	if got := NormalizeValue("apple", h, math.NaN(), ""); !math.IsNaN(got) {
		t.Errorf("NaN → %v", got)
	}
	if got := NormalizeValue("apple", h, 1e300, ""); got != 1e302 {
		t.Errorf("1e300 → %v", got)
	}
	if got := NormalizeValue("apple", h, -0.25, ""); got != -25 {
		t.Errorf("-0.25 → %v", got)
	}
}

// Mapping and normalizing a record runs for every stored point: it must not
// allocate for a series without a conversion.
func TestMapMetricAllocations(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		s, _ := MapMetric("HKQuantityTypeIdentifierHeartRate")
		_ = NormalizeValue("apple", s, 72, "count/min")
	})
	if allocs != 0 {
		t.Errorf("MapMetric + NormalizeValue allocate %v times, want 0", allocs)
	}
}

func BenchmarkMapMetricNormalize(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s, _ := MapMetric("HKQuantityTypeIdentifierStepCount")
		_ = NormalizeValue("apple", s, 42, "count")
	}
}

func BenchmarkNormalizeGlucose(b *testing.B) {
	s, _ := MapMetric("BLOOD_GLUCOSE")
	b.ReportAllocs()
	for b.Loop() {
		_ = NormalizeValue("samsung", s, 6.111, "mmol/L")
	}
}
