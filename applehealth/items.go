package applehealth

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// Item is one value the scanner yields: *HealthData, *ExportDate, *Me,
// *Record, *Workout or *ActivitySummary.
type Item interface{ item() }

// HealthData is the root element; it comes first.
type HealthData struct {
	Locale string
}

// ExportDate is when the export was made, in the export's date form.
type ExportDate struct {
	Value string
}

// Me holds the characteristics the Health app exports for its owner.
type Me struct {
	DateOfBirth                 string
	BiologicalSex               string
	BloodType                   string
	FitzpatrickSkinType         string
	CardioFitnessMedicationsUse string
}

// Metadata is one MetadataEntry child.
type Metadata struct {
	Key, Value string
}

// InstantaneousBPM is one beat of a HeartRateVariabilityMetadataList.
type InstantaneousBPM struct {
	BPM  string
	Time string
}

// Record is one sample: a quantity, a category or one Record of a
// Correlation. Dates are in the export's form (ParseDate); Device is the raw
// attribute (ParseDevice).
type Record struct {
	Type          string
	SourceName    string
	SourceVersion string
	Device        string
	Unit          string
	CreationDate  string
	StartDate     string
	EndDate       string
	Value         string
	Metadata      []Metadata
	HRV           []InstantaneousBPM
}

// WorkoutEvent is one WorkoutEvent child (pause, resume, lap, segment...).
type WorkoutEvent struct {
	Type         string
	Date         string
	Duration     string
	DurationUnit string
	Metadata     []Metadata
}

// WorkoutStatistics is one WorkoutStatistics child: a quantity over the
// workout.
type WorkoutStatistics struct {
	Type      string
	StartDate string
	EndDate   string
	Average   string
	Minimum   string
	Maximum   string
	Sum       string
	Unit      string
}

// WorkoutRoute is the route of a workout; FilePath names its GPX file in the
// zip (the FileReference path, such as /workout-routes/route_....gpx).
type WorkoutRoute struct {
	SourceName    string
	SourceVersion string
	Device        string
	CreationDate  string
	StartDate     string
	EndDate       string
	Metadata      []Metadata
	FilePath      string
}

// Workout is one Workout with its children. The Total* attributes appear in
// older exports only; newer ones give WorkoutStatistics instead.
type Workout struct {
	ActivityType          string
	Duration              string
	DurationUnit          string
	TotalDistance         string
	TotalDistanceUnit     string
	TotalEnergyBurned     string
	TotalEnergyBurnedUnit string
	SourceName            string
	SourceVersion         string
	Device                string
	CreationDate          string
	StartDate             string
	EndDate               string
	Metadata              []Metadata
	Events                []WorkoutEvent
	Statistics            []WorkoutStatistics
	Routes                []WorkoutRoute
}

// ActivitySummary is one day of the activity rings.
type ActivitySummary struct {
	DateComponents         string
	ActiveEnergyBurned     string
	ActiveEnergyBurnedGoal string
	ActiveEnergyBurnedUnit string
	AppleMoveTime          string
	AppleMoveTimeGoal      string
	AppleExerciseTime      string
	AppleExerciseTimeGoal  string
	AppleStandHours        string
	AppleStandHoursGoal    string
}

func (*HealthData) item()      {}
func (*ExportDate) item()      {}
func (*Me) item()              {}
func (*Record) item()          {}
func (*Workout) item()         {}
func (*ActivitySummary) item() {}

// DateLayout is the form of every date in export.xml.
const DateLayout = "2006-01-02 15:04:05 -0700"

// zones caches one fixed zone per offset, so that parsing millions of dates
// does not make millions of locations.
var zones sync.Map // int (seconds east of UTC) -> *time.Location

// ParseDate parses a date of the export ("2024-01-01 08:00:00 +0100"). The
// result keeps the written offset as a fixed zone, whatever the local zone of
// the machine.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, err
	}
	_, off := t.Zone()
	loc, ok := zones.Load(off)
	if !ok {
		loc, _ = zones.LoadOrStore(off, time.FixedZone("", off))
	}
	return t.In(loc.(*time.Location)), nil
}

// Device is the device attribute of a Record, Workout or WorkoutRoute, split
// into its fields. A field the attribute does not name is empty.
type Device struct {
	Name                string
	Manufacturer        string
	Model               string
	Hardware            string
	Software            string
	Firmware            string
	LocalIdentifier     string
	UDIDeviceIdentifier string
}

var errDevice = errors.New("applehealth: device attribute is not of the form <<HKDevice: 0x...>, key:value, ...>")

// ParseDevice parses the device attribute as the Health app writes it:
//
//	<<HKDevice: 0x283a4c780>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:9.1>
//
// Fields are separated by ", " and a value may hold commas (hardware:Watch6,2)
// or even ", " (a name): a part that does not start with a known key belongs
// to the value before it. Unknown keys are ignored.
func ParseDevice(s string) (Device, error) {
	var d Device
	rest, ok := strings.CutPrefix(s, "<<HKDevice:")
	if !ok {
		return d, errDevice
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 || !strings.HasSuffix(rest, ">") {
		return d, errDevice
	}
	rest = strings.TrimSuffix(rest[end+1:], ">")
	rest = strings.TrimPrefix(rest, ",")
	var field *string
	for part := range strings.SplitSeq(rest, ", ") {
		part = strings.TrimPrefix(part, " ")
		key, value, hasKey := strings.Cut(part, ":")
		if f, known := d.field(key); hasKey && known {
			field = f
			*field = value
			continue
		}
		if hasKey && isKey(key) {
			field = nil // an unknown key: skip its value
			continue
		}
		if field != nil {
			*field += ", " + part
		}
	}
	return d, nil
}

func (d *Device) field(key string) (*string, bool) {
	switch key {
	case "name":
		return &d.Name, true
	case "manufacturer":
		return &d.Manufacturer, true
	case "model":
		return &d.Model, true
	case "hardware":
		return &d.Hardware, true
	case "software":
		return &d.Software, true
	case "firmware":
		return &d.Firmware, true
	case "localIdentifier":
		return &d.LocalIdentifier, true
	case "UDIDeviceIdentifier":
		return &d.UDIDeviceIdentifier, true
	}
	return nil, false
}

// isKey reports whether s looks like a key of the device attribute (letters
// only), rather than the tail of a value that holds a colon.
func isKey(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
