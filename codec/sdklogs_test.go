package codec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeSDKLogsFixtures(t *testing.T) {
	b, err := DecodeSDKLogs(readFixture(t, "sdk_logs__all_event_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.SDKVersion != "1.2.0" || b.Provider != "apple" || len(b.Events) != 3 {
		t.Fatalf("batch = %+v", b)
	}
	for i, want := range []string{SDKLogSyncStart, SDKLogTypeSyncEnd, SDKLogDeviceState} {
		if b.Events[i].Type != want {
			t.Errorf("event %d type %q, want %q", i, b.Events[i].Type, want)
		}
	}
	if got := b.Events[1].Timestamp.Format("2006-01-02T15:04:05Z07:00"); got != "2026-04-09T10:00:05Z" {
		t.Errorf("timestamp = %s", got)
	}
	var dev map[string]any
	if err := json.Unmarshal(b.Events[2].Raw, &dev); err != nil {
		t.Fatal(err)
	}
	if dev["batteryLevel"] != 0.72 || dev["totalRamBytes"] != 6442450944.0 || dev["thermalState"] != "nominal" {
		t.Errorf("stored event = %s", b.Events[2].Raw)
	}
	if strings.ContainsAny(string(b.Events[0].Raw), " \n") {
		t.Errorf("stored event not compacted: %s", b.Events[0].Raw)
	}

	b, err = DecodeSDKLogs(readFixture(t, "sdk_logs__android_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || !strings.Contains(string(b.Events[0].Raw), `"STEP_COUNT"`) {
		t.Errorf("android batch = %+v", b)
	}
}

func logBody(events ...string) string {
	return `{"sdkVersion":"1.0","provider":"Google","events":[` + strings.Join(events, ",") + `]}`
}

const (
	startEvent  = `{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z"}`
	endEvent    = `{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"sleep","success":true}`
	deviceEvent = `{"eventType":"device_state","timestamp":1775728800}`
)

func TestDecodeSDKLogsAccepts(t *testing.T) {
	cases := map[string]string{
		"minimal of each":          logBody(startEvent, endEvent, deviceEvent),
		"no provider":              `{"sdkVersion":"1","events":[` + startEvent + `]}`,
		"null provider":            `{"sdkVersion":"1","provider":null,"events":[` + startEvent + `]}`,
		"time range without start": logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","timeRange":{"endDate":"2026-04-09T10:00:00Z"}}`),
		"null time range":          logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","timeRange":null}`),
		"integral strings":         logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x","success":"yes","recordCount":"12","durationMs":5.0}`),
		"battery unknown":          logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":-1}`),
		"battery full, nulls":      logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":1,"batteryState":null,"isLowPowerMode":0,"availableRamBytes":null}`),
		"unknown fields kept":      logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x","success":false,"errorCode":"E1"}`),
		"session id":               `{"sdkVersion":"1","syncSessionId":"s-1","events":[` + startEvent + `]}`,
		"hundred events":           logBody(strings.Repeat(deviceEvent+",", 99) + deviceEvent),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := DecodeSDKLogs([]byte(body))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if len(b.Events) == 0 {
				t.Fatal("no events")
			}
		})
	}
	b, _ := DecodeSDKLogs([]byte(cases["no provider"]))
	if b.Provider != "unknown" {
		t.Errorf("missing provider stored as %q, want unknown", b.Provider)
	}
	b, _ = DecodeSDKLogs([]byte(cases["minimal of each"]))
	if b.Provider != "google" {
		t.Errorf("provider %q, want it lower-cased", b.Provider)
	}
	b, _ = DecodeSDKLogs([]byte(cases["session id"]))
	if b.SessionID != "s-1" {
		t.Errorf("session id %q", b.SessionID)
	}
	b, _ = DecodeSDKLogs([]byte(cases["unknown fields kept"]))
	if !strings.Contains(string(b.Events[0].Raw), `"errorCode":"E1"`) {
		t.Errorf("unknown field lost: %s", b.Events[0].Raw)
	}
}

func TestDecodeSDKLogsRejects(t *testing.T) {
	cases := []struct {
		name, body, detail string
	}{
		{"not JSON", `{"sdkVersion":`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"trailing data", `{"sdkVersion":"1","events":[]} x`, "unexpected data"},
		{"bad UTF-8", "{\"sdkVersion\":\"\xff\"}", "not valid UTF-8"},
		{"sdkVersion missing", `{"events":[` + startEvent + `]}`, "sdkVersion is required"},
		{"sdkVersion null", `{"sdkVersion":null,"events":[` + startEvent + `]}`, "sdkVersion is required"},
		{"sdkVersion number", `{"sdkVersion":1,"events":[` + startEvent + `]}`, "sdkVersion must be a string"},
		{"provider number", `{"sdkVersion":"1","provider":3,"events":[` + startEvent + `]}`, "provider must be"},
		{"events missing", `{"sdkVersion":"1"}`, "events is required"},
		{"events null", `{"sdkVersion":"1","events":null}`, "events must be an array"},
		{"events object", `{"sdkVersion":"1","events":{}}`, "events must be an array"},
		{"events empty", logBody(), "events must hold 1 to 100 events; it holds 0"},
		{"101 events", logBody(strings.Repeat(deviceEvent+",", 100) + deviceEvent), "it holds 101"},
		{"event not an object", logBody(`3`), "events[0] must be an object"},
		{"eventType missing", logBody(startEvent, `{"timestamp":"2026-04-09T10:00:00Z"}`), "events[1].eventType is required"},
		{"eventType unknown", logBody(`{"eventType":"crash","timestamp":"2026-04-09T10:00:00Z"}`), "events[0].eventType must be one of historical_data_sync_start"},
		{"eventType case", logBody(`{"eventType":"Device_State","timestamp":"2026-04-09T10:00:00Z"}`), "events[0].eventType must be one of"},
		{"eventType key case", logBody(`{"EventType":"device_state","timestamp":"2026-04-09T10:00:00Z"}`), "events[0].eventType is required"},
		{"timestamp missing", logBody(`{"eventType":"device_state"}`), "events[0].timestamp is required"},
		{"timestamp bad", logBody(`{"eventType":"device_state","timestamp":"yesterday"}`), "events[0].timestamp is not an RFC 3339 date-time"},
		{"counts not a list", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":null}`), "events[0].dataTypeCounts must be an array"},
		{"count negative", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":[{"type":"a","count":1},{"type":"b","count":-1}]}`), "events[0].dataTypeCounts[1].count must be an integer of at least 0"},
		{"count fraction", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":[{"type":"a","count":1.5}]}`), "events[0].dataTypeCounts[0].count must be an integer"},
		{"count type missing", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","dataTypeCounts":[{"count":1}]}`), "events[0].dataTypeCounts[0].type is required"},
		{"time range without end", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","timeRange":{"startDate":"2026-04-09T10:00:00Z"}}`), "events[0].timeRange.endDate is required"},
		{"time range bad start", logBody(`{"eventType":"historical_data_sync_start","timestamp":"2026-04-09T10:00:00Z","timeRange":{"startDate":"x","endDate":"2026-04-09T10:00:00Z"}}`), "events[0].timeRange.startDate"},
		{"dataType missing", logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","success":true}`), "events[0].dataType is required"},
		{"success missing", logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x"}`), "events[0].success is required"},
		{"success bad", logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x","success":"maybe"}`), "events[0].success must be a boolean"},
		{"recordCount bad", logBody(`{"eventType":"historical_data_type_sync_end","timestamp":"2026-04-09T10:00:00Z","dataType":"x","success":true,"recordCount":"many"}`), "events[0].recordCount must be an integer"},
		{"battery over", logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":1.5}`), "events[0].batteryLevel must be a number from 0 to 1"},
		{"battery negative", logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","batteryLevel":-0.5}`), "events[0].batteryLevel"},
		{"low power bad", logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","isLowPowerMode":2}`), "events[0].isLowPowerMode must be a boolean"},
		{"thermal bad", logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","thermalState":1}`), "events[0].thermalState must be a string"},
		{"ram bad", logBody(`{"eventType":"device_state","timestamp":"2026-04-09T10:00:00Z","totalRamBytes":true}`), "events[0].totalRamBytes must be an integer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSDKLogs([]byte(tc.body))
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalid {
				t.Fatalf("err = %v, want an invalid-input error", err)
			}
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", e.Detail, tc.detail)
			}
		})
	}
}

// The decoded batch owns its bytes.
func TestDecodeSDKLogsOwnsBytes(t *testing.T) {
	body := []byte(logBody(endEvent))
	b, err := DecodeSDKLogs(body)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b.Events[0].Raw)
	for i := range body {
		body[i] = 'x'
	}
	if string(b.Events[0].Raw) != raw || b.SDKVersion != "1.0" {
		t.Errorf("batch changed with the body: %s", b.Events[0].Raw)
	}
}

func TestSDKLogResponse(t *testing.T) {
	b, err := Marshal(NewSDKLogResponse("u-1"))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"status_code":202,"response":"Log events stored successfully","user_id":"u-1","dropped_count":0,"records_saved":0,"workouts_saved":0,"sleep_saved":0}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func FuzzDecodeSDKLogs(f *testing.F) {
	f.Add(readFixture(f, "sdk_logs__all_event_types.json"))
	f.Add(readFixture(f, "sdk_logs__android_types.json"))
	f.Add([]byte(logBody(startEvent, endEvent, deviceEvent)))
	f.Add([]byte(`{"sdkVersion":"1","events":[{"eventType":"device_state","timestamp":1e300}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeSDKLogs(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Detail == "" {
				t.Fatalf("error without detail: %v", err)
			}
			return
		}
		if len(b.Events) < 1 || len(b.Events) > MaxSDKLogEvents {
			t.Fatalf("%d events accepted", len(b.Events))
		}
		for _, e := range b.Events {
			if !json.Valid(e.Raw) || e.Raw[0] != '{' {
				t.Fatalf("stored event is not a JSON object: %q", e.Raw)
			}
		}
	})
}
