package codec

import (
	"math"
	"testing"
	"time"
)

func TestNewBatchValidatesAsDecodeSync(t *testing.T) {
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.FixedZone("", 3600))
	good := Record{Type: "HKQuantityTypeIdentifierHeartRate", Unit: "count/min", ValueRaw: 72.0}
	good.StartRaw, good.EndRaw, good.ZoneRaw = start, start.Add(time.Minute), "+01:00"
	nan := good
	nan.ValueRaw = math.NaN()
	noEnd := good
	noEnd.EndRaw = nil
	st := SleepStage{Stage: "deep"}
	st.StartRaw, st.EndRaw = start, start.Add(30*time.Minute)
	b, err := NewBatch("apple", []Record{good, nan, noEnd}, []SleepStage{st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 1 || b.Dropped != 2 || len(b.Sleep) != 1 {
		t.Fatalf("kept %d records, %d sleep, dropped %d; want 1, 1, 2 (errors %v)", len(b.Records), len(b.Sleep), b.Dropped, b.Errors)
	}
	r := b.Records[0]
	if !r.Start.Equal(start) || r.Start.Location() != time.UTC || r.ZoneOffset != "+01:00" || r.Value != 72 {
		t.Fatalf("record = start %v zone %q value %v", r.Start, r.ZoneOffset, r.Value)
	}
	if len(b.Warnings) != 0 {
		t.Fatalf("warnings %v", b.Warnings)
	}
	back, err := DecodeQueued(b.AppendQueued(nil))
	if err != nil || len(back.Records) != 1 || back.Records[0].ZoneOffset != "+01:00" || !back.Records[0].Start.Equal(start) {
		t.Fatalf("queued form: %v %+v", err, back)
	}
	if _, err := NewBatch("fitbit", nil, nil, nil); err == nil {
		t.Fatal("an unknown provider was accepted")
	}
}
