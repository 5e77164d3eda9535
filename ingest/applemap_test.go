package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"wearhouse/applehealth"
	"wearhouse/codec"
	"wearhouse/health"
)

const (
	watchDevice = "<<HKDevice: 0x283a4c780>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:9.1>"
	phoneDevice = "<<HKDevice: 0x281f7d130>, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone10,5, software:15.4.1>"
)

func hkRecord(typ, unit, value string) *applehealth.Record {
	return &applehealth.Record{
		Type: typ, SourceName: "Anna’s Apple Watch", SourceVersion: "9.1", Device: watchDevice, Unit: unit,
		StartDate: "2024-01-01 08:00:00 +0100", EndDate: "2024-01-01 08:01:00 +0100", Value: value,
	}
}

func mapItems(t *testing.T, m *appleMapper, items ...applehealth.Item) *appleChunk {
	t.Helper()
	c := &appleChunk{}
	for _, it := range items {
		m.add(it, c)
	}
	return c
}

func TestAppleMapRecords(t *testing.T) {
	start := time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC)
	hrv := hkRecord("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "ms", "45.5")
	hrv.HRV = []applehealth.InstantaneousBPM{{BPM: "72", Time: "8:00:01.02 AM"}, {BPM: "74", Time: "8:00:01.84 AM"}}
	hr := hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "72")
	hr.Metadata = []applehealth.Metadata{{Key: "HKMetadataKeyHeartRateMotionContext", Value: "0"}, {Key: "q\"", Value: "a\nb"}}
	cases := []struct {
		name     string
		in       *applehealth.Record
		typ      string
		value    float64
		unit     string
		metadata string
	}{
		{"heart rate", hr, "HKQuantityTypeIdentifierHeartRate", 72, "bpm",
			`{"HKMetadataKeyHeartRateMotionContext":"0","q\"":"a\nb"}`},
		{"pounds", hkRecord("HKQuantityTypeIdentifierBodyMass", "lb", "150"), "HKQuantityTypeIdentifierBodyMass", 68.0388555, "kg", ""},
		{"miles", hkRecord("HKQuantityTypeIdentifierDistanceWalkingRunning", "mi", "0.1"), "HKQuantityTypeIdentifierDistanceWalkingRunning", 160.9344, "m", ""},
		{"energy", hkRecord("HKQuantityTypeIdentifierActiveEnergyBurned", "kcal", "0.345"), "HKQuantityTypeIdentifierActiveEnergyBurned", 0.345, "Cal", ""},
		{"spo2", hkRecord("HKQuantityTypeIdentifierOxygenSaturation", "%", "0.97"), "HKQuantityTypeIdentifierOxygenSaturation", 97, "%", ""},
		{"glucose", hkRecord("HKQuantityTypeIdentifierBloodGlucose", "mmol<180.15588000005408>/L", "5.5"), "HKQuantityTypeIdentifierBloodGlucose", 99.085734000029744, "mg/dL", ""},
		{"temperature", hkRecord("HKQuantityTypeIdentifierBodyTemperature", "degF", "98.6"), "HKQuantityTypeIdentifierBodyTemperature", 37, "degC", ""},
		{"hrv beats", hrv, "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", 45.5, "ms",
			`{"beats":[{"bpm":72,"time":"8:00:01.02 AM"},{"bpm":74,"time":"8:00:01.84 AM"}]}`},
		{"menstrual flow", hkRecord("HKCategoryTypeIdentifierMenstrualFlow", "", "HKCategoryValueMenstrualFlowLight"), "HKCategoryTypeIdentifierMenstrualFlow", 2, "", ""},
		{"mindful", hkRecord("HKCategoryTypeIdentifierMindfulSession", "", "HKCategoryValueNotApplicable"), "HKCategoryTypeIdentifierMindfulSession", 0, "", ""},
		{"unknown type", hkRecord("HKQuantityTypeIdentifierDietaryCaffeine", "mg", "95"), "HKQuantityTypeIdentifierDietaryCaffeine", 95, "mg", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newAppleMapper(nil)
			c := mapItems(t, m, tc.in)
			if len(c.records) != 1 || m.counts.Records != 1 || len(m.counts.Dropped) != 0 || m.counts.Unmapped != 0 {
				t.Fatalf("records %d, counts %+v", len(c.records), m.counts)
			}
			r := c.records[0]
			if r.Type != tc.typ || r.ValueRaw != tc.value || r.Unit != tc.unit {
				t.Errorf("got %s %v %q; want %s %v %q", r.Type, r.ValueRaw, r.Unit, tc.typ, tc.value, tc.unit)
			}
			if got := r.StartRaw.(time.Time); !got.Equal(start) || !r.EndRaw.(time.Time).Equal(start.Add(time.Minute)) || r.ZoneRaw != "+01:00" {
				t.Errorf("dates %v %v zone %v", r.StartRaw, r.EndRaw, r.ZoneRaw)
			}
			if string(r.Metadata) != tc.metadata {
				t.Errorf("metadata %s; want %s", r.Metadata, tc.metadata)
			}
			if tc.metadata != "" && !json.Valid(r.Metadata) {
				t.Errorf("metadata is not JSON: %s", r.Metadata)
			}
			want := codec.Source{Name: "Anna’s Apple Watch", Version: "9.1", DeviceModel: "Watch", ProductType: "Watch6,2",
				DeviceHardwareVersion: "Watch6,2", DeviceManufacturer: "Apple Inc.", DeviceName: "Apple Watch", DeviceSoftwareVersion: "9.1"}
			if r.Source == nil || !reflect.DeepEqual(*r.Source, want) {
				t.Errorf("source %+v; want %+v", r.Source, want)
			}
		})
	}
}

func TestAppleMapRecordsDropped(t *testing.T) {
	badStart := hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "72")
	badStart.StartDate = "2024-01-01T08:00:00Z"
	badEnd := hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "72")
	badEnd.EndDate = ""
	badSleep := hkRecord(sleepAnalysis, "", "HKCategoryValueSleepAnalysisAsleepDeep")
	badSleep.StartDate = "yesterday"
	m := newAppleMapper(nil)
	c := mapItems(t, m,
		badStart, badEnd, badSleep,
		hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "seventy"),
		hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "NaN"),
		hkRecord("HKCategoryTypeIdentifierMenstrualFlow", "", "HKCategoryValueMenstrualFlowTorrential"),
		&applehealth.ActivitySummary{DateComponents: "2024-13-01", AppleStandHours: "12"},
		// Kept as written, counted as unmapped.
		hkRecord("HKQuantityTypeIdentifierDistanceWalkingRunning", "furlong", "2"),
	)
	want := map[string]int64{"bad startDate": 2, "bad endDate": 1, "bad value": 2, "unknown category value": 1, "bad dateComponents": 1}
	if !reflect.DeepEqual(m.counts.Dropped, want) {
		t.Errorf("dropped %v; want %v", m.counts.Dropped, want)
	}
	if c.items() != 1 || c.records[0].Unit != "furlong" || c.records[0].ValueRaw != 2.0 || m.counts.Unmapped != 1 {
		t.Errorf("kept %d items (%+v), unmapped %d", c.items(), c.records, m.counts.Unmapped)
	}
}

func TestAppleMapSleep(t *testing.T) {
	deep := hkRecord(sleepAnalysis, "", "HKCategoryValueSleepAnalysisAsleepDeep")
	deep.Device = phoneDevice
	odd := hkRecord(sleepAnalysis, "", "HKCategoryValueSleepAnalysisNapping")
	m := newAppleMapper(nil)
	c := mapItems(t, m, deep, odd)
	if len(c.sleep) != 2 || len(c.records) != 0 || m.counts.Sleep != 2 || m.counts.Unmapped != 1 {
		t.Fatalf("sleep %d records %d counts %+v", len(c.sleep), len(c.records), m.counts)
	}
	s := c.sleep[0]
	if s.Stage != "deep" || c.sleep[1].Stage != "unknown" || s.ZoneRaw != "+01:00" || s.Metadata != nil || s.Values != nil {
		t.Errorf("stages %q %q zone %v", s.Stage, c.sleep[1].Stage, s.ZoneRaw)
	}
	if s.Source.DeviceModel != "iPhone" || s.Source.ProductType != "iPhone10,5" || s.Source.DeviceSoftwareVersion != "15.4.1" {
		t.Errorf("source %+v", s.Source)
	}
}

func TestAppleMapWorkout(t *testing.T) {
	w := &applehealth.Workout{
		ActivityType: "HKWorkoutActivityTypeTraditionalStrengthTraining", Duration: "30.5", DurationUnit: "min",
		SourceName: "Anna’s Apple Watch", SourceVersion: "10.3.1", Device: watchDevice,
		StartDate: "2025-03-25 18:27:00 +0100", EndDate: "2025-03-25 18:58:00 +0100",
		Metadata: []applehealth.Metadata{
			{Key: "HKIndoorWorkout", Value: "0"}, {Key: "HKElevationAscended", Value: "1557 cm"},
			{Key: "HKWeatherTemperature", Value: "52.3 degF"}, {Key: "HKWeatherHumidity", Value: "6600 %"},
			{Key: "HKAverageMETs", Value: "6.1 kcal/hr·kg"}, {Key: "HKTimeZone", Value: "Europe/Paris"},
		},
		Events: []applehealth.WorkoutEvent{
			{Type: "HKWorkoutEventTypeLap", Date: "2025-03-25 18:27:00 +0100", Duration: "10", DurationUnit: "min"},
			{Type: "HKWorkoutEventTypePause", Date: "2025-03-25 18:40:00 +0100"},
			{Type: "HKWorkoutEventTypeMotionResumed", Date: "2025-03-25 18:41:00 +0100"},
			{Type: "HKWorkoutEventTypeSegment", Date: "2025-03-25 18:45:00 +0100", Duration: "90", DurationUnit: "s"},
		},
		Statistics: []applehealth.WorkoutStatistics{
			{Type: "HKQuantityTypeIdentifierDistanceCycling", Sum: "1", Unit: "km"},
			{Type: "HKQuantityTypeIdentifierHeartRate", Average: "121.49", Minimum: "77", Maximum: "141", Unit: "count/min"},
			{Type: "HKQuantityTypeIdentifierActiveEnergyBurned", Sum: "550", Unit: "kJ"},
			{Type: "HKQuantityTypeIdentifierDistanceWalkingRunning", Sum: "2.16535", Unit: "km"},
			{Type: "HKQuantityTypeIdentifierFlightsClimbed", Sum: "3", Unit: "count"},
			{Type: "HKQuantityTypeIdentifierBasalEnergyBurned", Sum: "48.59", Unit: "kcal"},
		},
		Routes: []applehealth.WorkoutRoute{{FilePath: "/workout-routes/route_2025-03-25_6.58pm.gpx"}},
	}
	t0 := time.Date(2025, 3, 25, 17, 27, 0, 0, time.UTC)
	var opened string
	m := newAppleMapper(func(path string) ([]applehealth.RoutePoint, error) {
		opened = path
		nan := math.NaN()
		return []applehealth.RoutePoint{
			{Time: t0, Latitude: 48.8566, Longitude: 2.3522, Elevation: 35.2, Speed: 1.5, Course: 90, HorizontalAccuracy: 3, VerticalAccuracy: nan},
			{Time: t0.Add(time.Second), Latitude: nan, Longitude: 2.3523, Elevation: 35.3, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan},
			{Time: t0.Add(2 * time.Second), Latitude: 48.8567, Longitude: 2.3524, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan},
		}, nil
	})
	c := mapItems(t, m, w)
	if len(c.workouts) != 1 || m.counts.Workouts != 1 || m.counts.Routes != 1 || len(m.counts.Dropped) != 0 {
		t.Fatalf("workouts %d counts %+v", len(c.workouts), m.counts)
	}
	got := c.workouts[0]
	if got.Type != "strength_training" || !got.StartRaw.(time.Time).Equal(t0) || got.ZoneRaw != "+01:00" || got.Source.DeviceModel != "Watch" {
		t.Errorf("workout %q %v %v %+v", got.Type, got.StartRaw, got.ZoneRaw, got.Source)
	}
	wantStats := []codec.WorkoutStatistic{
		{Type: "duration", Unit: "s", ValueRaw: 1830.0},
		{Type: "activeEnergyBurned", Unit: "kcal", ValueRaw: 550 / 4.184},
		{Type: "basalEnergyBurned", Unit: "kcal", ValueRaw: 48.59},
		{Type: "distance", Unit: "m", ValueRaw: 2165.35},
		{Type: "minHeartRate", Unit: "bpm", ValueRaw: 77.0},
		{Type: "averageHeartRate", Unit: "bpm", ValueRaw: 121.49},
		{Type: "maxHeartRate", Unit: "bpm", ValueRaw: 141.0},
		{Type: "elevationAscended", Unit: "m", ValueRaw: 15.57},
		{Type: "averageMETs", Unit: "kcal/kg/hr", ValueRaw: 6.1},
		{Type: "indoorWorkout", Unit: "bool", ValueRaw: 0.0},
		{Type: "weatherTemperature", Unit: "degC", ValueRaw: 101.5 / 9},
		{Type: "weatherHumidity", Unit: "%", ValueRaw: 66.0},
	}
	if !reflect.DeepEqual(got.Values, wantStats) {
		t.Errorf("values\n%+v\nwant\n%+v", got.Values, wantStats)
	}
	var md map[string]string
	if err := json.Unmarshal(got.Metadata, &md); err != nil || md["HKTimeZone"] != "Europe/Paris" || md["HKWeatherHumidity"] != "6600 %" {
		t.Errorf("metadata %s: %v", got.Metadata, err)
	}
	if want := `[{"type":"lap","startDate":"2025-03-25T17:27:00Z","endDate":"2025-03-25T17:37:00Z"}]`; string(got.Laps) != want {
		t.Errorf("laps %s\nwant %s", got.Laps, want)
	}
	wantSeg := `[{"type":"pause","startDate":"2025-03-25T17:40:00Z","endDate":"2025-03-25T17:40:00Z"},` +
		`{"type":"motion_resumed","startDate":"2025-03-25T17:41:00Z","endDate":"2025-03-25T17:41:00Z"},` +
		`{"type":"segment","startDate":"2025-03-25T17:45:00Z","endDate":"2025-03-25T17:46:30Z"}]`
	if string(got.Segments) != wantSeg {
		t.Errorf("segments %s\nwant %s", got.Segments, wantSeg)
	}
	if opened != "/workout-routes/route_2025-03-25_6.58pm.gpx" {
		t.Errorf("opened %q", opened)
	}
	wantRoute := `[{"timestamp":"2025-03-25T17:27:00Z","latitude":48.8566,"longitude":2.3522,"altitudeM":35.2,"speed":1.5,"course":90,"horizontalAccuracy":3},` +
		`{"timestamp":"2025-03-25T17:27:02Z","latitude":48.8567,"longitude":2.3524}]`
	if string(got.Route) != wantRoute {
		t.Errorf("route %s\nwant %s", got.Route, wantRoute)
	}
}

func TestAppleMapOldWorkoutAndRoutes(t *testing.T) {
	old := func() *applehealth.Workout {
		return &applehealth.Workout{
			ActivityType: "HKWorkoutActivityTypeUnderwaterHockey", Duration: "45", DurationUnit: "min",
			TotalDistance: "3.1", TotalDistanceUnit: "mi", TotalEnergyBurned: "1000", TotalEnergyBurnedUnit: "kJ",
			StartDate: "2016-05-01 07:00:00 -0400", EndDate: "2016-05-01 07:45:00 -0400",
			Routes: []applehealth.WorkoutRoute{{SourceName: "no file"}, {FilePath: "/workout-routes/r.gpx"}},
		}
	}
	m := newAppleMapper(nil)
	c := mapItems(t, m, old())
	w := c.workouts[0]
	want := []codec.WorkoutStatistic{
		{Type: "duration", Unit: "s", ValueRaw: 2700.0},
		{Type: "activeEnergyBurned", Unit: "kcal", ValueRaw: 1000 / 4.184},
		{Type: "distance", Unit: "m", ValueRaw: 4988.9664},
	}
	if w.Type != "underwater_hockey" || w.ZoneRaw != "-04:00" || !reflect.DeepEqual(w.Values, want) || w.Route != nil {
		t.Errorf("workout %q %v %+v route %s", w.Type, w.ZoneRaw, w.Values, w.Route)
	}
	if m.counts.Routes != 0 || m.counts.Dropped[partRoute+"the export has no route files (a bare export.xml)"] != 1 {
		t.Errorf("counts %+v", m.counts)
	}

	m = newAppleMapper(func(string) ([]applehealth.RoutePoint, error) { return nil, errors.New("route: bad GPX") })
	mapItems(t, m, old(), old())
	m2 := newAppleMapper(func(string) ([]applehealth.RoutePoint, error) { return nil, nil })
	c = mapItems(t, m2, old())
	if m.counts.Dropped[partRoute+"its file cannot be read"] != 2 || m.counts.Workouts != 2 || m2.counts.Dropped[partRoute+"its file has no points"] != 1 || c.workouts[0].Route != nil {
		t.Errorf("counts %+v, %+v", m.counts, m2.counts)
	}
}

func TestAppleMapSummary(t *testing.T) {
	m := newAppleMapper(nil)
	c := mapItems(t, m,
		&applehealth.ActivitySummary{
			DateComponents: "2024-02-29", ActiveEnergyBurned: "2092", ActiveEnergyBurnedGoal: "2500", ActiveEnergyBurnedUnit: "kJ",
			AppleExerciseTime: "34", AppleExerciseTimeGoal: "30", AppleStandHours: "11", AppleStandHoursGoal: "12",
		},
		&applehealth.HealthData{Locale: "en_US"}, &applehealth.Me{BiologicalSex: "HKBiologicalSexFemale"},
		&applehealth.ExportDate{Value: "2024-03-01 10:00:00 +0100"},
	)
	if m.counts.Summaries != 1 || m.counts.Records != 0 || len(c.records) != 6 {
		t.Fatalf("counts %+v, records %d", m.counts, len(c.records))
	}
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	want := []struct {
		typ, unit string
		v         float64
	}{
		{"HKActivitySummaryActiveEnergyBurned", "kcal", 500},
		{"HKActivitySummaryActiveEnergyBurnedGoal", "kcal", 2500 / 4.184},
		{"HKActivitySummaryAppleExerciseTime", "min", 34},
		{"HKActivitySummaryAppleExerciseTimeGoal", "min", 30},
		{"HKActivitySummaryAppleStandHours", "count", 11},
		{"HKActivitySummaryAppleStandHoursGoal", "count", 12},
	}
	for i, w := range want {
		r := c.records[i]
		if r.Type != w.typ || r.Unit != w.unit || r.ValueRaw != w.v || !r.StartRaw.(time.Time).Equal(day) ||
			!r.EndRaw.(time.Time).Equal(day.AddDate(0, 0, 1)) || r.ZoneRaw != "+00:00" {
			t.Errorf("record %d = %s %q %v %v-%v; want %+v", i, r.Type, r.Unit, r.ValueRaw, r.StartRaw, r.EndRaw, w)
		}
	}
}

func TestAppleMapSharesSourcesWithinAChunk(t *testing.T) {
	m := newAppleMapper(nil)
	c := &appleChunk{}
	for range 3 {
		m.add(hkRecord("HKQuantityTypeIdentifierStepCount", "count", "10"), c)
	}
	other := hkRecord("HKQuantityTypeIdentifierStepCount", "count", "10")
	other.Device = phoneDevice
	m.add(other, c)
	if c.records[0].Source != c.records[2].Source || c.records[0].Source == c.records[3].Source {
		t.Fatal("the same source is not shared, or different ones are")
	}
	first := c.records[0].Source
	c.reset()
	if c.items() != 0 || cap(c.records) < 4 {
		t.Fatalf("reset left %d items, capacity %d", c.items(), cap(c.records))
	}
	m.add(hkRecord("HKQuantityTypeIdentifierStepCount", "count", "10"), c)
	if c.records[0].Source == first || !reflect.DeepEqual(*c.records[0].Source, *first) {
		t.Fatal("a new chunk shares a Source with the last one")
	}
}

func TestAppleMapMetadataBounded(t *testing.T) {
	r := hkRecord("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "ms", "40")
	r.Metadata = []applehealth.Metadata{{Key: "HKMetadataKeyHeartRateMotionContext", Value: "1"}, {Key: "big", Value: strings.Repeat("x", 9000)}}
	for i := range 2000 {
		r.HRV = append(r.HRV, applehealth.InstantaneousBPM{BPM: "70", Time: time.Duration(i).String()})
	}
	m := newAppleMapper(nil)
	c := mapItems(t, m, r)
	md := c.records[0].Metadata
	if len(md) > codec.MaxMetadataBytes || !json.Valid(md) || !strings.HasPrefix(string(md), `{"HKMetadataKeyHeartRateMotionContext":"1","beats":[{"bpm":70,`) {
		t.Fatalf("metadata of %d bytes: %.120s", len(md), md)
	}
	if len(m.counts.Dropped) != 1 {
		t.Errorf("dropped %v", m.counts.Dropped)
	}
	b, err := codec.NewBatch("apple", c.records, nil, nil)
	if err != nil || b.Dropped != 0 {
		t.Fatalf("NewBatch: %v, %d dropped: %v", err, b.Dropped, b.Errors)
	}
}

// TestAppleMapRoundTrip puts mapped items through validation and the queued
// form: none is dropped, and the values survive.
func TestAppleMapRoundTrip(t *testing.T) {
	hr := hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "72")
	hr.Metadata = []applehealth.Metadata{{Key: "HKMetadataKeyHeartRateMotionContext", Value: "0"}}
	w := &applehealth.Workout{
		ActivityType: "HKWorkoutActivityTypeRunning", Duration: "20", DurationUnit: "min", SourceName: "Watch", Device: watchDevice,
		StartDate: "2024-01-01 08:00:00 +0100", EndDate: "2024-01-01 08:20:00 +0100",
		Statistics: []applehealth.WorkoutStatistics{{Type: "HKQuantityTypeIdentifierDistanceWalkingRunning", Sum: "3.2", Unit: "km"}},
		Events:     []applehealth.WorkoutEvent{{Type: "HKWorkoutEventTypeLap", Date: "2024-01-01 08:00:00 +0100", Duration: "5", DurationUnit: "min"}},
		Routes:     []applehealth.WorkoutRoute{{FilePath: "/workout-routes/a.gpx"}},
	}
	m := newAppleMapper(func(string) ([]applehealth.RoutePoint, error) {
		return []applehealth.RoutePoint{{Time: time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC), Latitude: 1, Longitude: 2, Elevation: 3,
			Speed: math.NaN(), Course: math.NaN(), HorizontalAccuracy: math.NaN(), VerticalAccuracy: math.NaN()}}, nil
	})
	c := mapItems(t, m,
		hr, hkRecord("HKQuantityTypeIdentifierBodyMass", "lb", "150"),
		hkRecord("HKCategoryTypeIdentifierMenstrualFlow", "", "HKCategoryValueMenstrualFlowHeavy"),
		hkRecord(sleepAnalysis, "", "HKCategoryValueSleepAnalysisAsleepREM"), w,
		&applehealth.ActivitySummary{DateComponents: "2024-01-01", AppleStandHours: "9"},
	)
	n := c.items()
	b, err := codec.NewBatch("apple", c.records, c.sleep, c.workouts)
	if err != nil || b.Dropped != 0 || b.Items() != n || n != 6 || len(b.Warnings) != 0 {
		t.Fatalf("NewBatch: %v; %d of %d items, dropped %d: %v %v", err, b.Items(), n, b.Dropped, b.Errors, b.Warnings)
	}
	back, err := codec.DecodeQueued(b.AppendQueued(nil))
	if err != nil {
		t.Fatal(err)
	}
	if back.Items() != n {
		t.Fatalf("queued form keeps %d items of %d", back.Items(), n)
	}
	for i, r := range back.Records {
		want := b.Records[i]
		if r.Type != want.Type || r.Value != want.Value || r.Unit != want.Unit || !r.Start.Equal(want.Start) ||
			r.ZoneOffset != want.ZoneOffset || string(r.Metadata) != string(want.Metadata) || !reflect.DeepEqual(r.Source, want.Source) {
			t.Errorf("record %d: %+v\nwant %+v", i, r, want)
		}
	}
	if back.Records[0].Value != 72 || back.Records[1].Value != 68.0388555 || back.Records[2].Value != 4 || back.Records[3].Type != "HKActivitySummaryAppleStandHours" {
		t.Errorf("values %v %v %v %s", back.Records[0].Value, back.Records[1].Value, back.Records[2].Value, back.Records[3].Type)
	}
	if back.Sleep[0].Stage != "rem" || back.Sleep[0].ZoneOffset != "+01:00" {
		t.Errorf("sleep %+v", back.Sleep[0])
	}
	bw := back.Workouts[0]
	if bw.Type != "running" || len(bw.Values) != 2 || bw.Values[1].Value != 3200 || string(bw.Route) != string(b.Workouts[0].Route) ||
		string(bw.Laps) != string(b.Workouts[0].Laps) || len(bw.Route) == 0 {
		t.Errorf("workout %+v", bw)
	}
}

// TestAppleMapLandsLikeTheSDK compares an imported sample with the same
// sample in an iOS SDK body (the fixture's form): the same data source, type,
// start and stored value, so a later sync of it finds the import's entry.
func TestAppleMapLandsLikeTheSDK(t *testing.T) {
	sdk := `{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2025-04-10T12:00:00Z","data":{"records":[
	 {"id":"ED008640-6873-4647-92B2-24F7680014A0","type":"HKQuantityTypeIdentifierBodyMass","unit":"kg","value":68.0388555,
	  "startDate":"2022-05-28T23:56:11Z","endDate":"2022-05-28T23:56:11Z",
	  "source":{"name":"iPhone","version":"15.4.1","bundleIdentifier":"com.apple.health","deviceManufacturer":"Apple Inc.",
	   "deviceName":"iPhone","deviceModel":"iPhone","productType":"iPhone10,5","deviceHardwareVersion":"iPhone10,5",
	   "deviceSoftwareVersion":"15.4.1"}}],
	 "sleep":[{"id":"E3D5647B-2B0E-43AA-BE3F-9FAD43D35581","stage":"light","startDate":"2022-05-28T23:56:11Z","endDate":"2022-05-29T00:26:11Z",
	  "source":{"name":"iPhone","deviceModel":"iPhone","productType":"iPhone10,5"}}]}}`
	want, err := codec.DecodeSync([]byte(sdk), 0)
	if err != nil || want.Items() != 2 {
		t.Fatalf("SDK body: %v %+v", err, want)
	}
	weight := &applehealth.Record{Type: "HKQuantityTypeIdentifierBodyMass", SourceName: "iPhone", SourceVersion: "15.4.1",
		Device: phoneDevice, Unit: "lb", Value: "150", StartDate: "2022-05-29 01:56:11 +0200", EndDate: "2022-05-29 01:56:11 +0200"}
	core := &applehealth.Record{Type: sleepAnalysis, SourceName: "iPhone", Device: phoneDevice,
		Value: "HKCategoryValueSleepAnalysisAsleepCore", StartDate: "2022-05-29 01:56:11 +0200", EndDate: "2022-05-29 02:26:11 +0200"}
	c := mapItems(t, newAppleMapper(nil), weight, core)
	got, err := codec.NewBatch("apple", c.records, c.sleep, nil)
	if err != nil || got.Items() != 2 {
		t.Fatalf("NewBatch: %v %+v", err, got)
	}
	g, w := got.Records[0], want.Records[0]
	if g.Type != w.Type || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Value != w.Value || g.Unit != w.Unit {
		t.Errorf("record %s %v %v %q; SDK %s %v %v %q", g.Type, g.Start, g.Value, g.Unit, w.Type, w.Start, w.Value, w.Unit)
	}
	if gs, ws := sourceRecord(1, "apple", g.Source), sourceRecord(1, "apple", w.Source); gs != ws {
		t.Errorf("data source %+v; SDK %+v", gs, ws)
	}
	series, _ := health.MapMetric(g.Type)
	if a, b := health.NormalizeValue("apple", series, g.Value, g.Unit), health.NormalizeValue("apple", series, w.Value, w.Unit); a != b {
		t.Errorf("stored value %v; SDK %v", a, b)
	}
	gl, wl := got.Sleep[0], want.Sleep[0]
	if gl.Stage != wl.Stage || !gl.Start.Equal(wl.Start) || sourceRecord(1, "apple", gl.Source) != sourceRecord(1, "apple", wl.Source) {
		t.Errorf("sleep %q %v %+v; SDK %q %v %+v", gl.Stage, gl.Start, gl.Source, wl.Stage, wl.Start, wl.Source)
	}
}

func BenchmarkAppleMapRecord(b *testing.B) {
	r := hkRecord("HKQuantityTypeIdentifierHeartRate", "count/min", "72")
	r.Metadata = []applehealth.Metadata{{Key: "HKMetadataKeyHeartRateMotionContext", Value: "0"}}
	plain := hkRecord("HKQuantityTypeIdentifierDistanceWalkingRunning", "km", "0.0123")
	m := newAppleMapper(nil)
	c := &appleChunk{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if c.items() == 4096 {
			c.reset()
		}
		if i%2 == 0 {
			m.add(r, c)
		} else {
			m.add(plain, c)
		}
	}
}

// TestParseExportDateAgrees checks the direct reading of the export's date
// form against applehealth.ParseDate, which it must agree with on every
// input: the same instant and offset, or an error for both.
func TestParseExportDateAgrees(t *testing.T) {
	inputs := []string{
		"2024-01-01 08:00:00 +0100", "2024-02-29 23:59:59 -0000", "2023-02-29 10:00:00 +0000", "2024-02-30 10:00:00 +0000",
		"1999-12-31 23:59:59 +1400", "2024-06-30 12:00:00 -0930", "2024-04-31 12:00:00 +0200", "2100-02-29 00:00:00 +0000",
		"2000-02-29 00:00:00 +0000", "2024-13-01 00:00:00 +0000", "2024-00-10 00:00:00 +0000", "2024-01-01 24:00:00 +0000",
		"2024-01-01 23:60:00 +0000", "2024-01-01 23:00:60 +0000", "2024-01-01 08:00:00 +2500", "2024-01-01 08:00:00 +0160",
		"2024-01-01 08:00:00 +1900", "2024-01-01 08:00:00Z", "2024-01-01T08:00:00 +0100", "2024-1-01 08:00:00 +01000",
		"0000-01-01 00:00:00 +0000", "2024-01-01 08:00:00 +01:0", "", "yesterday", "2024-01-01 08:00:0x +0100",
	}
	for y := 1990; y < 2110; y += 7 {
		for mo := 1; mo <= 12; mo++ {
			for _, d := range []int{1, 28, 29, 30, 31} {
				inputs = append(inputs, fmt.Sprintf("%04d-%02d-%02d 13:14:15 -0500", y, mo, d))
			}
		}
	}
	for _, s := range inputs {
		got, off, err := parseExportDate(s)
		want, werr := applehealth.ParseDate(s)
		if (err != nil) != (werr != nil) {
			t.Errorf("%q: error %v; ParseDate %v", s, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		_, woff := want.Zone()
		if !got.Equal(want) || off != woff || got.Location() != time.UTC {
			t.Errorf("%q: %v offset %d; ParseDate %v offset %d", s, got, off, want, woff)
		}
	}
}
