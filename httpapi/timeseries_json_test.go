package httpapi

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"wearhouse/codec"
	"wearhouse/query"
)

// The fast timeseries encoder must say exactly what the general one says.
func TestTimeseriesEncoderMatchesMarshal(t *testing.T) {
	zone := "+01:00"
	f := false
	mn, mx := 0.000001, 1e21
	next := "Y3Vyc29y"
	src := &query.SourceMetadata{Provider: "apple", Source: &zone}
	total := 3
	res := "1min"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	page := &query.Page[query.Sample]{
		Data: []query.Sample{
			{Timestamp: start, ZoneOffset: &zone, Type: "heart_rate", Value: 61, Unit: "bpm", Source: src},
			{Timestamp: start.Add(1500 * time.Millisecond), Type: "steps \"quoted\" <b>", Value: -0.1234567890123, Unit: "count", Source: nil, IsDailyTotal: &f},
			{Timestamp: start.Add(time.Minute), Type: "x", Value: 1e-7, Unit: "ü", Source: src, Min: &mn, Max: &mx, Count: 60},
			{Timestamp: start, Type: "big", Value: 123456789012345678901234.0, Unit: "", Source: src},
			{Timestamp: start, Type: "nan", Value: math.MaxFloat64, Unit: "u", Source: src},
		},
		Pagination: query.Pagination{NextCursor: &next, HasMore: true, TotalCount: &total},
		Metadata:   query.Metadata{Resolution: &res, SampleCount: 5, StartTime: &start},
	}
	fast, err := appendTimeseriesPage(nil, page)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := codec.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatalf("fast output is not JSON: %v\n%s", err, fast)
	}
	json.Unmarshal(slow, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("encoders differ:\n fast %s\n slow %s", fast, slow)
	}
	for _, v := range []float64{0, 1, -1, 0.1, 1e-6, 1e-7, 123.456, 1e20, 1e21, 5e-324} {
		want, _ := json.Marshal(v)
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, encoding/json says %s", v, got, want)
		}
	}
}
