package fhir

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"wearhouse/query"
)

// The identifier systems of wearhouse's resources.
const (
	SystemUser        = "urn:wearhouse:user"
	SystemExternal    = "urn:wearhouse:external-user"
	SystemDataSource  = "urn:wearhouse:data-source"
	SystemObservation = "urn:wearhouse:observation"
)

// Identifier is a business identifier.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// CodeableConcept is a concept by its codings and a text.
type CodeableConcept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Reference points at another resource.
type Reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display,omitempty"`
}

// Period is a time span; FHIR's end is inclusive, ours the end of a
// half-open span, as the data has it.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

// Quantity is a measured amount with its UCUM unit.
type Quantity struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	System string  `json:"system,omitempty"`
	Code   string  `json:"code,omitempty"`
}

// Component is one part of a composite Observation.
type Component struct {
	Code          CodeableConcept `json:"code"`
	ValueQuantity *Quantity       `json:"valueQuantity,omitempty"`
}

// Observation is a FHIR R4 Observation, with the elements wearhouse fills.
type Observation struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	Identifier        []Identifier      `json:"identifier"`
	Status            string            `json:"status"`
	Category          []CodeableConcept `json:"category,omitempty"`
	Code              CodeableConcept   `json:"code"`
	Subject           Reference         `json:"subject"`
	EffectiveDateTime string            `json:"effectiveDateTime,omitempty"`
	EffectivePeriod   *Period           `json:"effectivePeriod,omitempty"`
	ValueQuantity     *Quantity         `json:"valueQuantity,omitempty"`
	Device            *Reference        `json:"device,omitempty"`
	Component         []Component       `json:"component,omitempty"`
}

// HumanName is a person's name.
type HumanName struct {
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

// ContactPoint is an e-mail address (or another way to reach someone).
type ContactPoint struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Patient is a FHIR R4 Patient: one per user.
type Patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Identifier   []Identifier   `json:"identifier"`
	Active       bool           `json:"active"`
	Name         []HumanName    `json:"name,omitempty"`
	Telecom      []ContactPoint `json:"telecom,omitempty"`
}

// DeviceName is a name of a device.
type DeviceName struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// DeviceVersion is a software version.
type DeviceVersion struct {
	Value string `json:"value"`
}

// Device is a FHIR R4 Device: one per data source.
type Device struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Identifier   []Identifier     `json:"identifier"`
	Status       string           `json:"status"`
	Manufacturer string           `json:"manufacturer,omitempty"`
	DeviceName   []DeviceName     `json:"deviceName,omitempty"`
	ModelNumber  string           `json:"modelNumber,omitempty"`
	Type         *CodeableConcept `json:"type,omitempty"`
	Version      []DeviceVersion  `json:"version,omitempty"`
	Patient      *Reference       `json:"patient,omitempty"`
}

// PatientID is the FHIR id of a user: the user id when it fits FHIR's id
// syntax (1 to 64 of A-Z a-z 0-9 - .), as UUIDs do; otherwise "h-" and the
// first 40 hex digits of its SHA-256, which ResolvePatient finds back.
func PatientID(userID string) string {
	if validID(userID) {
		return userID
	}
	sum := sha256.Sum256([]byte(userID))
	return "h-" + hex.EncodeToString(sum[:20])
}

// validID reports whether s fits FHIR's id syntax.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// IsHashedID reports whether a Patient id is the hashed form of a user id
// that does not fit FHIR's id syntax.
func IsHashedID(id string) bool { return len(id) == 42 && id[:2] == "h-" }

// NewPatient maps a user.
func NewPatient(u *query.UserRead) *Patient {
	p := &Patient{ResourceType: "Patient", ID: PatientID(u.ID), Active: true,
		Identifier: []Identifier{{System: SystemUser, Value: u.ID}}}
	if u.ExternalUserID != nil && *u.ExternalUserID != "" {
		p.Identifier = append(p.Identifier, Identifier{System: SystemExternal, Value: *u.ExternalUserID})
	}
	var n HumanName
	if u.LastName != nil {
		n.Family = *u.LastName
	}
	if u.FirstName != nil && *u.FirstName != "" {
		n.Given = []string{*u.FirstName}
	}
	if n.Family != "" || n.Given != nil {
		p.Name = []HumanName{n}
	}
	if u.Email != nil && *u.Email != "" {
		p.Telecom = []ContactPoint{{System: "email", Value: *u.Email}}
	}
	return p
}

// NewDevice maps a data source of a user.
func NewDevice(userID string, d *query.DataSourceView) *Device {
	dv := &Device{ResourceType: "Device", ID: d.ID, Status: "active", Manufacturer: d.Provider,
		Identifier: []Identifier{{System: SystemDataSource, Value: d.ID}},
		Patient:    &Reference{Reference: "Patient/" + PatientID(userID)}}
	dv.DeviceName = append(dv.DeviceName, DeviceName{Name: d.DisplayName, Type: "user-friendly-name"})
	if d.DeviceModel != nil && *d.DeviceModel != "" {
		dv.DeviceName = append(dv.DeviceName, DeviceName{Name: *d.DeviceModel, Type: "model-name"})
		dv.ModelNumber = *d.DeviceModel
	}
	if d.DeviceType != nil && *d.DeviceType != "" {
		dv.Type = &CodeableConcept{Text: *d.DeviceType}
	}
	if d.SoftwareVersion != nil && *d.SoftwareVersion != "" {
		dv.Version = []DeviceVersion{{Value: *d.SoftwareVersion}}
	}
	return dv
}

// Instant writes a time as FHIR's dateTime, in UTC.
func Instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") }

// ObservationID is the stable id of a sample: derived from the user, the
// series, the data source and the time, so that the same sample has the
// same id in every answer and export. It is also the identifier's value.
func ObservationID(userID, series, sourceID string, at time.Time) string {
	h := sha256.New()
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(series))
	h.Write([]byte{0})
	h.Write([]byte(sourceID))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, at.UnixMicro(), 10))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Mapper maps the points and sleep sessions of one user.
type Mapper struct {
	userID  string
	subject Reference
}

// NewMapper returns the mapper of a user's data.
func NewMapper(userID string) *Mapper {
	return &Mapper{userID: userID, subject: Reference{Reference: "Patient/" + PatientID(userID)}}
}

func category(c string) []CodeableConcept {
	if c == "" {
		return nil
	}
	return []CodeableConcept{{Coding: []Coding{{System: systemCategory, Code: c, Display: categoryDisplay[c]}}}}
}

func quantity(v float64, u Unit) *Quantity {
	return &Quantity{Value: v, Unit: u.Display, System: SystemUCUM, Code: u.Code}
}

// Point maps a sample, or a bucket (daily: of a day, for 41950-7). Blood
// pressure is the 85354-9 panel with a component per half present.
func (m *Mapper) Point(p *query.Point, daily bool) *Observation {
	mp := MappingOf(p.Series)
	o := &Observation{ResourceType: "Observation", Status: "final", Category: category(mp.Category),
		Subject: m.subject}
	key := p.Series.Code
	if p.Series.Code == "blood_pressure_diastolic" && p.Paired == nil {
		key = "blood_pressure_systolic" // a lone half has the panel's id
	}
	o.ID = ObservationID(m.userID, key, p.SourceID, p.Start)
	if p.Count > 0 {
		// A bucket differs from the sample at its start.
		o.ID = ObservationID(m.userID, key+"@"+p.End.Sub(p.Start).String(), p.SourceID, p.Start)
	}
	o.Identifier = []Identifier{{System: SystemObservation, Value: o.ID}}
	codings := mp.LOINC
	switch {
	case p.Series.Code == "steps" && daily:
		codings = []Coding{dailySteps}
	case p.Series.Code == "blood_glucose" && p.Source != nil &&
		cgmSource(p.Source.Device, p.Source.DeviceName, p.Source.Source, p.Source.DeviceType):
		codings = []Coding{cgmGlucose}
	}
	o.Code.Coding = append(append(make([]Coding, 0, len(codings)+1), codings...), Coding{System: SystemSeries, Code: p.Series.Code})
	o.Code.Text = p.Series.Code
	if p.End.After(p.Start) {
		o.EffectivePeriod = &Period{Start: Instant(p.Start), End: Instant(p.End)}
	} else {
		o.EffectiveDateTime = Instant(p.Start)
	}
	unit := UnitOf(p.Series.Code, p.Series.Unit)
	switch p.Series.Code {
	case "blood_pressure_systolic", "blood_pressure_diastolic":
		o.Code.Text = "blood_pressure"
		o.Code.Coding[len(o.Code.Coding)-1].Code = "blood_pressure_systolic"
		if p.Series.Code == "blood_pressure_diastolic" {
			o.Code.Coding[len(o.Code.Coding)-1].Code = "blood_pressure_diastolic"
			o.Component = []Component{{Code: CodeableConcept{Coding: []Coding{bpDiastolic}}, ValueQuantity: quantity(p.Value, unit)}}
		} else {
			o.Component = []Component{{Code: CodeableConcept{Coding: []Coding{bpSystolic}}, ValueQuantity: quantity(p.Value, unit)}}
			if p.Paired != nil {
				o.Component = append(o.Component,
					Component{Code: CodeableConcept{Coding: []Coding{bpDiastolic}}, ValueQuantity: quantity(*p.Paired, unit)})
			}
		}
	default:
		o.ValueQuantity = quantity(p.Value, unit)
	}
	if p.SourceID != "" {
		o.Device = &Reference{Reference: "Device/" + p.SourceID}
	}
	return o
}

// Sleep maps a sleep session: its sleep time (93832-4) over the session,
// with the deep, light and REM minutes as components.
func (m *Mapper) Sleep(s *query.SleepSession) *Observation {
	o := &Observation{ResourceType: "Observation", Status: "final", Category: category(CategoryActivity),
		Subject: m.subject}
	o.ID = ObservationID(m.userID, SleepCode, s.ID, s.StartTime)
	o.Identifier = []Identifier{{System: SystemObservation, Value: o.ID}}
	o.Code = CodeableConcept{Coding: []Coding{sleepTotal, {System: SystemSeries, Code: SleepCode}}, Text: SleepCode}
	o.EffectivePeriod = &Period{Start: Instant(s.StartTime), End: Instant(s.EndTime)}
	minutes := Unit{"min", "min"}
	o.ValueQuantity = quantity(float64(s.SleepDurationSeconds)/60, minutes)
	o.Component = []Component{
		{Code: CodeableConcept{Coding: []Coding{sleepDeep}}, ValueQuantity: quantity(float64(s.Stages.DeepMinutes), minutes)},
		{Code: CodeableConcept{Coding: []Coding{sleepLight}}, ValueQuantity: quantity(float64(s.Stages.LightMinutes), minutes)},
		{Code: CodeableConcept{Coding: []Coding{sleepREM}}, ValueQuantity: quantity(float64(s.Stages.RemMinutes), minutes)},
	}
	return o
}

// Issue is one issue of an OperationOutcome.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// OperationOutcome is how a FHIR route answers an error.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Outcome is the OperationOutcome of an error answered with a status.
func Outcome(status int, detail string) *OperationOutcome {
	code := "processing"
	switch status {
	case 400:
		code = "invalid"
	case 401:
		code = "login"
	case 403:
		code = "forbidden"
	case 404:
		code = "not-found"
	case 405, 415:
		code = "not-supported"
	case 409:
		code = "conflict"
	case 413:
		code = "too-long"
	case 429:
		code = "throttled"
	case 503, 507:
		code = "transient"
	case 500:
		code = "exception"
	}
	return &OperationOutcome{ResourceType: "OperationOutcome",
		Issue: []Issue{{Severity: "error", Code: code, Diagnostics: detail}}}
}
