package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
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

// keep validates each item on its own and keeps the good ones.
func (b *Batch) keep(records []Record, sleep []SleepStage, workouts []Workout) {
	b.Records = records[:0]
	for i := range records {
		r := &records[i]
		path := itemPath{"records", i}
		if !b.span(&r.span, path) ||
			b.overLimit(path, field{"type", len(r.Type), MaxTypeBytes}, field{"unit", len(r.Unit), MaxUnitBytes}) {
			continue
		}
		v, err := parseNumber(r.ValueRaw)
		if err != nil {
			b.drop(path.field("value"), "value "+err.Error())
			continue
		}
		r.Value = v
		b.Records = append(b.Records, *r)
	}
	b.Sleep = sleep[:0]
	for i := range sleep {
		s := &sleep[i]
		path := itemPath{"sleep", i}
		if s.Stage == "" {
			b.drop(path.field("stage"), "stage is required")
			continue
		}
		if !b.span(&s.span, path) ||
			b.overLimit(path, field{"stage", len(s.Stage), MaxStageBytes}, field{"values", len(s.Values), MaxMetadataBytes}) {
			continue
		}
		b.Sleep = append(b.Sleep, *s)
	}
	b.Workouts = workouts[:0]
	for i := range workouts {
		w := &workouts[i]
		path := itemPath{"workouts", i}
		if !b.span(&w.span, path) || b.overLimit(path, field{"type", len(w.Type), MaxTypeBytes},
			field{"title", len(w.Title), MaxTitleBytes}, field{"notes", len(w.Notes), MaxNotesBytes}) {
			continue
		}
		stats := w.Values[:0]
		for j := range w.Values {
			st := w.Values[j]
			spath := func() string { return path.field("values[" + strconv.Itoa(j) + "]") }
			if st.Type == droppedStatistic {
				continue
			}
			if b, ok := st.ValueRaw.(bool); ok && st.Type != "" {
				// Flags such as indoorWorkout: true is 1, false is 0.
				st.ValueRaw = map[bool]float64{true: 1, false: 0}[b]
			}
			if st.Type == "" {
				b.warn(spath()+".type", "statistic dropped: type is required")
				continue
			}
			if len(st.Type) > MaxTypeBytes || len(st.Unit) > MaxUnitBytes {
				f, limit := "type", MaxTypeBytes
				if len(st.Type) <= MaxTypeBytes {
					f, limit = "unit", MaxUnitBytes
				}
				b.warn(spath()+"."+f, "statistic dropped: "+f+" is longer than "+strconv.Itoa(limit)+" bytes")
				continue
			}
			v, err := parseNumber(st.ValueRaw)
			if err != nil {
				b.warn(spath()+".value", "statistic dropped: value "+err.Error())
				continue
			}
			st.Value = v
			stats = append(stats, st)
		}
		w.Values = stats
		b.Workouts = append(b.Workouts, *w)
	}
}

// itemPath names an item of the body, data.<coll>[i]; the string is built
// only for the items an error or a warning names.
type itemPath struct {
	coll string
	i    int
}

func (p itemPath) field(f string) string {
	return "data." + p.coll + "[" + strconv.Itoa(p.i) + "]." + f
}

// span validates the dates and zone offset of an item. A bad date drops the
// item; a bad zone offset drops only that field.
func (b *Batch) span(s *span, path itemPath) bool {
	if s.StartRaw == nil {
		b.drop(path.field("startDate"), "startDate is required")
		return false
	}
	start, err := parseTime(s.StartRaw)
	if err != nil {
		b.drop(path.field("startDate"), "startDate "+err.Error())
		return false
	}
	if s.EndRaw == nil {
		b.drop(path.field("endDate"), "endDate is required")
		return false
	}
	end, err := parseTime(s.EndRaw)
	if err != nil {
		b.drop(path.field("endDate"), "endDate "+err.Error())
		return false
	}
	s.Start, s.End = start, end
	s.Source.merge()
	if b.spanOverLimit(s, path) {
		return false
	}
	if s.ZoneRaw != nil {
		if z, ok := normalizeZone(s.ZoneRaw); ok {
			s.ZoneOffset = z
		} else {
			b.warn(path.field("zoneOffset"), "zoneOffset ignored: expected +HH:MM, -HH:MM or Z")
		}
	}
	return true
}

// parseNumber accepts a JSON number or a numeric string and requires a
// finite value.
func parseNumber(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		p, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, fmt.Errorf("must be a finite number")
		}
		f = p
	case string:
		x = strings.TrimSpace(x)
		if strings.ContainsAny(x, "xX_") { // no hex floats or digit separators
			return 0, fmt.Errorf("must be a finite number")
		}
		p, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("must be a finite number")
		}
		f = p
	case nil:
		return 0, fmt.Errorf("is required and must be a finite number")
	default:
		return 0, fmt.Errorf("must be a finite number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("must be a finite number")
	}
	return f, nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime accepts RFC 3339 with or without fraction, with Z or an offset,
// a naive date-time (read as UTC), or a JSON number of Unix seconds (or
// milliseconds when it is too large to be seconds, as pydantic does).
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		if n := len(x); n > 0 && x[n-1] == 'z' {
			x = x[:n-1] + "Z"
		}
		if n := len(x); n > 10 && (x[10] == 't') {
			x = x[:10] + "T" + x[11:]
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("is not an RFC 3339 date-time")
	case float64:
		return unixTime(x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("is not a valid Unix time")
		}
		return unixTime(f)
	default:
		return time.Time{}, fmt.Errorf("must be an RFC 3339 string or Unix seconds")
	}
}

func unixTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return time.Time{}, fmt.Errorf("is not a valid Unix time")
	}
	if f > 2e10 { // milliseconds
		f /= 1000
	}
	if f > 253402300799 { // 9999-12-31
		return time.Time{}, fmt.Errorf("is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// normalizeZone returns the offset as "+HH:MM"; "Z" becomes "+00:00".
func normalizeZone(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	if s == "Z" || s == "z" {
		return "+00:00", true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return "", false
	}
	for _, i := range []int{1, 2, 4, 5} {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	hh := int(s[1]-'0')*10 + int(s[2]-'0')
	mm := int(s[4]-'0')*10 + int(s[5]-'0')
	if hh > 18 || mm > 59 {
		return "", false
	}
	return s, true
}

// decodeSlow runs when the typed decode failed. It decodes the body as a
// generic tree with encoding/json (which reports byte offsets), rejects what
// must reject the whole body, and decodes each item on its own so that one
// bad item costs only itself.
func decodeSlow(body []byte, maxItems int) (*Batch, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, jsonError(err, dec.InputOffset(), len(body))
	}
	if rest := dec.InputOffset(); len(bytes.TrimLeft(body[rest:], " \t\r\n")) > 0 {
		off := int(rest) + len(body[rest:]) - len(bytes.TrimLeft(body[rest:], " \t\r\n"))
		return nil, invalidf("Request body is not valid JSON: unexpected data after the top-level value (byte offset %d).", off)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalidf("Request body must be a JSON object (byte offset %d).", len(body)-len(bytes.TrimLeft(body, " \t\r\n")))
	}
	b := &Batch{}
	if err := b.envelope(numberless(obj["provider"]), numberless(obj["sdkVersion"]), obj["syncTimestamp"]); err != nil {
		return nil, err
	}
	var data map[string]any
	switch d := obj["data"].(type) {
	case nil:
		return b, nil
	case map[string]any:
		data = d
	default:
		return nil, invalidf("data must be an object.")
	}
	lists := map[string][]any{}
	n := 0
	for _, name := range []string{"records", "sleep", "workouts"} {
		switch l := data[name].(type) {
		case nil:
		case []any:
			lists[name] = l
			n += len(l)
		default:
			return nil, invalidf("data.%s must be an array.", name)
		}
	}
	if err := checkItems(n, maxItems); err != nil {
		return nil, err
	}
	var records []Record
	for i, item := range lists["records"] {
		var r Record
		if decodeItem(b, item, "data.records["+strconv.Itoa(i)+"]", recordStrings, &r) {
			records = append(records, r)
		} else {
			records = append(records, Record{span: span{StartRaw: skipMarker}})
		}
	}
	var sleep []SleepStage
	for i, item := range lists["sleep"] {
		var s SleepStage
		if decodeItem(b, item, "data.sleep["+strconv.Itoa(i)+"]", sleepStrings, &s) {
			sleep = append(sleep, s)
		} else {
			sleep = append(sleep, SleepStage{span: span{StartRaw: skipMarker}})
		}
	}
	var workouts []Workout
	for i, item := range lists["workouts"] {
		var w Workout
		path := "data.workouts[" + strconv.Itoa(i) + "]"
		if m, ok := item.(map[string]any); ok {
			item = filterStatistics(b, m, path)
		}
		if decodeItem(b, item, path, workoutStrings, &w) {
			workouts = append(workouts, w)
		} else {
			workouts = append(workouts, Workout{span: span{StartRaw: skipMarker}})
		}
	}
	b.keepDecoded(records, sleep, workouts)
	return b, nil
}

// droppedStatistic marks a statistic the slow path already reported.
const droppedStatistic = "\x00dropped"

// skipMarker marks an item already dropped by the slow path, so that keep
// does not report it a second time while indexes stay those of the body.
type skipMarkerType struct{}

var skipMarker any = skipMarkerType{}

func (b *Batch) keepDecoded(records []Record, sleep []SleepStage, workouts []Workout) {
	// Items dropped by decodeItem are placeholders: skip them, and validate
	// the rest one by one so that reports carry the index of the body.
	var r []Record
	var s []SleepStage
	var w []Workout
	for i := range records {
		if records[i].StartRaw == skipMarker {
			continue
		}
		one := &Batch{}
		one.keep(records[i:i+1], nil, nil)
		b.merge(one, "data.records[0]", "data.records["+strconv.Itoa(i)+"]")
		r = append(r, one.Records...)
	}
	for i := range sleep {
		if sleep[i].StartRaw == skipMarker {
			continue
		}
		one := &Batch{}
		one.keep(nil, sleep[i:i+1], nil)
		b.merge(one, "data.sleep[0]", "data.sleep["+strconv.Itoa(i)+"]")
		s = append(s, one.Sleep...)
	}
	for i := range workouts {
		if workouts[i].StartRaw == skipMarker {
			continue
		}
		one := &Batch{}
		one.keep(nil, nil, workouts[i:i+1])
		b.merge(one, "data.workouts[0]", "data.workouts["+strconv.Itoa(i)+"]")
		w = append(w, one.Workouts...)
	}
	b.Records, b.Sleep, b.Workouts = r, s, w
}

// merge adds the reports of a one-item batch, renaming its index.
func (b *Batch) merge(one *Batch, from, to string) {
	for _, e := range one.Errors {
		b.drop(to+strings.TrimPrefix(e.Path, from), e.Detail)
	}
	for _, e := range one.Warnings {
		b.warn(to+strings.TrimPrefix(e.Path, from), e.Detail)
	}
}

var (
	commonStrings  = []string{"id", "parentId"}
	recordStrings  = append([]string{"type", "unit"}, commonStrings...)
	sleepStrings   = append([]string{"stage"}, commonStrings...)
	workoutStrings = append([]string{"type", "title", "notes"}, commonStrings...)
)

// decodeItem checks the field types of one generic item and decodes it into
// dst. It reports the item and returns false when it cannot be kept.
func decodeItem(b *Batch, item any, path string, stringFields []string, dst any) bool {
	m, ok := item.(map[string]any)
	if !ok {
		b.drop(path, "item must be an object")
		return false
	}
	for _, f := range stringFields {
		if v, present := m[f]; present && v != nil {
			if _, isString := v.(string); !isString {
				b.drop(path+"."+f, f+" must be a string")
				return false
			}
		}
	}
	if src, present := m["source"]; present && src != nil {
		if _, isObject := src.(map[string]any); !isObject {
			b.warn(path+".source", "source ignored: must be an object")
			delete(m, "source")
		}
	}
	raw, err := json.Marshal(m)
	if err == nil {
		err = strictJSON.Unmarshal(raw, dst)
	}
	if err != nil {
		if _, present := m["source"]; present {
			// A malformed source costs the source, not the item. A failed
			// decode leaves dst half filled: start again from zero.
			delete(m, "source")
			reflect.ValueOf(dst).Elem().SetZero()
			if raw, err2 := json.Marshal(m); err2 == nil && strictJSON.Unmarshal(raw, dst) == nil {
				b.warn(path+".source", "source ignored: a field has the wrong type")
				return true
			}
		}
		reflect.ValueOf(dst).Elem().SetZero()
		b.drop(path, "item has a field of the wrong type")
		return false
	}
	return true
}

// filterStatistics drops workout statistics that are not objects with a
// string type and unit, and returns the item with the rest.
func filterStatistics(b *Batch, m map[string]any, path string) map[string]any {
	vals, ok := m["values"].([]any)
	if !ok {
		if m["values"] != nil {
			b.warn(path+".values", "values ignored: must be an array")
			delete(m, "values")
		}
		return m
	}
	// A bad statistic is replaced by a placeholder that keep skips
	// silently, so that the statistics after it keep their body index.
	kept := make([]any, 0, len(vals))
	for j, v := range vals {
		spath := path + ".values[" + strconv.Itoa(j) + "]"
		st, ok := v.(map[string]any)
		switch {
		case !ok:
			b.warn(spath, "statistic dropped: must be an object")
		case func() bool { t, ok := st["type"].(string); return !ok || t == "" }():
			b.warn(spath+".type", "statistic dropped: type must be a string")
		case st["unit"] != nil && func() bool { _, ok := st["unit"].(string); return !ok }():
			b.warn(spath+".unit", "statistic dropped: unit must be a string")
		default:
			kept = append(kept, st)
			continue
		}
		kept = append(kept, map[string]any{"type": droppedStatistic})
	}
	m["values"] = kept
	return m
}

// numberless turns a json.Number into its text so that the envelope check
// can show it.
func numberless(v any) any {
	if n, ok := v.(json.Number); ok {
		return string(n)
	}
	return v
}

func jsonError(err error, offset int64, size int) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		// Offset counts the bytes read, the bad one included.
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", e.Error(), max(e.Offset-1, 0))
	case *json.UnmarshalTypeError:
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", e.Error(), e.Offset)
	default:
		if err.Error() == "EOF" {
			return invalidf("Request body is empty; expected a JSON object.")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// The decoder's offset is still at the value's start; the
			// body ended at its last byte.
			return invalidf("Request body is not valid JSON: it ends before its value is complete (byte offset %d).", size)
		}
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", strings.TrimPrefix(err.Error(), "json: "), offset)
	}
}
