package codec

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestLengthLimits: a field at its limit is kept; one byte over drops the
// item (or, for a statistic, the statistic; for sdkVersion, the field),
// reported by its path. Both the fast and the slow decoding path agree.
func TestLengthLimits(t *testing.T) {
	const day = `"startDate":"2026-03-01T07:00:00Z","endDate":"2026-03-01T08:00:00Z"`
	str := func(n int) string {
		b, _ := json.Marshal(strings.Repeat("é", n/2) + strings.Repeat("x", n%2))
		return string(b)
	}
	meta := func(n int) string { return `{"k":"` + strings.Repeat("x", n-8) + `"}` }
	cases := []struct {
		name  string
		item  func(n int) string // the body's data object with a field of n bytes
		limit int
		path  string // of the error (or warning) over the limit
		warn  bool
	}{
		{"record type", func(n int) string {
			return `{"records":[{` + day + `,"type":` + str(n) + `,"value":1,"unit":"u"}]}`
		}, MaxTypeBytes, "data.records[0].type", false},
		{"record unit", func(n int) string {
			return `{"records":[{` + day + `,"type":"t","value":1,"unit":` + str(n) + `}]}`
		}, MaxUnitBytes, "data.records[0].unit", false},
		{"record id", func(n int) string {
			return `{"records":[{` + day + `,"id":` + str(n) + `,"type":"t","value":1}]}`
		}, MaxIDBytes, "data.records[0].id", false},
		{"sleep parentId", func(n int) string {
			return `{"sleep":[{` + day + `,"parentId":` + str(n) + `,"stage":"deep"}]}`
		}, MaxIDBytes, "data.sleep[0].parentId", false},
		{"sleep stage", func(n int) string {
			return `{"sleep":[{` + day + `,"stage":` + str(n) + `}]}`
		}, MaxStageBytes, "data.sleep[0].stage", false},
		{"sleep values", func(n int) string {
			return `{"sleep":[{` + day + `,"stage":"deep","values":` + meta(n) + `}]}`
		}, MaxMetadataBytes, "data.sleep[0].values", false},
		{"record metadata", func(n int) string {
			return `{"records":[{` + day + `,"type":"t","value":1,"metadata":` + meta(n) + `}]}`
		}, MaxMetadataBytes, "data.records[0].metadata", false},
		{"source deviceModel", func(n int) string {
			return `{"records":[{` + day + `,"type":"t","value":1,"source":{"deviceModel":` + str(n) + `}}]}`
		}, MaxSourceBytes, "data.records[0].source.deviceModel", false},
		{"source snake_case name", func(n int) string {
			return `{"workouts":[{` + day + `,"type":"running","source":{"bundle_identifier":` + str(n) + `}}]}`
		}, MaxSourceBytes, "data.workouts[0].source.bundleIdentifier", false},
		{"workout type", func(n int) string {
			return `{"workouts":[{` + day + `,"type":` + str(n) + `}]}`
		}, MaxTypeBytes, "data.workouts[0].type", false},
		{"workout title", func(n int) string {
			return `{"workouts":[{` + day + `,"type":"running","title":` + str(n) + `}]}`
		}, MaxTitleBytes, "data.workouts[0].title", false},
		{"workout notes", func(n int) string {
			return `{"workouts":[{` + day + `,"type":"running","notes":` + str(n) + `}]}`
		}, MaxNotesBytes, "data.workouts[0].notes", false},
		{"statistic unit", func(n int) string {
			return `{"workouts":[{` + day + `,"type":"running","values":[{"type":"distance","unit":` + str(n) + `,"value":1}]}]}`
		}, MaxUnitBytes, "data.workouts[0].values[0].unit", true},
	}
	for _, c := range cases {
		for _, n := range []int{c.limit, c.limit + 1} {
			for _, slow := range []bool{false, true} {
				body := `{"provider":"apple","sdkVersion":"1","syncTimestamp":"2026-03-02T00:00:00Z","data":` + c.item(n)
				if slow {
					// A second, malformed item sends the batch down the slow path.
					i := strings.LastIndex(body, `]}`)
					body = body[:i] + `,7` + body[i:]
				}
				body += "}"
				b, err := DecodeSync([]byte(body), 0)
				if err != nil {
					t.Fatalf("%s, %d bytes: %v", c.name, n, err)
				}
				var got []ItemError
				for _, e := range append(b.Errors, b.Warnings...) {
					if !strings.HasSuffix(e.Detail, "item must be an object") {
						got = append(got, e)
					}
				}
				over := n > c.limit
				desc := fmt.Sprintf("%s, %d bytes (slow %v)", c.name, n, slow)
				switch {
				case !over && (len(got) > 0 || b.Items() != 1):
					t.Errorf("%s: %d items kept, reports %v", desc, b.Items(), got)
				case over && (len(got) != 1 || got[0].Path != c.path ||
					!strings.Contains(got[0].Detail, fmt.Sprintf("longer than %d bytes", c.limit))):
					t.Errorf("%s: reports %v, want one at %s", desc, got, c.path)
				case over && !c.warn && b.Items() != 0:
					t.Errorf("%s: the item was kept", desc)
				case over && c.warn && (b.Items() != 1 || len(b.Workouts[0].Values) != 0):
					t.Errorf("%s: want the workout without the statistic", desc)
				}
			}
		}
	}
}

func TestLongValuesAreNotEchoed(t *testing.T) {
	long := strings.Repeat("p", 1<<20)
	_, err := DecodeSync([]byte(`{"provider":"`+long+`","data":{}}`), 0)
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "Unsupported provider: ppp") {
		t.Errorf("error of %d bytes: %.200v", len(fmt.Sprint(err)), err)
	}
	b, err := DecodeSync([]byte(`{"provider":"apple","syncTimestamp":"2026-03-02T00:00:00Z","sdkVersion":"`+strings.Repeat("1", MaxSDKVersionBytes+1)+`","data":{}}`), 0)
	if err != nil || b.SDKVersion != "" || len(b.Warnings) != 1 || b.Warnings[0].Path != "sdkVersion" {
		t.Errorf("long sdkVersion: %v %+v", err, b)
	}
}
