package fhir

import (
	"testing"

	"wearhouse/health"
)

// TestLOINCTable holds the table to the codes the clinics' EHRs expect
// (the list), row by row, and each row to a series the SDKs feed.
func TestLOINCTable(t *testing.T) {
	want := []struct {
		series, category string
		codes            []string
	}{
		{"heart_rate", CategoryVitalSigns, []string{"8867-4"}},
		{"resting_heart_rate", CategoryVitalSigns, []string{"40443-4"}},
		{"steps", CategoryActivity, []string{"55423-8"}},
		{"oxygen_saturation", CategoryVitalSigns, []string{"2708-6", "59408-5"}},
		{"blood_pressure_systolic", CategoryVitalSigns, []string{"85354-9"}},
		{"blood_pressure_diastolic", CategoryVitalSigns, []string{"85354-9"}},
		{"blood_glucose", CategoryLaboratory, []string{"41653-7"}},
		{"weight", CategoryVitalSigns, []string{"29463-7"}},
		{"height", CategoryVitalSigns, []string{"8302-2"}},
		{"body_mass_index", CategoryVitalSigns, []string{"39156-5"}},
		{"body_fat_percentage", CategoryVitalSigns, []string{"41982-0"}},
		{"respiratory_rate", CategoryVitalSigns, []string{"9279-1"}},
		{"body_temperature", CategoryVitalSigns, []string{"8310-5"}},
		{"heart_rate_variability_sdnn", CategoryVitalSigns, []string{"80404-7"}},
		{"energy", CategoryActivity, []string{"41981-2"}},
	}
	if len(want) != len(mappings) {
		t.Errorf("the table has %d rows, the list %d", len(mappings), len(want))
	}
	for _, w := range want {
		s, ok := health.SeriesByCode(w.series)
		if !ok {
			t.Errorf("%s is not a series of the health tables", w.series)
			continue
		}
		m := MappingOf(s)
		if m.Category != w.category || len(m.LOINC) != len(w.codes) {
			t.Errorf("%s: %+v, want %s %v", w.series, m, w.category, w.codes)
			continue
		}
		for i, c := range w.codes {
			if m.LOINC[i].System != SystemLOINC || m.LOINC[i].Code != c || m.LOINC[i].Display == "" {
				t.Errorf("%s coding %d: %+v, want LOINC %s", w.series, i, m.LOINC[i], c)
			}
		}
	}
	for code, want := range map[string]string{"85354-9": bpPanel.Code, "8480-6": bpSystolic.Code, "8462-4": bpDiastolic.Code,
		"41950-7": dailySteps.Code, "99504-3": cgmGlucose.Code, "93832-4": sleepTotal.Code, "93831-6": sleepDeep.Code,
		"93830-8": sleepLight.Code, "93829-0": sleepREM.Code} {
		if code != want {
			t.Errorf("composite code %s, want %s", want, code)
		}
	}
	// Units are UCUM.
	for _, c := range []struct{ series, unit, want string }{{"heart_rate", "bpm", "/min"}, {"steps", "count", "{steps}"},
		{"blood_pressure_systolic", "mmHg", "mm[Hg]"}, {"body_temperature", "celsius", "Cel"}, {"oxygen_saturation", "percent", "%"},
		{"blood_glucose", "mg_dl", "mg/dL"}, {"weight", "kg", "kg"}} {
		if u := UnitOf(c.series, c.unit); u.Code != c.want {
			t.Errorf("unit of %s in %s: %q, want %q", c.series, c.unit, u.Code, c.want)
		}
	}
}
