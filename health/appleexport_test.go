package health

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestExportUnit(t *testing.T) {
	const hk = "HKQuantityTypeIdentifier"
	cases := []struct {
		typ, unit string
		in        float64
		want      float64
		wantUnit  string
		ok        bool
	}{
		{hk + "HeartRate", "count/min", 72, 72, "bpm", true},
		{hk + "RestingHeartRate", "count/min", 55.5, 55.5, "bpm", true},
		{hk + "RespiratoryRate", "count/min", 14, 14, "breaths/min", true},
		{hk + "StepCount", "count", 66, 66, "count", true},
		{hk + "DistanceWalkingRunning", "km", 1.234, 1234, "m", true},
		{hk + "DistanceWalkingRunning", "mi", 1, 1609.344, "m", true},
		{hk + "DistanceWalkingRunning", "mi", 0.1, 160.9344, "m", true},
		{hk + "DistanceSwimming", "yd", 25, 22.86, "m", true},
		{hk + "BodyMass", "lb", 150, 68.0388555, "kg", true},
		{hk + "BodyMass", "st", 10, 63.5029318, "kg", true},
		{hk + "BodyMass", "kg", 72.3, 72.3, "kg", true},
		{hk + "LeanBodyMass", "g", 55000, 55, "kg", true},
		{hk + "Height", "ft", 5.75, 1.7526, "m", true},
		{hk + "Height", "in", 70, 1.778, "m", true},
		{hk + "Height", "cm", 175, 1.75, "m", true},
		{hk + "WaistCircumference", "in", 32, 0.8128, "m", true},
		{hk + "WalkingStepLength", "cm", 72, 0.72, "m", true},
		{hk + "ActiveEnergyBurned", "kcal", 0.345, 0.345, "Cal", true},
		{hk + "ActiveEnergyBurned", "Cal", 12, 12, "Cal", true},
		{hk + "BasalEnergyBurned", "kJ", 4184, 1000, "Cal", true},
		{hk + "BasalEnergyBurned", "kJ", 100, 100 / 4.184, "Cal", true},
		{hk + "BodyTemperature", "degF", 98.6, 37, "degC", true},
		{hk + "BodyTemperature", "degC", 36.6, 36.6, "degC", true},
		{hk + "AppleSleepingWristTemperature", "degF", 32, 0, "degC", true},
		{hk + "BloodGlucose", "mg/dL", 99, 99, "mg/dL", true},
		{hk + "BloodGlucose", "mmol<180.15588000005408>/L", 5.5, 99.085734000029744, "mg/dL", true},
		{hk + "BloodGlucose", "mmol<180>/L", 5, 90, "mg/dL", true},
		{hk + "BloodGlucose", "mmol/L", 6.111, 110.1092202, "mg/dL", true},
		{hk + "WalkingSpeed", "km/hr", 5, 25.0 / 18, "m/s", true},
		{hk + "WalkingSpeed", "mi/hr", 3, 1.34112, "m/s", true},
		{hk + "WalkingSpeed", "m/s", 1.2, 1.2, "m/s", true},
		{hk + "OxygenSaturation", "%", 0.97, 97, "%", true},
		{hk + "OxygenSaturation", "%", 0.955, 95.5, "%", true},
		{hk + "BodyFatPercentage", "%", 0.25, 0.25, "%", true},
		{hk + "WalkingAsymmetryPercentage", "%", 0.031, 0.031, "%", true},
		{hk + "VO2Max", "mL/min·kg", 45.2, 45.2, "mL/kg/min", true},
		{hk + "BodyMassIndex", "count", 22.5, 22.5, "kg/m²", true},
		{hk + "HeartRateVariabilitySDNN", "ms", 45.5, 45.5, "ms", true},
		{hk + "RunningGroundContactTime", "ms", 251, 251, "ms", true},
		{hk + "RunningVerticalOscillation", "cm", 9.2, 9.2, "cm", true},
		{hk + "DietaryWater", "mL", 500, 0.5, "L", true},
		{hk + "DietaryWater", "fl_oz_us", 8, 0.2365882365, "L", true},
		{hk + "DietaryEnergyConsumed", "kcal", 550, 550, "Cal", true},
		{hk + "AppleExerciseTime", "min", 3, 3, "min", true},
		{hk + "AppleStandTime", "s", 90, 1.5, "min", true},
		{hk + "BloodPressureSystolic", "mmHg", 120, 120, "mmHg", true},
		{hk + "InsulinDelivery", "IU", 4.5, 4.5, "IU", true},
		{hk + "DistanceCycling", "km", -0.5, -500, "m", true},
		// Not converted: the value comes back as written.
		{hk + "DistanceWalkingRunning", "furlong", 2, 2, "furlong", false},
		{hk + "HeartRate", "kg", 72, 72, "kg", false},
		{hk + "BodyTemperature", "degC2", 36, 36, "degC2", false},
		{hk + "DietaryCaffeine", "mg", 95, 95, "mg", false},
		{"HKQuantityTypeIdentifierSomethingNew", "count", 3, 3, "count", false},
	}
	for _, c := range cases {
		got, unit, ok := ExportUnit(c.typ, c.unit, c.in)
		if got != c.want || unit != c.wantUnit || ok != c.ok {
			t.Errorf("ExportUnit(%s, %q, %v) = %v %q %v; want %v %q %v", c.typ, c.unit, c.in, got, unit, ok, c.want, c.wantUnit, c.ok)
		}
	}
}

// TestExportUnitTargetsAreSeries checks that every record type of the table
// is one the sync path maps to a series, and that the SDK's unit of each
// converts to itself: the table names no unit the converter lacks.
func TestExportUnitTargetsAreSeries(t *testing.T) {
	for _, row := range exportTargetTable {
		if _, ok := MapMetric(row.Type); !ok && !strings.HasPrefix(row.Type, "HKQuantityTypeIdentifierDietary") {
			t.Errorf("%s: not a metric of the sync path", row.Type)
		}
		if u, ok := ExportRecordUnit(row.Type); !ok || u != row.Target.Label {
			t.Errorf("ExportRecordUnit(%s) = %q %v", row.Type, u, ok)
		}
		if _, ok := ExportConvert(1, row.Target.Unit, row.Target.Unit); !ok {
			t.Errorf("%s: unit %q unknown to the converter", row.Type, row.Target.Unit)
		}
	}
}

func TestExportRecordUnit(t *testing.T) {
	if u, ok := ExportRecordUnit("HKQuantityTypeIdentifierHeartRate"); u != "bpm" || !ok {
		t.Errorf("heart rate: %q %v", u, ok)
	}
	if u, ok := ExportRecordUnit("HKQuantityTypeIdentifierDietaryCaffeine"); u != "" || ok {
		t.Errorf("caffeine: %q %v", u, ok)
	}
}

// TestExportConvertExact checks that the fast path gives what the exact
// product rounded once gives (scaleDecimal, the sync path's conversion),
// for decimal factors and fractions, over values of every magnitude.
func TestExportConvertExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	factors := []struct{ from, to, factor string }{
		{"mi", "m", "1609.344"}, {"lb", "kg", "0.45359237"}, {"km", "m", "1000"}, {"cm", "m", "0.01"},
		{"mmol<180.15588000005408>/L", "mg/dL", "18.015588000005408"}, {"oz", "kg", "0.028349523125"},
		{"km/hr", "m/s", "5/18"}, {"kJ", "kcal", "1000/4184"}, {"J", "kcal", "1/4184"}, {"in", "cm", "2.54"},
	}
	for i := 0; i < 20000; i++ {
		f := factors[i%len(factors)]
		var v float64
		switch i % 3 {
		case 0: // a value as the export writes it: a few decimals
			v, _ = strconv.ParseFloat(strconv.FormatFloat(rng.Float64()*1000, 'f', rng.IntN(6), 64), 64)
		case 1:
			v = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10))
		default:
			v = math.Float64frombits(rng.Uint64())
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
		}
		got, ok := ExportConvert(v, f.from, f.to)
		if want := scaleDecimal(v, f.factor); !ok || got != want {
			t.Fatalf("ExportConvert(%v, %s, %s) = %v %v; want %v", v, f.from, f.to, got, ok, want)
		}
	}
}

func TestExportWorkoutType(t *testing.T) {
	cases := []struct{ in, want string }{
		{"HKWorkoutActivityTypeRunning", "running"},
		{"HKWorkoutActivityTypeTraditionalStrengthTraining", "strength_training"},
		{"HKWorkoutActivityTypeFunctionalStrengthTraining", "functional_strength_training"},
		{"HKWorkoutActivityTypeHighIntensityIntervalTraining", "hiit"},
		{"HKWorkoutActivityTypeWheelchairRunPace", "wheelchair_run"},
		{"HKWorkoutActivityTypeSurfingSports", "surfing"},
		{"HKWorkoutActivityTypeEquestrianSports", "equestrian"},
		{"HKWorkoutActivityTypeSkatingSports", "skating"},
		{"HKWorkoutActivityTypeDownhillSkiing", "downhill_skiing"},
		{"HKWorkoutActivityTypeOther", "other"},
		// Not in the table: the name, snake_cased.
		{"HKWorkoutActivityTypeUnderwaterHockey", "underwater_hockey"},
		{"HKWorkoutActivityTypeHIITBoxing", "hiit_boxing"},
		{"HKWorkoutActivityType3000", "3000"},
		{"SomethingElse", "something_else"},
		{"", ""},
	}
	for _, c := range cases {
		if got := ExportWorkoutType(c.in); got != c.want {
			t.Errorf("ExportWorkoutType(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	// Every SDK name of the table is one the sync path knows.
	for _, w := range exportWorkoutTypeTable {
		if got := WorkoutType(w.SDK); got == WorkoutTypeOther && w.SDK != "other" {
			t.Errorf("%s: SDK name %q has no unified type", w.HK, w.SDK)
		}
	}
}

func TestExportSleepStage(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"HKCategoryValueSleepAnalysisInBed", "in_bed", true},
		{"HKCategoryValueSleepAnalysisAsleepUnspecified", "sleeping", true},
		{"HKCategoryValueSleepAnalysisAsleep", "sleeping", true},
		{"HKCategoryValueSleepAnalysisAwake", "awake", true},
		{"HKCategoryValueSleepAnalysisAsleepCore", "light", true},
		{"HKCategoryValueSleepAnalysisAsleepDeep", "deep", true},
		{"HKCategoryValueSleepAnalysisAsleepREM", "rem", true},
		{"4", "deep", true},
		{"HKCategoryValueSleepAnalysisNapping", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		st, ok := ExportSleepStage(c.in)
		if ok != c.ok || ok && st.String() != c.want {
			t.Errorf("ExportSleepStage(%q) = %v %v; want %q %v", c.in, st, ok, c.want, c.ok)
		}
	}
}

func TestExportCategoryValue(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"HKCategoryValueNotApplicable", 0, true},
		{"HKCategoryValueMenstrualFlowUnspecified", 1, true},
		{"HKCategoryValueMenstrualFlowLight", 2, true},
		{"HKCategoryValueMenstrualFlowHeavy", 4, true},
		{"HKCategoryValueMenstrualFlowNone", 5, true},
		{"HKCategoryValueCervicalMucusQualityEggWhite", 5, true},
		{"HKCategoryValueOvulationTestResultNegative", 1, true},
		{"HKCategoryValueOvulationTestResultLuteinizingHormoneSurge", 2, true},
		{"HKCategoryValueOvulationTestResultPositive", 2, true},
		{"HKCategoryValueOvulationTestResultEstrogenSurge", 4, true},
		{"HKCategoryValueAppleStandHourIdle", 1, true},
		{"HKCategoryValueSeverityModerate", 3, true},
		{"HKCategoryValuePresenceNotPresent", 1, true},
		{"HKCategoryValueContraceptiveOral", 6, true},
		{"3", 3, true},
		{"HKCategoryValueMenstrualFlowTorrential", 0, false},
		{"-1", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, ok := ExportCategoryValue(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ExportCategoryValue(%q) = %d %v; want %d %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestExportWorkoutStatistic(t *testing.T) {
	hr := ExportWorkoutStatistic("HKQuantityTypeIdentifierHeartRate")
	want := []ExportStat{
		{ExportMinimum, "minHeartRate", "bpm", 0},
		{ExportAverage, "averageHeartRate", "bpm", 0},
		{ExportMaximum, "maxHeartRate", "bpm", 0},
	}
	if len(hr) != len(want) {
		t.Fatalf("heart rate gives %v", hr)
	}
	for i := range want {
		if hr[i] != want[i] {
			t.Errorf("heart rate stat %d = %+v; want %+v", i, hr[i], want[i])
		}
	}
	hr[0].Type = "changed" // a copy
	if ExportWorkoutStatistic("HKQuantityTypeIdentifierHeartRate")[0].Type != "minHeartRate" {
		t.Fatal("the table was changed through the returned slice")
	}
	rows := []struct {
		typ  string
		want ExportStat
	}{
		{"HKQuantityTypeIdentifierActiveEnergyBurned", ExportStat{ExportSum, "activeEnergyBurned", "kcal", 0}},
		{"HKQuantityTypeIdentifierBasalEnergyBurned", ExportStat{ExportSum, "basalEnergyBurned", "kcal", 0}},
		{"HKQuantityTypeIdentifierDistanceWalkingRunning", ExportStat{ExportSum, "distance", "m", 0}},
		{"HKQuantityTypeIdentifierDistanceCycling", ExportStat{ExportSum, "distance", "m", 1}},
		{"HKQuantityTypeIdentifierDistanceSwimming", ExportStat{ExportSum, "distance", "m", 2}},
		{"HKQuantityTypeIdentifierDistanceDownhillSnowSports", ExportStat{ExportSum, "distance", "m", 3}},
		{"HKQuantityTypeIdentifierStepCount", ExportStat{ExportSum, "stepCount", "count", 0}},
		{"HKQuantityTypeIdentifierSwimmingStrokeCount", ExportStat{ExportSum, "swimmingStrokeCount", "count", 0}},
		{"HKQuantityTypeIdentifierRunningPower", ExportStat{ExportAverage, "averageRunningPower", "W", 0}},
		{"HKQuantityTypeIdentifierRunningSpeed", ExportStat{ExportAverage, "averageRunningSpeed", "m/s", 0}},
		{"HKQuantityTypeIdentifierRunningStrideLength", ExportStat{ExportAverage, "averageRunningStrideLength", "m", 0}},
		{"HKQuantityTypeIdentifierRunningVerticalOscillation", ExportStat{ExportAverage, "averageVerticalOscillation", "cm", 0}},
		{"HKQuantityTypeIdentifierRunningGroundContactTime", ExportStat{ExportAverage, "averageGroundContactTime", "ms", 0}},
	}
	for _, r := range rows {
		got := ExportWorkoutStatistic(r.typ)
		if len(got) != 1 || got[0] != r.want {
			t.Errorf("ExportWorkoutStatistic(%s) = %+v; want %+v", r.typ, got, r.want)
		}
		// Its unit is the one ExportUnit gives the quantity type (energy
		// aside: "Cal" and "kcal" are one unit).
		if _, unit, ok := ExportUnit(r.typ, r.want.Unit, 1); !ok || unit != r.want.Unit && unit != "Cal" {
			t.Errorf("%s: ExportUnit gives %q %v for the statistic's unit %q", r.typ, unit, ok, r.want.Unit)
		}
		if WorkoutStatistic(r.want.Type).Kind == StatIgnored {
			t.Errorf("%s: the sync path ignores the statistic %q", r.typ, r.want.Type)
		}
	}
	if got := ExportWorkoutStatistic("HKQuantityTypeIdentifierFlightsClimbed"); got != nil {
		t.Errorf("flights climbed gives %v", got)
	}
}

func TestExportWorkoutMetadata(t *testing.T) {
	cases := []struct {
		key, value string
		typ, unit  string
		want       float64
		ok         bool
	}{
		{"HKElevationAscended", "1234 cm", "elevationAscended", "m", 12.34, true},
		{"HKElevationDescended", "45 ft", "elevationDescended", "m", 13.716, true},
		{"HKAverageSpeed", "3.6 km/hr", "averageSpeed", "m/s", 1, true},
		{"HKMaximumSpeed", "4.1 m/s", "maxSpeed", "m/s", 4.1, true},
		{"HKAverageMETs", "6.1 kcal/hr·kg", "averageMETs", "kcal/kg/hr", 6.1, true},
		{"HKLapLength", "25 yd", "lapLength", "m", 22.86, true},
		{"HKSwimmingLocationType", "1", "swimmingLocationType", "enum", 1, true},
		{"HKIndoorWorkout", "1", "indoorWorkout", "bool", 1, true},
		{"HKIndoorWorkout", "0", "indoorWorkout", "bool", 0, true},
		{"HKWeatherTemperature", "52.3 degF", "weatherTemperature", "degC", 101.5 / 9, true},
		{"HKWeatherTemperature", "11.19 degC", "weatherTemperature", "degC", 11.19, true},
		{"HKWeatherHumidity", "6600 %", "weatherHumidity", "%", 66, true},
		{"HKWeatherHumidity", "6650 %", "weatherHumidity", "%", 66.5, true},
		// Not statistics, or not readable.
		{"HKIndoorWorkout", "0.5", "", "", 0, false},
		{"HKElevationAscended", "1234 parsecs", "", "", 0, false},
		{"HKElevationAscended", "high", "", "", 0, false},
		{"HKWeatherHumidity", "66", "", "", 0, false},
		{"HKTimeZone", "Europe/Paris", "", "", 0, false},
	}
	for _, c := range cases {
		typ, unit, v, ok := ExportWorkoutMetadata(c.key, c.value)
		if typ != c.typ || unit != c.unit || v != c.want || ok != c.ok {
			t.Errorf("ExportWorkoutMetadata(%s, %q) = %q %q %v %v; want %q %q %v %v",
				c.key, c.value, typ, unit, v, ok, c.typ, c.unit, c.want, c.ok)
		}
	}
}

func BenchmarkExportUnit(b *testing.B) {
	for _, c := range []struct{ name, typ, unit string }{
		{"identity", "HKQuantityTypeIdentifierHeartRate", "count/min"},
		{"decimal", "HKQuantityTypeIdentifierDistanceWalkingRunning", "mi"},
		{"fraction", "HKQuantityTypeIdentifierWalkingSpeed", "km/hr"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				ExportUnit(c.typ, c.unit, 0.0123+float64(i%100))
			}
		})
	}
}
