package query

import (
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// storeDayOfHeartRate stores a day of 1 Hz heart rate for user u1 as the
// compactor does, and returns the day's start.
func storeDayOfHeartRate(b testing.TB) (*Service, time.Time) {
	s, q := openStore(b)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ib := s.NewIndexBatch()
	sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1", SourceName: "Apple Watch"})
	if err != nil {
		b.Fatal(err)
	}
	hr := 70.0
	for i := 0; i < 86_400; i++ {
		t := day.Add(time.Duration(i) * time.Second).UnixMicro()
		hr += float64(i%5 - 2)
		ib.AddPoint(1, 1, sid, pebblestore.Point{Start: t, End: t, Value: hr, Zone: "+01:00"})
	}
	if err := ib.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	return q, day
}

func TestRawDayReadsEveryPoint(t *testing.T) {
	q, day := storeDayOfHeartRate(t)
	page, err := q.Timeseries("u1", TimeseriesParams{Start: day, End: day.Add(24 * time.Hour), Types: []string{"heart_rate"}, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 86_400 || *page.Pagination.TotalCount != 86_400 || page.Pagination.HasMore {
		t.Fatalf("%d samples, total %d, more %v", len(page.Data), *page.Pagination.TotalCount, page.Pagination.HasMore)
	}
	for i, s := range page.Data {
		if want := day.Add(time.Duration(i) * time.Second); !s.Timestamp.Equal(want) {
			t.Fatalf("sample %d at %v, want %v", i, s.Timestamp, want)
		}
	}
	min, err := q.Timeseries("u1", TimeseriesParams{Start: day, End: day.Add(24 * time.Hour), Types: []string{"heart_rate"}, Resolution: "1min", Limit: 100_000})
	if err != nil || len(min.Data) != 1440 || min.Data[0].Count != 60 {
		t.Fatalf("1min: %v, %d buckets", err, len(min.Data))
	}
}

// BenchmarkRawDayHeartRate reads one user-day of 1 Hz heart rate, 86,400
// samples, in one page, as the timeseries route does before encoding.
func BenchmarkRawDayHeartRate(b *testing.B) {
	q, day := storeDayOfHeartRate(b)
	p := TimeseriesParams{Start: day, End: day.Add(24 * time.Hour), Types: []string{"heart_rate"}, Limit: 100_000}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.Timeseries("u1", p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinuteDayHeartRate reads the same day at 1-minute resolution.
func BenchmarkMinuteDayHeartRate(b *testing.B) {
	q, day := storeDayOfHeartRate(b)
	p := TimeseriesParams{Start: day, End: day.Add(24 * time.Hour), Types: []string{"heart_rate"}, Resolution: "1min", Limit: 100_000}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.Timeseries("u1", p); err != nil {
			b.Fatal(err)
		}
	}
}
