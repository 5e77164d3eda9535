package codec

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bytedance/sonic"
)

// MaxSDKLogEvents is the most events one SDK log request may carry; Open
// Wearables requires 1 to 100.
const MaxSDKLogEvents = 100

// SDK log event types (Open Wearables' SDKLogEvent discriminator).
const (
	SDKLogSyncStart   = "historical_data_sync_start"
	SDKLogTypeSyncEnd = "historical_data_type_sync_end"
	SDKLogDeviceState = "device_state"
)

// SDKLogBatch is a validated SDKLogRequest (POST /sdk/users/{id}/logs).
//
// Validation is Open Wearables' (fact sheet §1.4), field by field as
// pydantic's lax mode reads them, and the first problem rejects the whole
// request with its JSON path:
//
//   - sdkVersion: a string, required. provider: a string or null; stored
//     lower-cased, "unknown" when absent (as the anchor archives it).
//     syncSessionId: a string or null, kept when sent.
//   - events: an array of 1 to 100 objects, each with eventType one of
//     historical_data_sync_start, historical_data_type_sync_end,
//     device_state, and timestamp (RFC 3339 or Unix seconds), required.
//   - historical_data_sync_start: dataTypeCounts, absent or an array of
//     {type: string, count: integer >= 0}; timeRange, absent, null or
//     {startDate?: date-time, endDate: date-time}.
//   - historical_data_type_sync_end: dataType (string) and success
//     (boolean) required; recordCount and durationMs integers or null.
//   - device_state: batteryLevel a number from 0 to 1 or null;
//     isLowPowerMode a boolean or null; batteryState, thermalState and
//     taskType strings or null; availableRamBytes and totalRamBytes
//     integers or null.
//
// Integers may be sent as integral numbers or numeric strings, booleans as
// true/false, 0/1 or the strings pydantic knows ("yes", "off", ...).
//
// One difference, on purpose: batteryLevel -1 is accepted. Both mobile SDKs
// send -1 when the level is unknown, and Open Wearables' 0..1 bound makes it
// reject the whole request for it, losing the telemetry.
//
// Fields the schema does not name are accepted and kept: each event is
// stored as sent (compacted), so that nothing the SDK reported is lost.
type SDKLogBatch struct {
	SDKVersion string
	Provider   string
	SessionID  string
	Events     []SDKLogEvent
}

// SDKLogEvent is one validated event.
type SDKLogEvent struct {
	Type      string
	Timestamp time.Time
	// Raw is the event object as sent, compacted. It owns its bytes.
	Raw []byte
}

type sdkLogRequest struct {
	SDKVersion any             `json:"sdkVersion"`
	Provider   any             `json:"provider"`
	SessionID  any             `json:"syncSessionId"`
	Events     json.RawMessage `json:"events"`
}

// sdkLogJSON is strictJSON that keeps numbers exact, for integer checks.
var sdkLogJSON = sonic.Config{CaseSensitive: true, ValidateString: true, UseNumber: true}.Froze()

// DecodeSDKLogs decodes and validates an SDKLogRequest body. The returned
// batch does not refer to body.
func DecodeSDKLogs(body []byte) (*SDKLogBatch, error) {
	if !utf8.Valid(body) {
		return nil, invalidf("Request body is not valid UTF-8 (byte offset %d).", invalidUTF8Offset(body))
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	var req sdkLogRequest
	if err := sdkLogJSON.Unmarshal(body, &req); err != nil {
		return nil, invalidf("Request body is not valid JSON for this route.")
	}
	b := &SDKLogBatch{}
	switch v := req.SDKVersion.(type) {
	case string:
		b.SDKVersion = v
	case nil:
		return nil, invalidf("sdkVersion is required.")
	default:
		return nil, invalidf("sdkVersion must be a string.")
	}
	switch v := req.Provider.(type) {
	case string:
		b.Provider = strings.ToLower(v)
	case nil:
	default:
		return nil, invalidf("provider must be a string or null.")
	}
	if b.Provider == "" {
		b.Provider = "unknown"
	}
	switch v := req.SessionID.(type) {
	case string:
		b.SessionID = v
	case nil:
	default:
		return nil, invalidf("syncSessionId must be a string or null.")
	}
	events := bytes.TrimSpace(req.Events)
	if len(events) == 0 {
		return nil, invalidf("events is required.")
	}
	if events[0] != '[' {
		return nil, invalidf("events must be an array of 1 to %d events.", MaxSDKLogEvents)
	}
	var raws []json.RawMessage
	if err := sdkLogJSON.Unmarshal(events, &raws); err != nil {
		return nil, invalidf("events must be an array of 1 to %d events.", MaxSDKLogEvents)
	}
	if len(raws) < 1 || len(raws) > MaxSDKLogEvents {
		return nil, invalidf("events must hold 1 to %d events; it holds %d.", MaxSDKLogEvents, len(raws))
	}
	b.Events = make([]SDKLogEvent, 0, len(raws))
	for i, raw := range raws {
		path := "events[" + strconv.Itoa(i) + "]"
		e, err := decodeSDKLogEvent(raw, path)
		if err != nil {
			return nil, err
		}
		b.Events = append(b.Events, e)
	}
	return b, nil
}

// checkJSON reports a body that is not one JSON object, with the byte
// offset of the problem.
func checkJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var root json.RawMessage
	if err := dec.Decode(&root); err != nil {
		return jsonError(err, dec.InputOffset(), len(body))
	}
	if rest := dec.InputOffset(); len(bytes.TrimLeft(body[rest:], " \t\r\n")) > 0 {
		off := int(rest) + len(body[rest:]) - len(bytes.TrimLeft(body[rest:], " \t\r\n"))
		return invalidf("Request body is not valid JSON: unexpected data after the top-level value (byte offset %d).", off)
	}
	if firstByte(body) != '{' {
		return invalidf("Request body must be a JSON object (byte offset %d).", len(body)-len(bytes.TrimLeft(body, " \t\r\n")))
	}
	return nil
}

func decodeSDKLogEvent(raw json.RawMessage, path string) (SDKLogEvent, error) {
	var e SDKLogEvent
	if firstByte(raw) != '{' {
		return e, invalidf("%s must be an object.", path)
	}
	var m map[string]any
	if err := sdkLogJSON.Unmarshal(raw, &m); err != nil {
		return e, invalidf("%s must be an object.", path)
	}
	typ, ok := m["eventType"].(string)
	switch {
	case m["eventType"] == nil:
		return e, invalidf("%s.eventType is required.", path)
	case !ok || (typ != SDKLogSyncStart && typ != SDKLogTypeSyncEnd && typ != SDKLogDeviceState):
		return e, invalidf("%s.eventType must be one of %s, %s, %s.", path, SDKLogSyncStart, SDKLogTypeSyncEnd, SDKLogDeviceState)
	}
	e.Type = typ
	ts, err := requiredTime(m, path, "timestamp")
	if err != nil {
		return e, err
	}
	e.Timestamp = ts
	f := fields{m: m, path: path}
	switch typ {
	case SDKLogSyncStart:
		if v, present := m["dataTypeCounts"]; present {
			list, ok := v.([]any)
			if !ok {
				return e, invalidf("%s.dataTypeCounts must be an array.", path)
			}
			for j, item := range list {
				ipath := path + ".dataTypeCounts[" + strconv.Itoa(j) + "]"
				c, ok := item.(map[string]any)
				if !ok {
					return e, invalidf("%s must be an object.", ipath)
				}
				cf := fields{m: c, path: ipath}
				if err := cf.str("type", true); err != nil {
					return e, err
				}
				if err := cf.integer("count", true, true); err != nil {
					return e, err
				}
			}
		}
		if v := m["timeRange"]; v != nil {
			tr, ok := v.(map[string]any)
			if !ok {
				return e, invalidf("%s.timeRange must be an object or null.", path)
			}
			if s := tr["startDate"]; s != nil {
				if _, err := parseTime(s); err != nil {
					return e, invalidf("%s.timeRange.startDate %s.", path, err.Error())
				}
			}
			if _, err := requiredTime(tr, path+".timeRange", "endDate"); err != nil {
				return e, err
			}
		}
	case SDKLogTypeSyncEnd:
		if err := f.str("dataType", true); err != nil {
			return e, err
		}
		if err := f.boolean("success", true); err != nil {
			return e, err
		}
		if err := f.integer("recordCount", false, false); err != nil {
			return e, err
		}
		if err := f.integer("durationMs", false, false); err != nil {
			return e, err
		}
	case SDKLogDeviceState:
		if v := m["batteryLevel"]; v != nil {
			x, ok := number(v)
			if !ok || !(x >= 0 && x <= 1 || x == -1) {
				return e, invalidf("%s.batteryLevel must be a number from 0 to 1, or -1 when unknown.", path)
			}
		}
		for _, name := range []string{"batteryState", "thermalState", "taskType"} {
			if err := f.str(name, false); err != nil {
				return e, err
			}
		}
		if err := f.boolean("isLowPowerMode", false); err != nil {
			return e, err
		}
		for _, name := range []string{"availableRamBytes", "totalRamBytes"} {
			if err := f.integer(name, false, false); err != nil {
				return e, err
			}
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return e, invalidf("%s must be an object.", path)
	}
	e.Raw = buf.Bytes()
	return e, nil
}

func requiredTime(m map[string]any, path, name string) (time.Time, error) {
	v := m[name]
	if v == nil {
		return time.Time{}, invalidf("%s.%s is required.", path, name)
	}
	t, err := parseTime(v)
	if err != nil {
		return t, invalidf("%s.%s %s.", path, name, err.Error())
	}
	return t, nil
}

// fields checks the members of one JSON object.
type fields struct {
	m    map[string]any
	path string
}

func (f fields) str(name string, required bool) error {
	switch f.m[name].(type) {
	case string:
		return nil
	case nil:
		if required {
			return invalidf("%s.%s is required.", f.path, name)
		}
		return nil
	}
	return invalidf("%s.%s must be a string.", f.path, name)
}

func (f fields) integer(name string, required, nonNegative bool) error {
	v := f.m[name]
	if v == nil {
		if required {
			return invalidf("%s.%s is required.", f.path, name)
		}
		return nil
	}
	n, ok := integer(v)
	if !ok {
		return invalidf("%s.%s must be an integer.", f.path, name)
	}
	if nonNegative && n < 0 {
		return invalidf("%s.%s must be an integer of at least 0.", f.path, name)
	}
	return nil
}

func (f fields) boolean(name string, required bool) error {
	v := f.m[name]
	if v == nil {
		if required {
			return invalidf("%s.%s is required.", f.path, name)
		}
		return nil
	}
	if !isBool(v) {
		return invalidf("%s.%s must be a boolean.", f.path, name)
	}
	return nil
}

// integer reads an integer as pydantic's lax mode does: an integral
// number, or a string holding one.
func integer(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// number reads a finite number or a numeric string.
func number(v any) (float64, bool) {
	f, err := parseNumber(v)
	return f, err == nil
}

// isBool accepts what pydantic's lax mode reads as a boolean.
func isBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return true
	case json.Number:
		return x == "0" || x == "1"
	case string:
		switch strings.ToLower(x) {
		case "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes":
			return true
		}
	}
	return false
}

// NewSDKLogResponse is the 202 answer to stored SDK log events.
func NewSDKLogResponse(userID string) *UploadDataResponse {
	return &UploadDataResponse{StatusCode: 202, Response: "Log events stored successfully", UserID: userID}
}

// SDKLogEntry is one stored SDK log event as GET /users/{id}/sdk-logs lists
// it (a wearhouse route; Open Wearables only writes the events to its log).
// event is the object as the SDK sent it; the other fields say when and
// from which request it arrived, with timestamp, the event's own time,
// normalized to RFC 3339 in UTC.
type SDKLogEntry struct {
	ReceivedAt    string          `json:"received_at"`
	SDKVersion    string          `json:"sdk_version"`
	Provider      string          `json:"provider"`
	SyncSessionID *string         `json:"sync_session_id"`
	EventType     string          `json:"event_type"`
	Timestamp     string          `json:"timestamp"`
	Event         json.RawMessage `json:"event"`
}

// NewSDKLogEntry builds a listed entry. event must be the stored JSON
// object; the entry refers to it.
func NewSDKLogEntry(received time.Time, sdkVersion, provider, sessionID, eventType string, ts time.Time, event []byte) SDKLogEntry {
	e := SDKLogEntry{
		ReceivedAt: formatEventTime(received), SDKVersion: sdkVersion, Provider: provider, EventType: eventType,
		Timestamp: formatEventTime(ts), Event: json.RawMessage(event),
	}
	if sessionID != "" {
		e.SyncSessionID = &sessionID
	}
	return e
}
