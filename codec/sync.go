package codec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bytedance/sonic"

	"wearhouse/health"
)

// MaxListedErrors is how many dropped items a response names; the count of
// all of them is in Batch.Dropped.
const MaxListedErrors = 20

// Providers are the SDK sources wearhouse accepts, lower-cased.
var Providers = health.Providers()

// Source describes the app and device that wrote an item.
type Source struct {
	AppID                  string     `json:"appId,omitempty"`
	Name                   string     `json:"name,omitempty"`
	BundleIdentifier       string     `json:"bundleIdentifier,omitempty"`
	Version                string     `json:"version,omitempty"`
	ProductType            string     `json:"productType,omitempty"`
	OperatingSystemVersion *OSVersion `json:"operatingSystemVersion,omitempty"`
	DeviceID               string     `json:"deviceId,omitempty"`
	DeviceName             string     `json:"deviceName,omitempty"`
	DeviceManufacturer     string     `json:"deviceManufacturer,omitempty"`
	DeviceType             string     `json:"deviceType,omitempty"`
	DeviceModel            string     `json:"deviceModel,omitempty"`
	DeviceHardwareVersion  string     `json:"deviceHardwareVersion,omitempty"`
	DeviceSoftwareVersion  string     `json:"deviceSoftwareVersion,omitempty"`
	RecordingMethod        string     `json:"recordingMethod,omitempty"`

	// The snake_case names of the same fields: Open Wearables accepts both
	// (populate by name), and some clients send them.
	sourceSnake
}

type sourceSnake struct {
	AppIDSnake                  string     `json:"app_id,omitempty"`
	BundleIdentifierSnake       string     `json:"bundle_identifier,omitempty"`
	ProductTypeSnake            string     `json:"product_type,omitempty"`
	OperatingSystemVersionSnake *OSVersion `json:"operating_system_version,omitempty"`
	DeviceIDSnake               string     `json:"device_id,omitempty"`
	DeviceNameSnake             string     `json:"device_name,omitempty"`
	DeviceManufacturerSnake     string     `json:"device_manufacturer,omitempty"`
	DeviceTypeSnake             string     `json:"device_type,omitempty"`
	DeviceModelSnake            string     `json:"device_model,omitempty"`
	DeviceHardwareVersionSnake  string     `json:"device_hardware_version,omitempty"`
	DeviceSoftwareVersionSnake  string     `json:"device_software_version,omitempty"`
	RecordingMethodSnake        string     `json:"recording_method,omitempty"`
}

// merge fills each camelCase field left empty from its snake_case name.
func (s *Source) merge() {
	if s == nil {
		return
	}
	pick := func(dst *string, alt string) {
		if *dst == "" {
			*dst = alt
		}
	}
	pick(&s.AppID, s.AppIDSnake)
	pick(&s.BundleIdentifier, s.BundleIdentifierSnake)
	pick(&s.ProductType, s.ProductTypeSnake)
	pick(&s.DeviceID, s.DeviceIDSnake)
	pick(&s.DeviceName, s.DeviceNameSnake)
	pick(&s.DeviceManufacturer, s.DeviceManufacturerSnake)
	pick(&s.DeviceType, s.DeviceTypeSnake)
	pick(&s.DeviceModel, s.DeviceModelSnake)
	pick(&s.DeviceHardwareVersion, s.DeviceHardwareVersionSnake)
	pick(&s.DeviceSoftwareVersion, s.DeviceSoftwareVersionSnake)
	pick(&s.RecordingMethod, s.RecordingMethodSnake)
	if s.OperatingSystemVersion == nil {
		s.OperatingSystemVersion = s.OperatingSystemVersionSnake
	}
	s.sourceSnake = sourceSnake{}
}

// OSVersion is the operating system version of the writing device.
type OSVersion struct {
	Major float64 `json:"majorVersion"`
	Minor float64 `json:"minorVersion"`
	Patch float64 `json:"patchVersion"`
}

// span holds the fields every item shares. The raw fields keep what was on
// the wire; Start, End and ZoneOffset are filled in by validation.
type span struct {
	ID       string          `json:"id"`
	ParentID string          `json:"parentId"`
	StartRaw any             `json:"startDate"`
	EndRaw   any             `json:"endDate"`
	ZoneRaw  any             `json:"zoneOffset"`
	Source   *Source         `json:"source"`
	Metadata json.RawMessage `json:"metadata"`

	Start      time.Time `json:"-"`
	End        time.Time `json:"-"`
	ZoneOffset string    `json:"-"` // "+HH:MM", or empty when absent or dropped
}

// Record is one health metric sample (data.records[]).
type Record struct {
	span
	Type     string `json:"type"`
	ValueRaw any    `json:"value"`
	Unit     string `json:"unit"`

	Value float64 `json:"-"`
}

// SleepStage is one sleep interval (data.sleep[]).
type SleepStage struct {
	span
	Stage  string          `json:"stage"`
	Values json.RawMessage `json:"values"`
}

// WorkoutStatistic is one entry of a workout's values.
type WorkoutStatistic struct {
	Type     string `json:"type"`
	Unit     string `json:"unit"`
	ValueRaw any    `json:"value"`

	Value float64 `json:"-"`
}

// Workout is one workout (data.workouts[]) with its details.
type Workout struct {
	span
	Type     string             `json:"type"`
	Title    string             `json:"title"`
	Notes    string             `json:"notes"`
	Values   []WorkoutStatistic `json:"values"`
	Segments json.RawMessage    `json:"segments"`
	Laps     json.RawMessage    `json:"laps"`
	Route    json.RawMessage    `json:"route"`
	Samples  json.RawMessage    `json:"samples"`
}

type syncData struct {
	Records  []Record     `json:"records"`
	Sleep    []SleepStage `json:"sleep"`
	Workouts []Workout    `json:"workouts"`
}

type syncRequest struct {
	Provider      any       `json:"provider"`
	SDKVersion    any       `json:"sdkVersion"`
	SyncTimestamp any       `json:"syncTimestamp"`
	Data          *syncData `json:"data"`
}

// Batch is a validated sync request: only the items that passed remain.
type Batch struct {
	Provider      string // lower-cased
	SDKVersion    string
	SyncTimestamp time.Time
	Records       []Record
	Sleep         []SleepStage
	Workouts      []Workout

	Dropped  int         // items dropped, all of them
	Errors   []ItemError // the first MaxListedErrors of them
	Warnings []ItemError // fields ignored and envelope problems
}

// Items is the number of items kept.
func (b *Batch) Items() int { return len(b.Records) + len(b.Sleep) + len(b.Workouts) }

func (b *Batch) drop(path, detail string) {
	b.Dropped++
	if len(b.Errors) < MaxListedErrors {
		b.Errors = append(b.Errors, ItemError{Path: path, Detail: detail})
	}
}

func (b *Batch) warn(path, detail string) {
	if len(b.Warnings) < MaxListedErrors {
		b.Warnings = append(b.Warnings, ItemError{Path: path, Detail: detail})
	}
}

// DecodeSync decodes and validates a SyncRequest body (SPEC §2, steps 1 to 6).
// A returned *Error rejects the whole body; otherwise bad items have been
// dropped and reported in the batch. maxItems bounds the number of items
// before anything is decoded.
func DecodeSync(body []byte, maxItems int) (*Batch, error) {
	if !utf8.Valid(body) {
		return nil, invalidf("Request body is not valid UTF-8 (byte offset %d).", invalidUTF8Offset(body))
	}
	counts, cerr := countCollections(body)
	if cerr == nil {
		if err := checkItems(counts[0]+counts[1]+counts[2], maxItems); err != nil {
			return nil, err
		}
	}
	// Slices sized from the count: the decoder fills them instead of
	// growing them (a 2,000-item body would otherwise copy its records
	// about eleven times over).
	var req syncRequest
	if cerr == nil {
		req.Data = &syncData{
			Records:  make([]Record, 0, counts[0]),
			Sleep:    make([]SleepStage, 0, counts[1]),
			Workouts: make([]Workout, 0, counts[2]),
		}
	}
	if firstByte(body) != '{' || strictJSON.Unmarshal(body, &req) != nil {
		// The fast path failed: find out why, item by item.
		return decodeSlow(body, maxItems)
	}
	if req.Data != nil {
		if err := checkItems(len(req.Data.Records)+len(req.Data.Sleep)+len(req.Data.Workouts), maxItems); err != nil {
			return nil, err
		}
	}
	b := &Batch{}
	if err := b.envelope(req.Provider, req.SDKVersion, req.SyncTimestamp); err != nil {
		return nil, err
	}
	if req.Data != nil {
		b.keep(req.Data.Records, req.Data.Sleep, req.Data.Workouts)
	}
	return b, nil
}

// NewBatch validates items built in Go rather than decoded from a body (an
// import of another format) by the rules DecodeSync applies to a body's
// items: bad items are dropped and counted, and only the items that passed
// remain. The raw fields are read as DecodeSync reads them, and may also hold
// a time.Time (StartRaw, EndRaw) or a float64 (ValueRaw). provider must be
// one of Providers. The slices are reused.
func NewBatch(provider string, records []Record, sleep []SleepStage, workouts []Workout) (*Batch, error) {
	b := &Batch{}
	if err := b.envelope(provider, "", nil); err != nil {
		return nil, err
	}
	b.Warnings = nil // an import has no envelope to warn about
	b.keep(records, sleep, workouts)
	return b, nil
}

// strictJSON decodes as the JSON grammar and the anchor's schema say: keys
// match case-sensitively, and control characters in strings are errors.
var strictJSON = sonic.Config{CaseSensitive: true, ValidateString: true}.Froze()

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// checkItems applies the item limit to the decoded collections. The scan
// before decoding protects memory; this check is the one that decides,
// whatever the scan could not see (escaped keys, malformed input).
func checkItems(n, maxItems int) error {
	if maxItems > 0 && n > maxItems {
		return &Error{Kind: KindTooLarge, Detail: fmt.Sprintf("Batch has %d items; the limit is %d.", n, maxItems)}
	}
	return nil
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// envelope checks provider, sdkVersion and syncTimestamp.
func (b *Batch) envelope(provider, sdkVersion, syncTimestamp any) error {
	p, _ := provider.(string)
	p = strings.ToLower(p)
	ok := false
	for _, s := range Providers {
		if p == s {
			// Keep the constant, not p: p may be a slice of the decoder's
			// copy of the whole body, and a provider string outlives the
			// request (in caches, in runs).
			p, ok = s, true
		}
	}
	if !ok {
		shown := p
		if provider != nil {
			if _, isString := provider.(string); !isString {
				shown = fmt.Sprint(provider)
			}
		}
		return invalidf("Unsupported provider: %s. Supported: %s", echo(shown), strings.Join(Providers, ", "))
	}
	b.Provider = p
	switch v := sdkVersion.(type) {
	case string:
		b.SDKVersion = v
		if v == "" {
			b.warn("sdkVersion", "sdkVersion is empty")
		} else if len(v) > MaxSDKVersionBytes {
			b.SDKVersion = ""
			b.warn("sdkVersion", "sdkVersion ignored: longer than "+strconv.Itoa(MaxSDKVersionBytes)+" bytes")
		}
	case nil:
		b.warn("sdkVersion", "sdkVersion is missing")
	default:
		b.warn("sdkVersion", "sdkVersion must be a string")
	}
	if syncTimestamp == nil {
		b.warn("syncTimestamp", "syncTimestamp is missing")
	} else if t, err := parseTime(syncTimestamp); err != nil {
		b.warn("syncTimestamp", "syncTimestamp "+err.Error())
	} else {
		b.SyncTimestamp = t
	}
	return nil
}
