package health

import (
	"strconv"
	"strings"
	"testing"
)

// factSheetSeries is the table of series types from Open Wearables'
// documentation, copied as it stands (code spans unquoted). The tests check
// the package's table against it row by row.
const factSheetSeries = `
| id | code | unit | category | aggregation (default AVG if unlisted) |
|---|---|---|---|---|
| 1 | heart_rate | bpm | Heart & Cardiovascular | AVG |
| 2 | resting_heart_rate | bpm | Heart & Cardiovascular | AVG |
| 3 | heart_rate_variability_sdnn | ms | Heart & Cardiovascular | AVG |
| 4 | heart_rate_recovery_one_minute | bpm | Heart & Cardiovascular | AVG |
| 5 | walking_heart_rate_average | bpm | Heart & Cardiovascular | AVG |
| 7 | heart_rate_variability_rmssd | ms | Heart & Cardiovascular | AVG |
| 20 | oxygen_saturation | percent | Blood & Respiratory | AVG |
| 21 | blood_glucose | mg_dl | Blood & Respiratory | AVG |
| 22 | blood_pressure_systolic | mmHg | Blood & Respiratory | AVG |
| 23 | blood_pressure_diastolic | mmHg | Blood & Respiratory | AVG |
| 24 | respiratory_rate | brpm | Blood & Respiratory | AVG |
| 25 | sleeping_breathing_disturbances | count | Blood & Respiratory | SUM |
| 26 | blood_alcohol_content | mg_dl | Blood & Respiratory | AVG |
| 27 | peripheral_perfusion_index | score | Blood & Respiratory | AVG |
| 28 | forced_vital_capacity | liters | Blood & Respiratory | AVG |
| 29 | forced_expiratory_volume_1 | liters | Blood & Respiratory | AVG |
| 30 | peak_expiratory_flow_rate | L/min | Blood & Respiratory | AVG |
| 31 | breathing_disturbance_index | score | Blood & Respiratory | AVG (fallback, not listed) |
| 40 | height | cm | Body Composition | AVG |
| 41 | weight | kg | Body Composition | AVG |
| 42 | body_fat_percentage | percent | Body Composition | AVG |
| 43 | body_mass_index | kg_m2 | Body Composition | AVG |
| 44 | lean_body_mass | kg | Body Composition | AVG |
| 45 | body_temperature | celsius | Body Composition | AVG |
| 46 | skin_temperature | celsius | Body Composition | AVG |
| 47 | waist_circumference | cm | Body Composition | AVG |
| 48 | body_fat_mass | kg | Body Composition | AVG (fallback, not listed) |
| 49 | skeletal_muscle_mass | kg | Body Composition | AVG (fallback, not listed) |
| 50 | skin_temperature_deviation | celsius | Body Composition | AVG (fallback, not listed) |
| 51 | skin_temperature_trend_deviation | celsius | Body Composition | AVG (fallback, not listed) |
| 60 | vo2_max | ml_kg_min | Fitness Metrics | AVG |
| 61 | six_minute_walk_test_distance | meters | Fitness Metrics | MAX |
| 62 | cardiovascular_age | years | Fitness Metrics | AVG (fallback, not listed) |
| 80 | steps | count | Activity - Basic | SUM |
| 81 | energy | kcal | Activity - Basic | SUM |
| 82 | basal_energy | kcal | Activity - Basic | SUM |
| 83 | stand_time | minutes | Activity - Basic | SUM |
| 84 | exercise_time | minutes | Activity - Basic | SUM |
| 85 | physical_effort | score | Activity - Basic | AVG |
| 86 | flights_climbed | count | Activity - Basic | SUM |
| 87 | average_met | met | Activity - Basic | AVG |
| 88 | active_time | minutes | Activity - Basic | SUM |
| 100 | distance_walking_running | meters | Activity - Distance | SUM |
| 101 | distance_cycling | meters | Activity - Distance | SUM |
| 102 | distance_swimming | meters | Activity - Distance | SUM |
| 103 | distance_downhill_snow_sports | meters | Activity - Distance | SUM |
| 104 | distance_other | meters | Activity - Distance | SUM |
| 120 | walking_step_length | cm | Activity - Walking | AVG |
| 121 | walking_speed | m_per_s | Activity - Walking | AVG |
| 122 | walking_double_support_percentage | percent | Activity - Walking | AVG |
| 123 | walking_asymmetry_percentage | percent | Activity - Walking | AVG |
| 124 | walking_steadiness | percent | Activity - Walking | AVG |
| 125 | stair_descent_speed | m_per_s | Activity - Walking | AVG |
| 126 | stair_ascent_speed | m_per_s | Activity - Walking | AVG |
| 140 | running_power | watts | Activity - Running | AVG |
| 141 | running_speed | m_per_s | Activity - Running | AVG |
| 142 | running_vertical_oscillation | cm | Activity - Running | AVG |
| 143 | running_ground_contact_time | ms | Activity - Running | AVG |
| 144 | running_stride_length | cm | Activity - Running | AVG |
| 145 | running_vertical_ratio | percent | Activity - Running | AVG (fallback, not listed) |
| 146 | running_stance_time_balance | percent | Activity - Running | AVG (fallback, not listed) |
| 160 | swimming_stroke_count | count | Activity - Swimming | SUM |
| 161 | underwater_depth | meters | Activity - Swimming | AVG |
| 180 | cadence | rpm | Activity - Generic | AVG |
| 181 | power | watts | Activity - Generic | AVG |
| 182 | speed | m_per_s | Activity - Generic | AVG |
| 183 | workout_effort_score | score | Activity - Generic | AVG |
| 184 | estimated_workout_effort_score | score | Activity - Generic | AVG |
| 200 | environmental_audio_exposure | dB | Environmental | AVG |
| 201 | headphone_audio_exposure | dB | Environmental | AVG |
| 202 | environmental_sound_reduction | dB | Environmental | AVG |
| 203 | time_in_daylight | minutes | Environmental | SUM |
| 204 | water_temperature | celsius | Environmental | AVG |
| 205 | uv_exposure | count | Environmental | SUM |
| 206 | inhaler_usage | count | Environmental | SUM |
| 207 | weather_temperature | celsius | Environmental | AVG |
| 208 | weather_humidity | percent | Environmental | AVG |
| 209 | elevation | meters | Environmental | AVG (fallback, not listed) |
| 210 | latitude | degrees | Environmental | AVG (fallback, not listed) |
| 211 | longitude | degrees | Environmental | AVG (fallback, not listed) |
| 212 | air_temperature | celsius | Environmental | AVG (fallback, not listed) |
| 220 | garmin_stress_level | score | Provider-Specific | AVG |
| 221 | garmin_skin_temperature | celsius | Provider-Specific | AVG |
| 222 | garmin_fitness_age | years | Provider-Specific | AVG |
| 223 | garmin_body_battery | percent | Provider-Specific | AVG |
| 500 | electrodermal_activity | count | Other | AVG |
| 501 | push_count | count | Other | SUM |
| 502 | atrial_fibrillation_burden | count | Other | SUM |
| 503 | insulin_delivery | count | Other | SUM |
| 504 | number_of_times_fallen | count | Other | SUM |
| 505 | number_of_alcoholic_beverages | count | Other | SUM |
| 506 | nike_fuel | count | Other | SUM |
| 507 | hydration | mL | Other | AVG (fallback, not listed) |
`

// vocabMarkdownRows parses a markdown table: one slice of trimmed cells per
// row, without the header and separator rows. Code-span backticks and bold
// markers are removed from cells.
func vocabMarkdownRows(t *testing.T, table string) [][]string {
	t.Helper()
	var rows [][]string
	header := true
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			t.Fatalf("not a table row: %q", line)
		}
		if header {
			header = false
			continue
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i, c := range cells {
			c = strings.ReplaceAll(c, "`", "")
			c = strings.ReplaceAll(c, "**", "")
			cells[i] = strings.TrimSpace(c)
		}
		rows = append(rows, cells)
	}
	return rows
}

func TestSeriesTableMatchesFactSheet(t *testing.T) {
	rows := vocabMarkdownRows(t, factSheetSeries)
	// Open Wearables' documentation announces 94 series types, but its table,
	// like the definitions it was read from, lists 93.
	if len(rows) != 93 {
		t.Fatalf("fact sheet rows = %d, want 93", len(rows))
	}
	if len(seriesTable) != len(rows) {
		t.Errorf("series table has %d rows, fact sheet %d", len(seriesTable), len(rows))
	}
	for _, r := range rows {
		id, err := strconv.ParseUint(r[0], 10, 16)
		if err != nil {
			t.Fatalf("row %q: bad id: %v", r, err)
		}
		code, unit, category := r[1], r[2], r[3]
		var agg Aggregation
		switch strings.Fields(r[4])[0] {
		case "AVG":
			agg = AggAvg
		case "SUM":
			agg = AggSum
		case "MAX":
			agg = AggMax
		default:
			t.Fatalf("row %q: unknown aggregation", r)
		}
		want := Series{ID: uint16(id), Code: code, Unit: unit, Category: category, Agg: agg}

		got, ok := SeriesByID(uint16(id))
		if !ok {
			t.Errorf("SeriesByID(%d): not found, want %+v", id, want)
			continue
		}
		if got != want {
			t.Errorf("SeriesByID(%d) = %+v, want %+v", id, got, want)
		}
		got, ok = SeriesByCode(code)
		if !ok || got != want {
			t.Errorf("SeriesByCode(%q) = %+v, %v, want %+v", code, got, ok, want)
		}
	}
}

func TestSeriesTableInvariants(t *testing.T) {
	ids := map[uint16]bool{}
	codes := map[string]bool{}
	// Each category owns a range of ids.
	ranges := []struct {
		lo, hi   uint16
		category string
	}{
		{1, 19, "Heart & Cardiovascular"},
		{20, 39, "Blood & Respiratory"},
		{40, 59, "Body Composition"},
		{60, 79, "Fitness Metrics"},
		{80, 99, "Activity - Basic"},
		{100, 119, "Activity - Distance"},
		{120, 139, "Activity - Walking"},
		{140, 159, "Activity - Running"},
		{160, 179, "Activity - Swimming"},
		{180, 199, "Activity - Generic"},
		{200, 219, "Environmental"},
		{220, 239, "Provider-Specific"},
		{500, 599, "Other"},
	}
	var prev uint16
	for i, s := range seriesTable {
		if ids[s.ID] {
			t.Errorf("duplicate id %d", s.ID)
		}
		if codes[s.Code] {
			t.Errorf("duplicate code %q", s.Code)
		}
		ids[s.ID], codes[s.Code] = true, true
		if i > 0 && s.ID <= prev {
			t.Errorf("id %d after %d: the table is not in id order", s.ID, prev)
		}
		prev = s.ID
		if s.ID == 0 || s.Code == "" || s.Unit == "" {
			t.Errorf("incomplete row %+v", s)
		}
		if s.Agg != AggAvg && s.Agg != AggSum && s.Agg != AggMax {
			t.Errorf("%s: aggregation %v", s.Code, s.Agg)
		}
		if s.Code != strings.ToLower(s.Code) {
			t.Errorf("%s: codes are lower-case", s.Code)
		}
		found := false
		for _, r := range ranges {
			if s.ID >= r.lo && s.ID <= r.hi {
				found = true
				if s.Category != r.category {
					t.Errorf("%s (id %d): category %q, want %q", s.Code, s.ID, s.Category, r.category)
				}
			}
		}
		if !found {
			t.Errorf("%s: id %d is in no category range", s.Code, s.ID)
		}
	}
	if len(seriesByID) != len(seriesTable) || len(seriesByCode) != len(seriesTable) {
		t.Errorf("indexes hold %d ids and %d codes for %d rows", len(seriesByID), len(seriesByCode), len(seriesTable))
	}
}

func TestSeriesLookupMisses(t *testing.T) {
	for _, id := range []uint16{0, 6, 32, 508, 65535} {
		if s, ok := SeriesByID(id); ok {
			t.Errorf("SeriesByID(%d) = %+v, want none", id, s)
		}
	}
	for _, code := range []string{"", "Heart_rate", "HEART_RATE", " heart_rate", "active_energy", "nike fuel"} {
		if s, ok := SeriesByCode(code); ok {
			t.Errorf("SeriesByCode(%q) = %+v, want none", code, s)
		}
	}
}

func TestAllSeriesIsACopy(t *testing.T) {
	all := AllSeries()
	if len(all) != len(seriesTable) {
		t.Fatalf("AllSeries() has %d rows, want %d", len(all), len(seriesTable))
	}
	all[0].Code = "changed"
	if s, _ := SeriesByID(1); s.Code != "heart_rate" {
		t.Errorf("changing AllSeries' result changed the table: %+v", s)
	}
}

func TestAggregationString(t *testing.T) {
	for a, want := range map[Aggregation]string{AggAvg: "avg", AggSum: "sum", AggMax: "max", 0: "Aggregation(0)", 9: "Aggregation(9)"} {
		if got := a.String(); got != want {
			t.Errorf("Aggregation(%d).String() = %q, want %q", uint8(a), got, want)
		}
	}
}
