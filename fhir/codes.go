package fhir

import (
	"strings"

	"wearhouse/health"
)

// The code systems.
const (
	SystemLOINC    = "http://loinc.org"
	SystemSeries   = "urn:wearhouse:series" // the SDK's series codes
	SystemUCUM     = "http://unitsofmeasure.org"
	systemCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
)

// The observation categories.
const (
	CategoryVitalSigns = "vital-signs"
	CategoryActivity   = "activity"
	CategoryLaboratory = "laboratory"
)

var categoryDisplay = map[string]string{
	CategoryVitalSigns: "Vital Signs", CategoryActivity: "Activity", CategoryLaboratory: "Laboratory",
}

// Coding is a code of a system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Mapping is how the samples of one series become Observations: their
// LOINC codes (first), their category and their UCUM unit.
type Mapping struct {
	Series   string   // the SDK's series code
	LOINC    []Coding // in order; empty for a series outside the table
	Category string
}

func loinc(code, display string) Coding {
	return Coding{System: SystemLOINC, Code: code, Display: display}
}

// The LOINC codes of the composite resources.
var (
	bpPanel     = loinc("85354-9", "Blood pressure panel with all children optional")
	bpSystolic  = loinc("8480-6", "Systolic blood pressure")
	bpDiastolic = loinc("8462-4", "Diastolic blood pressure")
	dailySteps  = loinc("41950-7", "Number of steps in 24 hour Measured")
	cgmGlucose  = loinc("99504-3", "Glucose [Mass/volume] in Interstitial fluid")
	sleepTotal  = loinc("93832-4", "Sleep duration")
	sleepDeep   = loinc("93831-6", "Deep sleep duration")
	sleepLight  = loinc("93830-8", "Light sleep duration")
	sleepREM    = loinc("93829-0", "REM sleep duration")
)

// mappings is the LOINC table: one row per series the table knows. Blood
// pressure's two series are one panel (85354-9) with a component each;
// steps by the day (resolution 1day) are 41950-7; glucose from a
// continuous monitor is 99504-3 (cgmSource).
var mappings = []Mapping{
	{"heart_rate", []Coding{loinc("8867-4", "Heart rate")}, CategoryVitalSigns},
	{"resting_heart_rate", []Coding{loinc("40443-4", "Heart rate --resting")}, CategoryVitalSigns},
	{"heart_rate_variability_sdnn", []Coding{loinc("80404-7", "R-R interval.standard deviation (Heart rate variability)")}, CategoryVitalSigns},
	{"steps", []Coding{loinc("55423-8", "Number of steps in unspecified time Pedometer")}, CategoryActivity},
	{"oxygen_saturation", []Coding{loinc("2708-6", "Oxygen saturation in Arterial blood"),
		loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")}, CategoryVitalSigns},
	{"blood_pressure_systolic", []Coding{bpPanel}, CategoryVitalSigns},
	{"blood_pressure_diastolic", []Coding{bpPanel}, CategoryVitalSigns},
	{"blood_glucose", []Coding{loinc("41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer")}, CategoryLaboratory},
	{"weight", []Coding{loinc("29463-7", "Body weight")}, CategoryVitalSigns},
	{"height", []Coding{loinc("8302-2", "Body height")}, CategoryVitalSigns},
	{"body_mass_index", []Coding{loinc("39156-5", "Body mass index (BMI) [Ratio]")}, CategoryVitalSigns},
	{"body_fat_percentage", []Coding{loinc("41982-0", "Percentage of body fat Measured")}, CategoryVitalSigns},
	{"respiratory_rate", []Coding{loinc("9279-1", "Respiratory rate")}, CategoryVitalSigns},
	{"body_temperature", []Coding{loinc("8310-5", "Body temperature")}, CategoryVitalSigns},
	{"energy", []Coding{loinc("41981-2", "Calories burned")}, CategoryActivity},
}

var mappingBySeries = func() map[string]*Mapping {
	m := make(map[string]*Mapping, len(mappings))
	for i := range mappings {
		m[mappings[i].Series] = &mappings[i]
	}
	return m
}()

// MappingOf is the row of a series; a series outside the table gets a
// mapping with its SDK code alone, and the category activity when health
// files it under activity.
func MappingOf(s health.Series) Mapping {
	if m, ok := mappingBySeries[s.Code]; ok {
		return *m
	}
	m := Mapping{Series: s.Code}
	if strings.HasPrefix(s.Category, "Activity") {
		m.Category = CategoryActivity
	}
	return m
}

// Unit is a UCUM unit: its code and the words shown for it.
type Unit struct{ Code, Display string }

// units maps the SDK's units to UCUM.
var units = map[string]Unit{
	"bpm": {"/min", "beats/minute"}, "brpm": {"/min", "breaths/minute"}, "rpm": {"/min", "per minute"},
	"ms": {"ms", "ms"}, "percent": {"%", "%"}, "mg_dl": {"mg/dL", "mg/dL"}, "mmHg": {"mm[Hg]", "mmHg"},
	"cm": {"cm", "cm"}, "kg": {"kg", "kg"}, "kg_m2": {"kg/m2", "kg/m2"}, "celsius": {"Cel", "°C"},
	"kcal": {"kcal", "kcal"}, "meters": {"m", "m"}, "minutes": {"min", "min"}, "m_per_s": {"m/s", "m/s"},
	"watts": {"W", "W"}, "liters": {"L", "L"}, "L/min": {"L/min", "L/min"}, "ml_kg_min": {"mL/kg/min", "mL/kg/min"},
	"dB": {"dB", "dB"}, "degrees": {"deg", "degrees"}, "mL": {"mL", "mL"}, "years": {"a", "years"},
	"count": {"1", "count"}, "score": {"{score}", "score"}, "met": {"{MET}", "MET"},
}

// UnitOf is the UCUM unit of an SDK unit and series: steps count {steps};
// a unit outside the table is an annotation of its own name.
func UnitOf(series, unit string) Unit {
	if series == "steps" {
		return Unit{"{steps}", "steps"}
	}
	if u, ok := units[unit]; ok {
		return u
	}
	return Unit{"{" + unit + "}", unit}
}

// cgmWords mark a continuous glucose monitor in a source's names.
var cgmWords = []string{"cgm", "dexcom", "libre", "guardian", "eversense"}

// cgmSource reports whether glucose from a source is a continuous
// monitor's (interstitial fluid) rather than a meter's.
func cgmSource(names ...*string) bool {
	for _, n := range names {
		if n == nil {
			continue
		}
		l := strings.ToLower(*n)
		for _, w := range cgmWords {
			if strings.Contains(l, w) {
				return true
			}
		}
	}
	return false
}

// SleepCode is the SDK code that stands for the sleep sessions.
const SleepCode = "sleep"

// Selection is what a code search asks for: the series to read, whether
// sleep sessions, and the tokens an Observation's codes must meet.
type Selection struct {
	Series []string
	Sleep  bool
	// Pairs are the series read together (blood pressure).
	Pairs map[string]string
	// Daily: a code that is by the day was asked (41950-7).
	Daily  bool
	tokens []token
}

type token struct{ system, code string }

// Everything selects every series and the sleep sessions.
func Everything() Selection {
	return Selection{Sleep: true, Pairs: bpPairs}
}

var bpPairs = map[string]string{"blood_pressure_systolic": "blood_pressure_diastolic"}

// ParseCodes reads the code search parameter: comma-separated tokens,
// each "system|code", "|code" or a bare code; the systems are LOINC and
// urn:wearhouse:series. A code of neither table selects nothing; it is not
// an error (a search for an unknown code matches no resource).
func ParseCodes(values []string) Selection {
	if len(values) == 0 {
		return Everything()
	}
	sel := Selection{Pairs: bpPairs}
	add := func(series string) {
		for _, s := range sel.Series {
			if s == series {
				return
			}
		}
		sel.Series = append(sel.Series, series)
	}
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			system, code, found := strings.Cut(t, "|")
			if !found {
				system, code = "", t
			}
			sel.tokens = append(sel.tokens, token{system, code})
			if system == "" || system == SystemSeries {
				if code == SleepCode {
					sel.Sleep = true
				} else if _, ok := health.SeriesByCode(code); ok || system == SystemSeries {
					add(code)
				}
			}
			if system == "" || system == SystemLOINC {
				for _, s := range seriesOfLOINC(code) {
					if s == SleepCode {
						sel.Sleep = true
					} else {
						add(s)
					}
				}
				if code == dailySteps.Code {
					sel.Daily = true
				}
			}
		}
	}
	for a, b := range bpPairs {
		// One half of blood pressure is read with its other half.
		for _, s := range sel.Series {
			if s == a || s == b {
				add(a)
				add(b)
				break
			}
		}
	}
	return sel
}

// seriesOfLOINC lists the series (or sleep) whose Observations may carry
// a LOINC code, as their code or a component's.
func seriesOfLOINC(code string) []string {
	switch code {
	case bpPanel.Code, bpSystolic.Code, bpDiastolic.Code:
		return []string{"blood_pressure_systolic", "blood_pressure_diastolic"}
	case dailySteps.Code:
		return []string{"steps"}
	case cgmGlucose.Code:
		return []string{"blood_glucose"}
	case sleepTotal.Code, sleepDeep.Code, sleepLight.Code, sleepREM.Code:
		return []string{SleepCode}
	}
	var out []string
	for _, m := range mappings {
		for _, c := range m.LOINC {
			if c.Code == code {
				out = append(out, m.Series)
			}
		}
	}
	return out
}

// Matches reports whether an Observation meets the selection's tokens:
// one of its codings, or a component's, is one of them. No tokens match
// everything.
func (s *Selection) Matches(o *Observation) bool {
	if len(s.tokens) == 0 {
		return true
	}
	meets := func(c *Coding) bool {
		for _, t := range s.tokens {
			if c.Code == t.code && (t.system == "" || t.system == c.System) {
				return true
			}
		}
		return false
	}
	for i := range o.Code.Coding {
		if meets(&o.Code.Coding[i]) {
			return true
		}
	}
	for i := range o.Component {
		for j := range o.Component[i].Code.Coding {
			if meets(&o.Component[i].Code.Coding[j]) {
				return true
			}
		}
	}
	return false
}
