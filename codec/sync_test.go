package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

const seedFixture = "sync_request__SyncRequest_json_schema_example.json"

// at is a UTC instant for expectations.
func at(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// absent, as a value in item overrides, removes the field.
type absentField struct{}

var absent = absentField{}

// item renders base with overrides applied: kv is key, value, key, value...
// A json.RawMessage value is inserted verbatim.
func item(base map[string]any, kv ...any) string {
	m := make(map[string]any, len(base)+len(kv)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if _, ok := kv[i+1].(absentField); ok {
			delete(m, k)
			continue
		}
		m[k] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// record is a valid data.records item: id r, heart rate 61 bpm, at
// 2026-02-24T08:30:00Z for one minute.
func record(kv ...any) string {
	return item(map[string]any{
		"id": "r", "type": "HEART_RATE", "unit": "bpm", "value": 61,
		"startDate": "2026-02-24T08:30:00Z", "endDate": "2026-02-24T08:31:00Z",
	}, kv...)
}

func sleepItem(kv ...any) string {
	return item(map[string]any{
		"id": "s", "stage": "deep",
		"startDate": "2026-02-24T01:00:00Z", "endDate": "2026-02-24T02:00:00Z",
	}, kv...)
}

func workoutItem(kv ...any) string {
	return item(map[string]any{
		"id": "w", "type": "RUNNING",
		"startDate": "2026-02-24T06:00:00Z", "endDate": "2026-02-24T06:45:00Z",
	}, kv...)
}

// syncBody wraps items in a complete envelope (provider apple).
func syncBody(records, sleep, workouts []string) []byte {
	return []byte(`{"provider":"apple","sdkVersion":"1.0.0","syncTimestamp":"2026-02-24T10:00:00Z","data":{` +
		`"records":[` + strings.Join(records, ",") + `],` +
		`"sleep":[` + strings.Join(sleep, ",") + `],` +
		`"workouts":[` + strings.Join(workouts, ",") + `]}}`)
}

func records(items ...string) []byte { return syncBody(items, nil, nil) }

func mustDecode(t testing.TB, body []byte, maxItems int) *Batch {
	t.Helper()
	b, err := DecodeSync(body, maxItems)
	if err != nil {
		t.Fatalf("DecodeSync(%.200q): unexpected error %v", body, err)
	}
	if b == nil {
		t.Fatalf("DecodeSync(%.200q): nil batch and nil error", body)
	}
	return b
}

func mustReject(t testing.TB, body []byte, maxItems int, kind Kind) *Error {
	t.Helper()
	b, err := DecodeSync(body, maxItems)
	if err == nil {
		t.Fatalf("DecodeSync(%.200q): accepted (%d records, %d sleep, %d workouts), want kind %d",
			body, len(b.Records), len(b.Sleep), len(b.Workouts), kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("DecodeSync(%.200q): error %T %v, want *Error", body, err, err)
	}
	if e.Kind != kind {
		t.Fatalf("DecodeSync(%.200q): kind %d (%s), want %d", body, e.Kind, e.Detail, kind)
	}
	if b != nil {
		t.Fatalf("DecodeSync(%.200q): batch returned with an error", body)
	}
	return e
}

func paths(list []ItemError) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Path
	}
	return out
}

func hasPath(list []ItemError, path string) bool {
	for _, e := range list {
		if e.Path == path {
			return true
		}
	}
	return false
}

// jsonItemCounts counts data.records, data.sleep and data.workouts with
// encoding/json; ok is false when the body does not have that shape.
func jsonItemCounts(body []byte) (records, sleep, workouts int, ok bool) {
	var root map[string]json.RawMessage
	if json.Unmarshal(body, &root) != nil {
		return 0, 0, 0, false
	}
	raw, present := root["data"]
	if !present || string(raw) == "null" {
		return 0, 0, 0, true
	}
	var data map[string]json.RawMessage
	if json.Unmarshal(raw, &data) != nil {
		return 0, 0, 0, false
	}
	n := make([]int, 3)
	for i, name := range []string{"records", "sleep", "workouts"} {
		l, present := data[name]
		if !present || string(l) == "null" {
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(l, &arr) != nil {
			return 0, 0, 0, false
		}
		n[i] = len(arr)
	}
	return n[0], n[1], n[2], true
}

func TestDecodeSyncSeedFixture(t *testing.T) {
	b := mustDecode(t, readFixture(t, seedFixture), 0)

	if b.Provider != "samsung" || b.SDKVersion != "0.1.0" {
		t.Errorf("envelope: provider %q sdkVersion %q", b.Provider, b.SDKVersion)
	}
	if !b.SyncTimestamp.Equal(at(2026, 2, 24, 10, 0, 0, 0)) {
		t.Errorf("syncTimestamp %v", b.SyncTimestamp)
	}
	if b.Dropped != 0 || len(b.Errors) != 0 || len(b.Warnings) != 0 {
		t.Errorf("dropped %d, errors %v, warnings %v; want none", b.Dropped, b.Errors, b.Warnings)
	}
	if b.Items() != 3 {
		t.Errorf("Items() = %d, want 3", b.Items())
	}

	if len(b.Records) != 1 {
		t.Fatalf("%d records, want 1", len(b.Records))
	}
	r := b.Records[0]
	if r.ID != "abc-xyz-123-sys" || r.ParentID != "abc-xyz-123" || r.Type != "BLOOD_PRESSURE_SYSTOLIC" {
		t.Errorf("record ids/type: %q %q %q", r.ID, r.ParentID, r.Type)
	}
	if r.Value != 122 || r.Unit != "mmHg" {
		t.Errorf("record value %v %q, want 122 mmHg", r.Value, r.Unit)
	}
	if r.ZoneOffset != "+01:00" {
		t.Errorf("record zoneOffset %q", r.ZoneOffset)
	}
	if !r.Start.Equal(at(2026, 2, 24, 8, 30, 0, 0)) || !r.End.Equal(r.Start) {
		t.Errorf("record start %v end %v", r.Start, r.End)
	}
	if r.Source == nil {
		t.Fatal("record source missing")
	}
	wantSource := Source{
		AppID: "com.sec.android.app.shealth", DeviceID: "R9ZW30ABC12", DeviceName: "Galaxy Watch7",
		DeviceManufacturer: "Samsung", DeviceModel: "SM-R960", DeviceType: "watch",
	}
	if *r.Source != wantSource {
		t.Errorf("record source %+v, want %+v", *r.Source, wantSource)
	}

	if len(b.Sleep) != 1 {
		t.Fatalf("%d sleep stages, want 1", len(b.Sleep))
	}
	s := b.Sleep[0]
	if s.Stage != "light" || s.ID != "slp-001-s0-0" || s.ZoneOffset != "+01:00" {
		t.Errorf("sleep stage %q id %q zone %q", s.Stage, s.ID, s.ZoneOffset)
	}
	if !s.Start.Equal(at(2026, 2, 23, 23, 10, 0, 0)) || !s.End.Equal(at(2026, 2, 24, 0, 0, 0, 0)) {
		t.Errorf("sleep start %v end %v", s.Start, s.End)
	}
	if !bytes.Contains(s.Values, []byte(`"sleepScore"`)) {
		t.Errorf("sleep values not kept: %s", s.Values)
	}

	if len(b.Workouts) != 1 {
		t.Fatalf("%d workouts, want 1", len(b.Workouts))
	}
	w := b.Workouts[0]
	if w.Type != "RUNNING" || w.Notes != "Morning run in the park" || w.Title != "" {
		t.Errorf("workout type %q notes %q title %q", w.Type, w.Notes, w.Title)
	}
	if !w.Start.Equal(at(2026, 2, 24, 6, 0, 0, 0)) || w.End.Sub(w.Start) != 45*time.Minute {
		t.Errorf("workout start %v end %v", w.Start, w.End)
	}
	type stat struct {
		unit  string
		value float64
	}
	want := map[string]stat{
		"duration": {"ms", 2700000}, "calories": {"kcal", 345.5}, "distance": {"m", 5234},
		"meanHeartRate": {"bpm", 142.3}, "maxHeartRate": {"bpm", 178}, "minHeartRate": {"bpm", 95},
		"meanSpeed": {"m/s", 1.5}, "maxSpeed": {"m/s", 3.2}, "meanCadence": {"spm", 165},
		"maxCadence": {"spm", 182}, "altitudeGain": {"m", 45}, "altitudeLoss": {"m", 42},
		"maxAltitude": {"m", 185}, "minAltitude": {"m", 140}, "vo2Max": {"mL/kg/min", 42.5},
	}
	if len(w.Values) != len(want) {
		t.Errorf("%d workout statistics, want %d", len(w.Values), len(want))
	}
	for _, st := range w.Values {
		ws, ok := want[st.Type]
		if !ok {
			t.Errorf("unexpected statistic %q", st.Type)
			continue
		}
		if st.Value != ws.value || st.Unit != ws.unit {
			t.Errorf("statistic %s = %v %s, want %v %s", st.Type, st.Value, st.Unit, ws.value, ws.unit)
		}
	}
	if w.Values[0].Type != "duration" || w.Values[0].Value != 2700000 {
		t.Errorf("first statistic %+v, want duration 2700000", w.Values[0])
	}
	var route []map[string]any
	if err := json.Unmarshal(w.Route, &route); err != nil || len(route) != 1 || route[0]["latitude"] != 52.229676 {
		t.Errorf("route not kept: %s (%v)", w.Route, err)
	}
	var samples []json.RawMessage
	if err := json.Unmarshal(w.Samples, &samples); err != nil || len(samples) != 3 {
		t.Errorf("samples not kept: %s (%v)", w.Samples, err)
	}
}

// TestDecodeSyncFixtures decodes every fixture. The ones that are not sync
// bodies (another route's body, an older draft of the format) are rejected on
// their provider; every other one is accepted and accounts for each of its
// items, as counted by encoding/json, either kept or dropped.
func TestDecodeSyncFixtures(t *testing.T) {
	rejected := map[string]string{
		"conftest__sample_apple_healthkit_workout.json":                     "",
		"malformed_payload_debug__bad_provider.json":                        "nope",
		"process_sdk_upload_task__content_data_only.json":                   "",
		"process_sdk_upload_task__content_no_envelope.json":                 "",
		"sdk_sync_auth__auth_tests_body.json":                               "",
		"spec__005-unified-health-payload__example_7_1_apple_health.json":   "apple_health",
		"spec__005-unified-health-payload__example_7_2_samsung_health.json": "samsung_health",
		"spec__005-unified-health-payload__example_7_3_health_connect.json": "health_connect",
	}
	dropped := map[string]int{"malformed_payload_debug__malformed_value_null.json": 1}

	accepted := 0
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			body := readFixture(t, name)
			if p, ok := rejected[name]; ok {
				e := mustReject(t, body, 0, KindInvalid)
				want := "Unsupported provider: " + p + ". Supported: apple, samsung, google"
				if e.Detail != want {
					t.Errorf("detail %q, want %q", e.Detail, want)
				}
				return
			}
			accepted++
			b := mustDecode(t, body, 0)
			nr, ns, nw, ok := jsonItemCounts(body)
			if !ok {
				t.Fatal("fixture is not a sync body for encoding/json")
			}
			if got := b.Items() + b.Dropped; got != nr+ns+nw {
				t.Errorf("kept %d + dropped %d = %d, body has %d items", b.Items(), b.Dropped, got, nr+ns+nw)
			}
			if b.Dropped != dropped[name] {
				t.Errorf("dropped %d, want %d (%v)", b.Dropped, dropped[name], b.Errors)
			}
			if b.Dropped == 0 && (len(b.Records) != nr || len(b.Sleep) != ns || len(b.Workouts) != nw) {
				t.Errorf("kept %d/%d/%d, body has %d/%d/%d", len(b.Records), len(b.Sleep), len(b.Workouts), nr, ns, nw)
			}
			if b.Provider != "apple" && b.Provider != "samsung" && b.Provider != "google" {
				t.Errorf("provider %q", b.Provider)
			}
			for i, r := range b.Records {
				if r.Start.IsZero() || r.End.IsZero() || math.IsNaN(r.Value) {
					t.Errorf("record %d not validated: %+v", i, r)
				}
			}
		})
	}
	if accepted < 20 {
		t.Errorf("only %d fixtures were accepted", accepted)
	}
}

func TestDecodeSyncProvider(t *testing.T) {
	const supported = ". Supported: apple, samsung, google"
	tests := []struct {
		name     string
		provider string // raw JSON; "" leaves the field out
		want     string // lower-cased provider, or "" when rejected
		detail   string
	}{
		{"lower", `"google"`, "google", ""},
		{"upper", `"APPLE"`, "apple", ""},
		{"title", `"Samsung"`, "samsung", ""},
		{"mixed", `"gOoGlE"`, "google", ""},
		{"unknown", `"nope"`, "", "Unsupported provider: nope" + supported},
		{"unknown upper is lower-cased", `"FITBIT"`, "", "Unsupported provider: fitbit" + supported},
		{"padded", `" apple"`, "", "Unsupported provider:  apple" + supported},
		{"old name", `"apple_health"`, "", "Unsupported provider: apple_health" + supported},
		{"missing", "", "", "Unsupported provider: " + supported},
		{"null", `null`, "", "Unsupported provider: " + supported},
		{"empty", `""`, "", "Unsupported provider: " + supported},
		{"number", `5`, "", "Unsupported provider: 5" + supported},
		{"bool", `true`, "", "Unsupported provider: true" + supported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body string
			if tc.provider == "" {
				body = `{"sdkVersion":"1","syncTimestamp":"2026-02-24T10:00:00Z","data":{"records":[` + record() + `]}}`
			} else {
				body = `{"provider":` + tc.provider + `,"sdkVersion":"1","syncTimestamp":"2026-02-24T10:00:00Z","data":{"records":[` + record() + `]}}`
			}
			if tc.want == "" {
				e := mustReject(t, []byte(body), 0, KindInvalid)
				if e.Detail != tc.detail {
					t.Errorf("detail %q, want %q", e.Detail, tc.detail)
				}
				return
			}
			b := mustDecode(t, []byte(body), 0)
			if b.Provider != tc.want {
				t.Errorf("provider %q, want %q", b.Provider, tc.want)
			}
			if len(b.Records) != 1 {
				t.Errorf("%d records, want 1", len(b.Records))
			}
		})
	}

	t.Run("fixture", func(t *testing.T) {
		e := mustReject(t, readFixture(t, "malformed_payload_debug__bad_provider.json"), 0, KindInvalid)
		if want := "Unsupported provider: nope. Supported: apple, samsung, google"; e.Detail != want {
			t.Errorf("detail %q, want %q", e.Detail, want)
		}
	})

	// The slow path (taken when an item has a wrong-typed field) checks the
	// provider the same way.
	t.Run("slow path", func(t *testing.T) {
		bad := `{"type":5}`
		b := mustDecode(t, []byte(`{"provider":"GOOGLE","data":{"records":[`+bad+`]}}`), 0)
		if b.Provider != "google" || b.Dropped != 1 {
			t.Errorf("provider %q dropped %d", b.Provider, b.Dropped)
		}
		e := mustReject(t, []byte(`{"provider":"fitbit","data":{"records":[`+bad+`]}}`), 0, KindInvalid)
		if want := "Unsupported provider: fitbit. Supported: apple, samsung, google"; e.Detail != want {
			t.Errorf("detail %q, want %q", e.Detail, want)
		}
		e = mustReject(t, []byte(`{"provider":12,"data":{"records":[`+bad+`]}}`), 0, KindInvalid)
		if want := "Unsupported provider: 12. Supported: apple, samsung, google"; e.Detail != want {
			t.Errorf("detail %q, want %q", e.Detail, want)
		}
	})
}

func TestDecodeSyncMalformedBody(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		detail string // exact
	}{
		// Byte offsets of invalid UTF-8 are 0-based indexes of the first bad byte.
		{"invalid UTF-8 in a string", "{\"provider\":\"apple\",\"sdkVersion\":\"\xff\"}",
			"Request body is not valid UTF-8 (byte offset 34)."},
		{"invalid UTF-8 after multi-byte runes", "{\"provider\":\"\xc3\xa9\xe2\x82\xac\xff\"}",
			"Request body is not valid UTF-8 (byte offset 18)."},
		{"truncated UTF-8 sequence", "{\"a\":\"\xe2\x82\"}",
			"Request body is not valid UTF-8 (byte offset 6)."},
		{"invalid UTF-8 first byte", "\xfe{}",
			"Request body is not valid UTF-8 (byte offset 0)."},
		{"UTF-16 surrogate encoded in UTF-8", "{\"a\":\"\xed\xa0\x80\"}",
			"Request body is not valid UTF-8 (byte offset 6)."},
		// Syntax errors carry the offset of the offending byte.
		{"bad value", `{"provider":x}`,
			"Request body is not valid JSON: invalid character 'x' looking for beginning of value (byte offset 12)."},
		{"trailing comma", `{"provider":"apple","data":{"records":[1,]}}`,
			"Request body is not valid JSON: invalid character ']' looking for beginning of value (byte offset 41)."},
		{"single quotes", `{'provider':'apple'}`,
			"Request body is not valid JSON: invalid character '\\'' looking for beginning of object key string (byte offset 1)."},
		{"empty", ``, "Request body is empty; expected a JSON object."},
		{"whitespace only", " \n\t ", "Request body is empty; expected a JSON object."},
		{"array", `[{"provider":"apple"}]`, "Request body must be a JSON object (byte offset 0)."},
		{"string", `"apple"`, "Request body must be a JSON object (byte offset 0)."},
		{"number", `42`, "Request body must be a JSON object (byte offset 0)."},
		{"bool", `true`, "Request body must be a JSON object (byte offset 0)."},
		{"two objects", `{"provider":"apple"} {"provider":"apple"}`,
			"Request body is not valid JSON: unexpected data after the top-level value (byte offset 21)."},
		{"trailing word", `{"provider":"apple"}x`,
			"Request body is not valid JSON: unexpected data after the top-level value (byte offset 20)."},
		// A body cut short is named at its end, not at its start.
		{"truncated", `{"provider":"apple","data":{"records":[{"type":"x",`,
			"Request body is not valid JSON: it ends before its value is complete (byte offset 51)."},
		{"truncated after leading space", `  {"provider":`,
			"Request body is not valid JSON: it ends before its value is complete (byte offset 14)."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustReject(t, []byte(tc.body), 0, KindInvalid)
			if e.Detail != tc.detail {
				t.Errorf("detail %q\nwant   %q", e.Detail, tc.detail)
			}
		})
	}

	t.Run("offset points at the bad byte", func(t *testing.T) {
		// A long valid prefix, then one bad byte inside a record's unit.
		body := records(record("unit", strings.Repeat("é", 100)), record("unit", "XX"))
		i := bytes.Index(body, []byte(`"XX"`)) + 1
		body[i] = 0xff
		e := mustReject(t, body, 0, KindInvalid)
		if want := fmt.Sprintf("Request body is not valid UTF-8 (byte offset %d).", i); e.Detail != want {
			t.Errorf("detail %q, want %q", e.Detail, want)
		}
	})

	t.Run("truncated body", func(t *testing.T) {
		body := readFixture(t, seedFixture)
		body = body[:len(body)/2]
		e := mustReject(t, body, 0, KindInvalid)
		if !strings.HasPrefix(e.Detail, "Request body is not valid JSON: ") || !strings.Contains(e.Detail, "byte offset") {
			t.Errorf("detail %q", e.Detail)
		}
	})

	// Not an object, but decodes as a zero struct: still a 400.
	t.Run("null", func(t *testing.T) {
		mustReject(t, []byte(`null`), 0, KindInvalid)
	})
}

func TestDecodeSyncDataShape(t *testing.T) {
	env := `{"provider":"apple","sdkVersion":"1","syncTimestamp":"2026-02-24T10:00:00Z"`
	rejects := []struct {
		data   string
		detail string
	}{
		{`[]`, "data must be an object."},
		{`[{"records":[]}]`, "data must be an object."},
		{`5`, "data must be an object."},
		{`"records"`, "data must be an object."},
		{`true`, "data must be an object."},
		{`{"records":{}}`, "data.records must be an array."},
		{`{"records":5}`, "data.records must be an array."},
		{`{"records":"x"}`, "data.records must be an array."},
		{`{"records":[],"sleep":{"0":{}}}`, "data.sleep must be an array."},
		{`{"sleep":false}`, "data.sleep must be an array."},
		{`{"workouts":1.5}`, "data.workouts must be an array."},
		{`{"records":[` + record() + `],"workouts":{}}`, "data.workouts must be an array."},
	}
	for _, tc := range rejects {
		t.Run("reject "+tc.data, func(t *testing.T) {
			e := mustReject(t, []byte(env+`,"data":`+tc.data+`}`), 0, KindInvalid)
			if e.Detail != tc.detail {
				t.Errorf("detail %q, want %q", e.Detail, tc.detail)
			}
		})
	}

	empties := []string{
		env + `}`,
		env + `,"data":null}`,
		env + `,"data":{}}`,
		env + `,"data":{"records":null,"sleep":null,"workouts":null}}`,
		env + `,"data":{"records":[],"sleep":[],"workouts":[]}}`,
		env + `,"data":{"other":[1,2,3]}}`,
	}
	for _, body := range empties {
		t.Run("empty "+body[len(env):], func(t *testing.T) {
			b := mustDecode(t, []byte(body), 0)
			if b.Items() != 0 || b.Dropped != 0 || len(b.Errors) != 0 || len(b.Warnings) != 0 {
				t.Errorf("items %d dropped %d errors %v warnings %v", b.Items(), b.Dropped, b.Errors, b.Warnings)
			}
		})
	}

	t.Run("null list beside items", func(t *testing.T) {
		b := mustDecode(t, []byte(env+`,"data":{"records":null,"sleep":[`+sleepItem()+`],"workouts":null}}`), 0)
		if len(b.Records) != 0 || len(b.Sleep) != 1 || len(b.Workouts) != 0 {
			t.Errorf("kept %d/%d/%d, want 0/1/0", len(b.Records), len(b.Sleep), len(b.Workouts))
		}
	})

	t.Run("unknown fields ignored", func(t *testing.T) {
		body := `{"provider":"apple","sdkVersion":"0.15","syncTimestamp":"2026-02-24T10:00:00Z",` +
			`"syncSessionId":"abc","syncType":"incremental","data":{"records":[` + record("extra", map[string]any{"a": []int{1}}) + `],"future":{}}}`
		b := mustDecode(t, []byte(body), 0)
		if len(b.Records) != 1 || len(b.Warnings) != 0 {
			t.Errorf("records %d warnings %v", len(b.Records), b.Warnings)
		}
	})
}

func TestDecodeSyncEnvelopeWarnings(t *testing.T) {
	data := `"data":{"records":[` + record() + `]}`
	tests := []struct {
		name      string
		body      string
		warnings  []string
		sdk       string
		timestamp time.Time
	}{
		{"complete", `{"provider":"apple","sdkVersion":"1.2.3","syncTimestamp":"2026-02-24T10:00:00+01:00",` + data + `}`,
			nil, "1.2.3", at(2026, 2, 24, 9, 0, 0, 0)},
		{"missing sdkVersion", `{"provider":"apple","syncTimestamp":"2026-02-24T10:00:00Z",` + data + `}`,
			[]string{"sdkVersion"}, "", at(2026, 2, 24, 10, 0, 0, 0)},
		{"missing syncTimestamp", `{"provider":"apple","sdkVersion":"1",` + data + `}`,
			[]string{"syncTimestamp"}, "1", time.Time{}},
		{"missing both", `{"provider":"apple",` + data + `}`,
			[]string{"sdkVersion", "syncTimestamp"}, "", time.Time{}},
		{"null both", `{"provider":"apple","sdkVersion":null,"syncTimestamp":null,` + data + `}`,
			[]string{"sdkVersion", "syncTimestamp"}, "", time.Time{}},
		{"empty sdkVersion", `{"provider":"apple","sdkVersion":"","syncTimestamp":"2026-02-24T10:00:00Z",` + data + `}`,
			[]string{"sdkVersion"}, "", at(2026, 2, 24, 10, 0, 0, 0)},
		{"numeric sdkVersion", `{"provider":"apple","sdkVersion":1,"syncTimestamp":"2026-02-24T10:00:00Z",` + data + `}`,
			[]string{"sdkVersion"}, "", at(2026, 2, 24, 10, 0, 0, 0)},
		{"bad syncTimestamp", `{"provider":"apple","sdkVersion":"1","syncTimestamp":"yesterday",` + data + `}`,
			[]string{"syncTimestamp"}, "1", time.Time{}},
		{"object syncTimestamp", `{"provider":"apple","sdkVersion":"1","syncTimestamp":{},` + data + `}`,
			[]string{"syncTimestamp"}, "1", time.Time{}},
		{"unix syncTimestamp", `{"provider":"apple","sdkVersion":"1","syncTimestamp":1771927200,` + data + `}`,
			nil, "1", at(2026, 2, 24, 10, 0, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustDecode(t, []byte(tc.body), 0)
			if got := paths(b.Warnings); !reflect.DeepEqual(got, append([]string{}, tc.warnings...)) {
				t.Errorf("warning paths %v, want %v", got, tc.warnings)
			}
			if b.SDKVersion != tc.sdk {
				t.Errorf("sdkVersion %q, want %q", b.SDKVersion, tc.sdk)
			}
			if !b.SyncTimestamp.Equal(tc.timestamp) {
				t.Errorf("syncTimestamp %v, want %v", b.SyncTimestamp, tc.timestamp)
			}
			if len(b.Records) != 1 || b.Dropped != 0 {
				t.Errorf("records %d dropped %d: the items must be kept", len(b.Records), b.Dropped)
			}
		})
	}
}

func TestDecodeSyncRecordValue(t *testing.T) {
	kept := []struct {
		value any
		want  float64
	}{
		{61.5, 61.5},
		{json.RawMessage(`0`), 0},
		{json.RawMessage(`-3`), -3},
		{json.RawMessage(`1e3`), 1000},
		{json.RawMessage(`1.7976931348623157e308`), math.MaxFloat64},
		{"61.5", 61.5},
		{"-0.25", -0.25},
		{"1e-3", 0.001},
		{" 72 ", 72},
	}
	for _, tc := range kept {
		t.Run(fmt.Sprintf("keep %v", tc.value), func(t *testing.T) {
			b := mustDecode(t, records(record("value", tc.value)), 0)
			if len(b.Records) != 1 || b.Dropped != 0 {
				t.Fatalf("records %d dropped %d %v", len(b.Records), b.Dropped, b.Errors)
			}
			if b.Records[0].Value != tc.want {
				t.Errorf("value %v, want %v", b.Records[0].Value, tc.want)
			}
		})
	}

	dropped := []any{
		"abc", "", "NaN", "nan", "Inf", "+Inf", "-Infinity", "1e400", "61.5bpm", "1,5",
		nil, absent, true, false,
		map[string]any{}, map[string]any{"value": 1}, []any{}, []any{61.5},
	}
	for _, v := range dropped {
		t.Run(fmt.Sprintf("drop %#v", v), func(t *testing.T) {
			// The bad record sits between two good ones.
			body := records(record("id", "a"), record("id", "bad", "value", v), record("id", "c", "value", 7))
			b := mustDecode(t, body, 0)
			if b.Dropped != 1 || len(b.Errors) != 1 {
				t.Fatalf("dropped %d errors %v", b.Dropped, b.Errors)
			}
			if b.Errors[0].Path != "data.records[1].value" {
				t.Errorf("path %q", b.Errors[0].Path)
			}
			if !strings.Contains(b.Errors[0].Detail, "finite number") {
				t.Errorf("detail %q", b.Errors[0].Detail)
			}
			if len(b.Records) != 2 || b.Records[0].ID != "a" || b.Records[1].ID != "c" || b.Records[1].Value != 7 {
				t.Errorf("kept %+v", b.Records)
			}
		})
	}

	t.Run("fixture value null", func(t *testing.T) {
		b := mustDecode(t, readFixture(t, "malformed_payload_debug__malformed_value_null.json"), 0)
		if b.Dropped != 1 || len(b.Records) != 0 {
			t.Fatalf("dropped %d records %d", b.Dropped, len(b.Records))
		}
		if len(b.Errors) != 1 || b.Errors[0].Path != "data.records[0].value" {
			t.Errorf("errors %v", b.Errors)
		}
		if b.Provider != "apple" || len(b.Warnings) != 0 {
			t.Errorf("provider %q warnings %v", b.Provider, b.Warnings)
		}
	})
}

func TestDecodeSyncDates(t *testing.T) {
	base := at(2026, 2, 24, 8, 30, 0, 0)
	parsed := []struct {
		in   any
		want time.Time
	}{
		{"2026-02-24T08:30:00Z", base},
		{"2026-02-24T08:30:00.123Z", base.Add(123 * time.Millisecond)},
		{"2026-02-24T08:30:00.123456789Z", base.Add(123456789)},
		{"2026-02-24T10:30:00+02:00", base},
		{"2026-02-24T10:30:00.5+02:00", base.Add(500 * time.Millisecond)},
		{"2026-02-24T03:00:00-05:30", base},
		{"2026-02-24T08:30:00+00:00", base},
		{"2026-02-24T08:30:00", base},
		{"2026-02-24T08:30:00.250", base.Add(250 * time.Millisecond)},
		{"2026-02-24 08:30:00Z", base},
		{"2026-02-24 09:30:00+01:00", base},
		{"2026-02-24 08:30:00", base},
		{json.RawMessage(`1771921800`), base},
		{json.RawMessage(`1771921800.25`), base.Add(250 * time.Millisecond)},
		{json.RawMessage(`1.7719218e9`), base},
		{json.RawMessage(`1771921800000`), base}, // milliseconds
		{json.RawMessage(`0`), time.Unix(0, 0).UTC()},
	}
	for _, tc := range parsed {
		t.Run(fmt.Sprintf("parse %v", tc.in), func(t *testing.T) {
			b := mustDecode(t, records(record("startDate", tc.in, "endDate", tc.in)), 0)
			if len(b.Records) != 1 {
				t.Fatalf("dropped: %v", b.Errors)
			}
			r := b.Records[0]
			if !r.Start.Equal(tc.want) || !r.End.Equal(tc.want) {
				t.Errorf("start %v end %v, want %v", r.Start, r.End, tc.want)
			}
			if r.Start.Location() != time.UTC {
				t.Errorf("start in %v, want UTC", r.Start.Location())
			}
		})
	}

	bad := []any{
		"yesterday", "", "2026-02-24", "2026-02-30T00:00:00Z", "2026-02-24T24:30:00Z",
		"2026-02-24T08:30:00+25:00", "24/02/2026 08:30", "2026-02-24T08:30:00Z ",
		json.RawMessage(`-1`), json.RawMessage(`1e300`), true, map[string]any{}, []any{"2026-02-24T08:30:00Z"},
	}
	for _, v := range bad {
		for _, field := range []string{"startDate", "endDate"} {
			t.Run(fmt.Sprintf("drop %s %v", field, v), func(t *testing.T) {
				b := mustDecode(t, records(record(), record(field, v)), 0)
				if b.Dropped != 1 || len(b.Records) != 1 {
					t.Fatalf("dropped %d kept %d", b.Dropped, len(b.Records))
				}
				if want := "data.records[1]." + field; len(b.Errors) != 1 || b.Errors[0].Path != want {
					t.Errorf("errors %v, want path %s", b.Errors, want)
				}
			})
		}
	}

	for _, field := range []string{"startDate", "endDate"} {
		for _, v := range []any{nil, absent} {
			t.Run(fmt.Sprintf("required %s %v", field, v), func(t *testing.T) {
				b := mustDecode(t, records(record(field, v)), 0)
				if b.Dropped != 1 || len(b.Errors) != 1 || b.Errors[0].Path != "data.records[0]."+field {
					t.Errorf("dropped %d errors %v", b.Dropped, b.Errors)
				}
				if !strings.Contains(b.Errors[0].Detail, "required") {
					t.Errorf("detail %q", b.Errors[0].Detail)
				}
			})
		}
	}

	t.Run("sleep and workout dates", func(t *testing.T) {
		body := syncBody(nil,
			[]string{sleepItem("endDate", "tomorrow"), sleepItem("startDate", json.RawMessage(`1771921800`))},
			[]string{workoutItem("startDate", nil), workoutItem("endDate", "2026-02-24T10:30:00+02:00")})
		b := mustDecode(t, body, 0)
		if want := []string{"data.sleep[0].endDate", "data.workouts[0].startDate"}; !reflect.DeepEqual(paths(b.Errors), want) {
			t.Errorf("error paths %v, want %v", paths(b.Errors), want)
		}
		if len(b.Sleep) != 1 || !b.Sleep[0].Start.Equal(base) {
			t.Errorf("sleep %+v", b.Sleep)
		}
		if len(b.Workouts) != 1 || !b.Workouts[0].End.Equal(base) {
			t.Errorf("workouts %+v", b.Workouts)
		}
	})
}

func TestDecodeSyncZoneOffset(t *testing.T) {
	good := []struct {
		in   any
		want string
	}{
		{"+01:00", "+01:00"},
		{"-05:30", "-05:30"},
		{"+00:00", "+00:00"},
		{"+18:00", "+18:00"},
		{"+14:45", "+14:45"},
		{"Z", "+00:00"},
		{"z", "+00:00"},
		{nil, ""},
		{absent, ""},
	}
	for _, tc := range good {
		t.Run(fmt.Sprintf("good %v", tc.in), func(t *testing.T) {
			b := mustDecode(t, records(record("zoneOffset", tc.in)), 0)
			if len(b.Records) != 1 || len(b.Warnings) != 0 {
				t.Fatalf("records %d warnings %v", len(b.Records), b.Warnings)
			}
			if b.Records[0].ZoneOffset != tc.want {
				t.Errorf("zoneOffset %q, want %q", b.Records[0].ZoneOffset, tc.want)
			}
		})
	}

	bad := []any{
		"25:00", "+25:00", "+19:00", "+01:60", "bad", "", "+1:00", "+0100", "01:00", "UTC", "+01:00:00",
		"\u00b101:00", json.RawMessage(`5`), json.RawMessage(`3600`), true, map[string]any{}, []any{"+01:00"},
	}
	for _, v := range bad {
		t.Run(fmt.Sprintf("bad %v", v), func(t *testing.T) {
			b := mustDecode(t, records(record("zoneOffset", v, "value", 80)), 0)
			if b.Dropped != 0 || len(b.Errors) != 0 || len(b.Records) != 1 {
				t.Fatalf("dropped %d errors %v records %d: only the field may go", b.Dropped, b.Errors, len(b.Records))
			}
			r := b.Records[0]
			if r.ZoneOffset != "" || r.Value != 80 || !r.Start.Equal(at(2026, 2, 24, 8, 30, 0, 0)) {
				t.Errorf("record %+v", r)
			}
			if want := []string{"data.records[0].zoneOffset"}; !reflect.DeepEqual(paths(b.Warnings), want) {
				t.Errorf("warning paths %v, want %v", paths(b.Warnings), want)
			}
		})
	}

	t.Run("sleep and workouts", func(t *testing.T) {
		body := syncBody(nil,
			[]string{sleepItem("zoneOffset", "Z"), sleepItem("zoneOffset", "bad")},
			[]string{workoutItem("zoneOffset", json.RawMessage(`5`)), workoutItem("zoneOffset", "-03:00")})
		b := mustDecode(t, body, 0)
		if len(b.Sleep) != 2 || len(b.Workouts) != 2 || b.Dropped != 0 {
			t.Fatalf("kept %d sleep %d workouts, dropped %d", len(b.Sleep), len(b.Workouts), b.Dropped)
		}
		got := []string{b.Sleep[0].ZoneOffset, b.Sleep[1].ZoneOffset, b.Workouts[0].ZoneOffset, b.Workouts[1].ZoneOffset}
		if want := []string{"+00:00", "", "", "-03:00"}; !reflect.DeepEqual(got, want) {
			t.Errorf("zone offsets %q, want %q", got, want)
		}
		if want := []string{"data.sleep[1].zoneOffset", "data.workouts[0].zoneOffset"}; !reflect.DeepEqual(paths(b.Warnings), want) {
			t.Errorf("warning paths %v, want %v", paths(b.Warnings), want)
		}
	})
}

// TestDecodeSyncWrongTypes covers items that do not fit the wire types: the
// typed decode fails and each item is decoded on its own.
func TestDecodeSyncWrongTypes(t *testing.T) {
	t.Run("records", func(t *testing.T) {
		body := records(
			record("id", "r0"),
			record("id", "r1", "type", 5),
			`7`,
			`"a string"`,
			`null`,
			`[1,2]`,
			record("id", "r6", "unit", map[string]any{}),
			record("id", 7),
			record("id", "r8", "parentId", true),
			record("id", "r9", "value", "bad"),
			record("id", "r10", "value", "10.5"),
		)
		b := mustDecode(t, body, 0)
		want := []string{
			"data.records[1].type", "data.records[2]", "data.records[3]", "data.records[4]", "data.records[5]",
			"data.records[6].unit", "data.records[7].id", "data.records[8].parentId", "data.records[9].value",
		}
		if got := paths(b.Errors); !reflect.DeepEqual(got, want) {
			t.Errorf("error paths\n got %v\nwant %v", got, want)
		}
		if b.Dropped != len(want) {
			t.Errorf("dropped %d, want %d", b.Dropped, len(want))
		}
		if len(b.Records) != 2 || b.Records[0].ID != "r0" || b.Records[1].ID != "r10" || b.Records[1].Value != 10.5 {
			t.Errorf("kept %+v", b.Records)
		}
		for _, r := range b.Records {
			if r.Type != "HEART_RATE" || r.Unit != "bpm" || r.Start.IsZero() {
				t.Errorf("kept record not fully decoded: %+v", r)
			}
		}
	})

	t.Run("validation errors after a wrong type keep body indexes", func(t *testing.T) {
		body := records(`5`, record("id", "r1", "value", nil), record("id", "r2"), record("id", "r3", "startDate", "x"), `{}`)
		b := mustDecode(t, body, 0)
		want := []string{"data.records[0]", "data.records[1].value", "data.records[3].startDate", "data.records[4].startDate"}
		if got := paths(b.Errors); !reflect.DeepEqual(got, want) {
			t.Errorf("error paths %v, want %v", got, want)
		}
		if len(b.Records) != 1 || b.Records[0].ID != "r2" {
			t.Errorf("kept %+v", b.Records)
		}
	})

	t.Run("validation drops on the typed path keep body indexes", func(t *testing.T) {
		body := records(record("id", "r0", "value", "x"), record("id", "r1"), record("id", "r2", "endDate", "x"), record("id", "r3"))
		b := mustDecode(t, body, 0)
		if want := []string{"data.records[0].value", "data.records[2].endDate"}; !reflect.DeepEqual(paths(b.Errors), want) {
			t.Errorf("error paths %v, want %v", paths(b.Errors), want)
		}
		if len(b.Records) != 2 || b.Records[0].ID != "r1" || b.Records[1].ID != "r3" {
			t.Errorf("kept %+v", b.Records)
		}
	})

	t.Run("sleep and workouts", func(t *testing.T) {
		body := syncBody(
			[]string{record("id", "r0")},
			[]string{`"deep"`, sleepItem("id", "s1"), sleepItem("id", "s2", "stage", 3)},
			[]string{workoutItem("id", "w0", "title", 5), workoutItem("id", "w1", "notes", "ok"), `false`, workoutItem("id", "w3", "type", []any{})})
		b := mustDecode(t, body, 0)
		want := []string{"data.sleep[0]", "data.sleep[2].stage", "data.workouts[0].title", "data.workouts[2]", "data.workouts[3].type"}
		if got := paths(b.Errors); !reflect.DeepEqual(got, want) {
			t.Errorf("error paths %v, want %v", got, want)
		}
		if len(b.Records) != 1 || b.Records[0].ID != "r0" {
			t.Errorf("records %+v", b.Records)
		}
		if len(b.Sleep) != 1 || b.Sleep[0].ID != "s1" || b.Sleep[0].Stage != "deep" {
			t.Errorf("sleep %+v", b.Sleep)
		}
		if len(b.Workouts) != 1 || b.Workouts[0].ID != "w1" || b.Workouts[0].Notes != "ok" {
			t.Errorf("workouts %+v", b.Workouts)
		}
	})

	t.Run("bad source costs only the source", func(t *testing.T) {
		body := records(
			record("id", "r0", "source", "phone"),
			record("id", "r1", "source", map[string]any{"deviceId": 5, "deviceName": "Watch"}),
			record("id", "r2", "source", map[string]any{"operatingSystemVersion": "17"}),
			record("id", "r3", "source", map[string]any{"deviceName": "Watch"}),
			record("id", "r4", "type", 1),
		)
		b := mustDecode(t, body, 0)
		if len(b.Records) != 4 || b.Dropped != 1 {
			t.Fatalf("kept %d dropped %d %v", len(b.Records), b.Dropped, b.Errors)
		}
		for i := 0; i < 3; i++ {
			if b.Records[i].ID != fmt.Sprintf("r%d", i) || b.Records[i].Value != 61 {
				t.Errorf("record %d: %+v", i, b.Records[i])
			}
			if !hasPath(b.Warnings, fmt.Sprintf("data.records[%d].source", i)) {
				t.Errorf("no warning for data.records[%d].source in %v", i, b.Warnings)
			}
		}
		if b.Records[0].Source != nil {
			t.Errorf("record 0 kept a source that is not an object: %+v", b.Records[0].Source)
		}
		if s := b.Records[3].Source; s == nil || s.DeviceName != "Watch" {
			t.Errorf("good source lost: %+v", s)
		}
	})
}

func TestDecodeSyncSleep(t *testing.T) {
	body := syncBody(nil, []string{
		sleepItem("id", "s0", "stage", absent),
		sleepItem("id", "s1", "stage", nil),
		sleepItem("id", "s2", "stage", ""),
		sleepItem("id", "s3", "stage", "rem", "values", []any{map[string]any{"type": "sleepScore", "value": 82}}),
		sleepItem("id", "s4", "stage", "anything"),
	}, nil)
	b := mustDecode(t, body, 0)
	if want := []string{"data.sleep[0].stage", "data.sleep[1].stage", "data.sleep[2].stage"}; !reflect.DeepEqual(paths(b.Errors), want) {
		t.Errorf("error paths %v, want %v", paths(b.Errors), want)
	}
	if len(b.Sleep) != 2 || b.Sleep[0].ID != "s3" || b.Sleep[0].Stage != "rem" || b.Sleep[1].Stage != "anything" {
		t.Fatalf("kept %+v", b.Sleep)
	}
	if !b.Sleep[0].Start.Equal(at(2026, 2, 24, 1, 0, 0, 0)) || !b.Sleep[0].End.Equal(at(2026, 2, 24, 2, 0, 0, 0)) {
		t.Errorf("sleep span %v %v", b.Sleep[0].Start, b.Sleep[0].End)
	}
	if !bytes.Contains(b.Sleep[0].Values, []byte(`82`)) {
		t.Errorf("values %s", b.Sleep[0].Values)
	}
}

func TestDecodeSyncWorkoutStatistics(t *testing.T) {
	stats := func(v ...map[string]any) []any {
		out := make([]any, len(v))
		for i := range v {
			out[i] = v[i]
		}
		return out
	}
	t.Run("typed path", func(t *testing.T) {
		body := syncBody(nil, nil, []string{workoutItem("values", stats(
			map[string]any{"type": "duration", "value": "soon", "unit": "ms"},
			map[string]any{"type": "calories", "value": 345.5, "unit": "kcal"},
			map[string]any{"type": "distance", "value": "5234", "unit": "m"},
			map[string]any{"type": "meanHeartRate", "value": nil, "unit": "bpm"},
			map[string]any{"value": 3, "unit": "x"},
			map[string]any{"type": "steps", "value": "NaN", "unit": "count"},
		))})
		b := mustDecode(t, body, 0)
		if len(b.Workouts) != 1 || b.Dropped != 0 || len(b.Errors) != 0 {
			t.Fatalf("workouts %d dropped %d errors %v", len(b.Workouts), b.Dropped, b.Errors)
		}
		got := b.Workouts[0].Values
		if len(got) != 2 || got[0].Type != "calories" || got[0].Value != 345.5 || got[0].Unit != "kcal" ||
			got[1].Type != "distance" || got[1].Value != 5234 {
			t.Errorf("statistics %+v", got)
		}
		want := []string{
			"data.workouts[0].values[0].value", "data.workouts[0].values[3].value",
			"data.workouts[0].values[4].type", "data.workouts[0].values[5].value",
		}
		if !reflect.DeepEqual(paths(b.Warnings), want) {
			t.Errorf("warning paths\n got %v\nwant %v", paths(b.Warnings), want)
		}
	})

	t.Run("slow path", func(t *testing.T) {
		body := syncBody(nil, nil, []string{
			workoutItem("id", "w0", "values", []any{
				5,
				map[string]any{"type": 7, "value": 1, "unit": "x"},
				map[string]any{"type": "calories", "value": 100, "unit": 9},
				map[string]any{"type": "distance", "value": "12.5", "unit": "km"},
				map[string]any{"type": "duration", "value": []any{}, "unit": "s"},
			}),
			workoutItem("id", "w1", "values", "none"),
			workoutItem("id", "w2", "values", nil),
		})
		b := mustDecode(t, body, 0)
		if len(b.Workouts) != 3 || b.Dropped != 0 {
			t.Fatalf("workouts %d dropped %d %v", len(b.Workouts), b.Dropped, b.Errors)
		}
		w := b.Workouts[0]
		if w.ID != "w0" || len(w.Values) != 1 || w.Values[0].Type != "distance" || w.Values[0].Value != 12.5 || w.Values[0].Unit != "km" {
			t.Errorf("statistics %+v", w.Values)
		}
		if len(b.Workouts[1].Values) != 0 || len(b.Workouts[2].Values) != 0 {
			t.Errorf("values of w1/w2: %+v %+v", b.Workouts[1].Values, b.Workouts[2].Values)
		}
		want := []string{
			"data.workouts[0].values[0]", "data.workouts[0].values[1].type", "data.workouts[0].values[2].unit",
			"data.workouts[1].values",
		}
		got := paths(b.Warnings)
		for _, p := range want {
			if !hasPath(b.Warnings, p) {
				t.Errorf("no warning %s in %v", p, got)
			}
		}
		if len(got) != len(want)+1 {
			t.Errorf("warning paths %v: want one more for the statistic with an array value", got)
		}
	})
}

func TestDecodeSyncStatisticIndexAfterDrop(t *testing.T) {
	t.Skip("bug: once a statistic is dropped for its type, later statistic warnings carry the index in the filtered list, not in the body")
	body := syncBody(nil, nil, []string{workoutItem("values", []any{
		5,
		map[string]any{"type": "calories", "value": "x", "unit": "kcal"},
	})})
	b := mustDecode(t, body, 0)
	if !hasPath(b.Warnings, "data.workouts[0].values[1].value") {
		t.Errorf("warning paths %v, want data.workouts[0].values[1].value", paths(b.Warnings))
	}
}

func TestDecodeSyncBadSourceDiscarded(t *testing.T) {
	t.Skip("bug: a source with a wrong-typed field is reported as ignored but its partial decode is kept")
	body := records(
		record("id", "r0", "source", map[string]any{"deviceId": 5, "deviceName": "Watch"}),
		record("id", "r1", "source", map[string]any{"operatingSystemVersion": "17"}),
		record("type", 1),
	)
	b := mustDecode(t, body, 0)
	for i, r := range b.Records {
		if r.Source != nil {
			t.Errorf("record %d: source reported ignored but kept as %+v", i, *r.Source)
		}
	}
}

func TestDecodeSyncErrorCap(t *testing.T) {
	t.Run("typed path", func(t *testing.T) {
		items := make([]string, 0, 51)
		for i := 0; i < 50; i++ {
			items = append(items, record("value", "bad"))
		}
		items = append(items, record("id", "good"))
		b := mustDecode(t, records(items...), 0)
		if b.Dropped != 50 || len(b.Errors) != MaxListedErrors {
			t.Fatalf("dropped %d listed %d, want 50 and %d", b.Dropped, len(b.Errors), MaxListedErrors)
		}
		for i, e := range b.Errors {
			if want := fmt.Sprintf("data.records[%d].value", i); e.Path != want {
				t.Errorf("error %d path %q, want %q", i, e.Path, want)
			}
		}
		if len(b.Records) != 1 || b.Records[0].ID != "good" {
			t.Errorf("kept %+v", b.Records)
		}
	})

	t.Run("slow path", func(t *testing.T) {
		items := make([]string, 0, 60)
		for i := 0; i < 30; i++ {
			items = append(items, `"x"`, record("value", nil))
		}
		b := mustDecode(t, records(items...), 0)
		if b.Dropped != 60 || len(b.Errors) != MaxListedErrors {
			t.Fatalf("dropped %d listed %d", b.Dropped, len(b.Errors))
		}
		// Every listed path names a real drop; which 20 are listed is not
		// specified.
		seen := map[string]bool{}
		for _, e := range b.Errors {
			var i int
			var rest string
			if n, _ := fmt.Sscanf(e.Path, "data.records[%d]%s", &i, &rest); n < 1 {
				t.Errorf("path %q", e.Path)
				continue
			}
			if (i%2 == 0 && e.Path != fmt.Sprintf("data.records[%d]", i)) || (i%2 == 1 && rest != ".value") || i >= 60 {
				t.Errorf("path %q names no dropped item", e.Path)
			}
			if seen[e.Path] {
				t.Errorf("path %q listed twice", e.Path)
			}
			seen[e.Path] = true
		}
	})

	t.Run("warnings", func(t *testing.T) {
		items := make([]string, 30)
		for i := range items {
			items[i] = record("zoneOffset", "bad")
		}
		b := mustDecode(t, records(items...), 0)
		if len(b.Records) != 30 || len(b.Warnings) != MaxListedErrors || b.Dropped != 0 {
			t.Errorf("records %d warnings %d dropped %d", len(b.Records), len(b.Warnings), b.Dropped)
		}
	})
}

func TestDecodeSyncMaxItems(t *testing.T) {
	body := syncBody(
		[]string{record(), record(), record()},
		[]string{sleepItem(), sleepItem()},
		[]string{workoutItem("route", []any{[]any{1, 2}, map[string]any{"lat": 1}, 3, 4, 5, 6, 7, 8})},
	)
	e := mustReject(t, body, 5, KindTooLarge)
	if want := "Batch has 6 items; the limit is 5."; e.Detail != want {
		t.Errorf("detail %q, want %q", e.Detail, want)
	}
	e = mustReject(t, body, 1, KindTooLarge)
	if want := "Batch has 6 items; the limit is 1."; e.Detail != want {
		t.Errorf("detail %q, want %q", e.Detail, want)
	}
	for _, max := range []int{6, 7, 0, -1} {
		b := mustDecode(t, body, max)
		if b.Items() != 6 {
			t.Errorf("maxItems %d: %d items", max, b.Items())
		}
	}

	// Bad items count: the limit applies before validation.
	bad := records(`1`, `2`, `3`)
	if e := mustReject(t, bad, 2, KindTooLarge); e.Detail != "Batch has 3 items; the limit is 2." {
		t.Errorf("detail %q", e.Detail)
	}

	// The seed fixture has 3 items and many nested arrays.
	seed := readFixture(t, seedFixture)
	mustDecode(t, seed, 3)
	if e := mustReject(t, seed, 2, KindTooLarge); e.Detail != "Batch has 3 items; the limit is 2." {
		t.Errorf("detail %q", e.Detail)
	}

	// A too large batch is refused even when its envelope is bad.
	mustReject(t, []byte(`{"provider":"nope","data":{"records":[1,2,3]}}`), 2, KindTooLarge)
}

// TestDecodeSyncOwnsStrings checks that nothing decoded refers to the
// request buffer, which the server reuses once the handler returns.
func TestDecodeSyncOwnsStrings(t *testing.T) {
	slow := syncBody(
		[]string{record("id", "rec-slow", "unit", "mmol/L", "source", map[string]any{"deviceName": "Pixel Watch", "appId": "com.google"}), `5`},
		[]string{sleepItem("id", "slp-slow", "stage", "awake")},
		[]string{workoutItem("id", "wrk-slow", "notes", "hills", "values", []any{map[string]any{"type": "calories", "unit": "kcal", "value": 1}, "x"})},
	)
	for _, tc := range []struct {
		name string
		body []byte
		want func(t *testing.T, b *Batch)
	}{
		{"typed path", readFixture(t, seedFixture), func(t *testing.T, b *Batch) {
			r := b.Records[0]
			if r.ID != "abc-xyz-123-sys" || r.ParentID != "abc-xyz-123" || r.Type != "BLOOD_PRESSURE_SYSTOLIC" || r.Unit != "mmHg" {
				t.Errorf("record strings changed: %q %q %q %q", r.ID, r.ParentID, r.Type, r.Unit)
			}
			if r.Source.AppID != "com.sec.android.app.shealth" || r.Source.DeviceName != "Galaxy Watch7" || r.Source.DeviceModel != "SM-R960" {
				t.Errorf("source strings changed: %+v", *r.Source)
			}
			if b.Sleep[0].Stage != "light" || b.Workouts[0].Notes != "Morning run in the park" || b.Workouts[0].Values[1].Unit != "kcal" {
				t.Errorf("sleep/workout strings changed: %q %q %q", b.Sleep[0].Stage, b.Workouts[0].Notes, b.Workouts[0].Values[1].Unit)
			}
			if b.Provider != "samsung" || b.SDKVersion != "0.1.0" {
				t.Errorf("envelope strings changed: %q %q", b.Provider, b.SDKVersion)
			}
		}},
		{"slow path", slow, func(t *testing.T, b *Batch) {
			r := b.Records[0]
			if r.ID != "rec-slow" || r.Type != "HEART_RATE" || r.Unit != "mmol/L" || r.Source.DeviceName != "Pixel Watch" || r.Source.AppID != "com.google" {
				t.Errorf("record strings changed: %q %q %q %+v", r.ID, r.Type, r.Unit, *r.Source)
			}
			if b.Sleep[0].Stage != "awake" || b.Workouts[0].Notes != "hills" || b.Workouts[0].Values[0].Type != "calories" {
				t.Errorf("sleep/workout strings changed: %q %q %+v", b.Sleep[0].Stage, b.Workouts[0].Notes, b.Workouts[0].Values)
			}
			if b.SDKVersion != "1.0.0" {
				t.Errorf("sdkVersion changed: %q", b.SDKVersion)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustDecode(t, tc.body, 0)
			before, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.body {
				tc.body[i] = 'X'
			}
			after, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("batch changed with its input:\nbefore %s\nafter  %s", before, after)
			}
			if bytes.Contains(after, []byte("XXXX")) {
				t.Errorf("batch shows the overwritten input: %s", after)
			}
			tc.want(t, b)
		})
	}
}

func TestSyncResponse(t *testing.T) {
	b := mustDecode(t, readFixture(t, "malformed_payload_debug__malformed_value_null.json"), 0)
	out, err := Marshal(NewSyncResponse("user-1", "batch-1", b))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := map[string]any{
		"status_code": 202.0, "response": "Import task queued successfully", "user_id": "user-1",
		"dropped_count": 1.0, "records_saved": 0.0, "workouts_saved": 0.0, "sleep_saved": 0.0,
		"batch_id": "batch-1", "accepted": map[string]any{"records": 0.0, "sleep": 0.0, "workouts": 0.0},
		"duplicate": false,
		"errors":    []any{map[string]any{"path": "data.records[0].value", "detail": "value is required and must be a finite number"}},
		"warnings":  []any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response\n got %v\nwant %v", got, want)
	}
	if !bytes.Contains(out, []byte(`"warnings":[]`)) {
		t.Errorf("warnings not an empty array: %s", out)
	}

	t.Run("accepted counts and empty errors", func(t *testing.T) {
		b := mustDecode(t, readFixture(t, seedFixture), 0)
		out, err := Marshal(NewSyncResponse("u", "b", b))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte(`"errors":[]`)) || !bytes.Contains(out, []byte(`"warnings":[]`)) {
			t.Errorf("errors/warnings not empty arrays: %s", out)
		}
		if !bytes.Contains(out, []byte(`"accepted":{"records":1,"sleep":1,"workouts":1}`)) {
			t.Errorf("accepted counts: %s", out)
		}
		if !bytes.Contains(out, []byte(`"status_code":202`)) || !bytes.Contains(out, []byte(`"dropped_count":0`)) {
			t.Errorf("status/dropped: %s", out)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		dup, err := MarkDuplicate(out)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(dup, &d); err != nil {
			t.Fatal(err)
		}
		if d["duplicate"] != true {
			t.Errorf("duplicate %v", d["duplicate"])
		}
		want["duplicate"] = true
		if !reflect.DeepEqual(d, want) {
			t.Errorf("replayed answer\n got %v\nwant %v", d, want)
		}

		// A stored answer without lists still replays with empty arrays.
		dup, err = MarkDuplicate([]byte(`{"status_code":202,"batch_id":"b-7","errors":null}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, frag := range []string{`"duplicate":true`, `"batch_id":"b-7"`, `"errors":[]`, `"warnings":[]`} {
			if !bytes.Contains(dup, []byte(frag)) {
				t.Errorf("%s lacks %s", dup, frag)
			}
		}
		if _, err := MarkDuplicate([]byte(`not json`)); err == nil {
			t.Error("MarkDuplicate accepted a corrupt stored answer")
		}
	})
}

// Known bugs. Each test states the expected behaviour and is skipped until
// the code is fixed.

func TestDecodeSyncTrailingCloser(t *testing.T) {
	t.Skip("bug: a stray ] or } after the top-level object is accepted, and it turns off the item limit")
	body := []byte(`{"provider":"apple","data":{"records":[1,2,3]}}]`)
	e := mustReject(t, body, 0, KindInvalid)
	if !strings.Contains(e.Detail, "byte offset") {
		t.Errorf("detail %q", e.Detail)
	}
	mustReject(t, []byte(`{"provider":"apple"}}`), 0, KindInvalid)
	mustReject(t, []byte(`{"provider":"apple","data":{"records":[1,2,3]}} ]`), 2, KindInvalid)
}

func TestDecodeSyncControlCharacter(t *testing.T) {
	t.Skip("bug: a raw control character inside a string is accepted when the typed decode succeeds")
	for _, body := range []string{
		"{\"provider\":\"apple\",\"sdkVersion\":\"1\x01\"}",
		"{\"provider\":\"apple\",\"sdkVersion\":\"a\tb\"}",
		"{\"provider\":\"apple\",\"data\":{\"records\":[" + record("id", "a\nb") + "]}}",
	} {
		body = strings.Replace(body, `a\nb`, "a\nb", 1)
		e := mustReject(t, []byte(body), 0, KindInvalid)
		if !strings.Contains(e.Detail, "byte offset") {
			t.Errorf("detail %q", e.Detail)
		}
	}
}

func TestDecodeSyncItemLimitKeySpelling(t *testing.T) {
	t.Skip("bug: keys matched case-insensitively or written with escapes are not counted against the item limit")
	for _, key := range []string{`Records`, `RECORDS`, `rec\u006frds`} {
		body := []byte(`{"provider":"apple","data":{"` + key + `":[` + record() + `,` + record() + `,` + record() + `]}}`)
		if b, err := DecodeSync(body, 2); err == nil {
			t.Errorf("key %s: 3 items accepted with a limit of 2 (%d kept)", key, b.Items())
		}
	}
	body := []byte(`{"provider":"apple","d\u0061ta":{"records":[1,2,3]}}`)
	if b, err := DecodeSync(body, 2); err == nil {
		t.Errorf("escaped data key: 3 items accepted with a limit of 2 (%d dropped)", b.Dropped)
	}
}

func TestDecodeSyncKeyCaseSameOnBothPaths(t *testing.T) {
	t.Skip(`bug: "Records" and "Provider" are read on the typed path but ignored once an item forces the item-by-item path`)
	good := `{"Provider":"apple","data":{"Records":[` + record() + `]}}`
	b := mustDecode(t, []byte(good), 0)
	withBad := `{"Provider":"apple","data":{"Records":[` + record() + `],"sleep":[5]}}`
	b2, err := DecodeSync([]byte(withBad), 0)
	if err != nil || len(b2.Records) != len(b.Records) {
		t.Errorf("same records, other path: %d records then %v %v", len(b.Records), b2, err)
	}
}

func TestDecodeSyncItemLimitDeepNesting(t *testing.T) {
	t.Skip("bug: nesting deeper than the item scanner's 4096 levels turns off the item limit")
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	body := []byte(`{"provider":"apple","x":` + deep + `,"data":{"records":[` + record() + `,` + record() + `,` + record() + `]}}`)
	if b, err := DecodeSync(body, 2); err == nil {
		t.Errorf("3 items accepted with a limit of 2 (%d kept)", b.Items())
	}
}

func TestDecodeSyncNullBody(t *testing.T) {
	t.Skip(`bug: the body null is answered "Unsupported provider: ." instead of "Request body must be a JSON object."`)
	e := mustReject(t, []byte(`null`), 0, KindInvalid)
	if e.Detail != "Request body must be a JSON object." {
		t.Errorf("detail %q", e.Detail)
	}
}

// The provider outlives the request (caches, runs): it must be the
// package's constant, not a slice of the decoder's copy of the body, which
// would keep the whole body alive.
func TestProviderDoesNotPinTheBody(t *testing.T) {
	for _, body := range []string{`{"provider":"apple"}`, `{"provider":"SAMSUNG","data":{"records":[1]}}`} {
		b, err := DecodeSync([]byte(body), 10)
		if err != nil {
			t.Fatal(err)
		}
		pinned := true
		for _, p := range Providers {
			if unsafe.StringData(b.Provider) == unsafe.StringData(p) {
				pinned = false
			}
		}
		if pinned {
			t.Errorf("%s: provider %q is not the package constant", body, b.Provider)
		}
	}
}
