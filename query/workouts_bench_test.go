package query

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// storeMonthOfWorkouts stores 30 days of two workouts a day for user u1 as
// the compactor does: a 45-minute run at 06:00 and a 30-minute walk at
// 18:00, each with a 1 Hz GPS route and 1 Hz heart-rate samples.
func storeMonthOfWorkouts(tb testing.TB) (*Service, time.Time) {
	s, q := openStore(tb)
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for day := range 30 {
		ib := s.NewIndexBatch()
		sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1", SourceName: "Apple Watch"})
		if err != nil {
			tb.Fatal(err)
		}
		for _, w := range []struct {
			typ     string
			hour    int
			minutes int
		}{{"running", 6, 45}, {"walking", 18, 30}} {
			start := month.AddDate(0, 0, day).Add(time.Duration(w.hour) * time.Hour)
			end := start.Add(time.Duration(w.minutes) * time.Minute)
			kcal := float64(w.minutes) * 9
			main, err := pebblestore.EncodeWorkout(&pebblestore.WorkoutRecord{
				Type: w.typ, SDKType: strings.ToUpper(w.typ), DurationSeconds: int64(w.minutes) * 60, EnergyKcal: &kcal,
				Details:    map[string]float64{"distance": float64(w.minutes) * 180, "heart_rate_avg": 131},
				Statistics: []pebblestore.WorkoutStat{{Type: "totalEnergyBurned", Unit: "kcal", Value: kcal}},
				Zone:       "+01:00", ExtID: fmt.Sprintf("W-%d-%s", day, w.typ),
			})
			if err != nil {
				tb.Fatal(err)
			}
			var route, samples strings.Builder
			route.WriteByte('[')
			samples.WriteByte('[')
			for i := range w.minutes * 60 {
				if i > 0 {
					route.WriteByte(',')
					samples.WriteByte(',')
				}
				ts := start.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
				fmt.Fprintf(&route, `{"timestamp":"%s","latitude":%.6f,"longitude":%.6f,"altitude":%.1f}`,
					ts, 52.52+float64(i)*1e-5, 13.40+float64(i)*1e-5, 34+float64(i%20)/10)
				fmt.Fprintf(&samples, `{"timestamp":"%s","type":"heart_rate","value":%d}`, ts, 120+i%30)
			}
			route.WriteByte(']')
			samples.WriteByte(']')
			var parts [5][]byte
			parts[pebblestore.PartWorkout] = main
			parts[pebblestore.PartRoute] = []byte(route.String())
			parts[pebblestore.PartSamples] = []byte(samples.String())
			if err := ib.PutWorkout(1, sid, start.UnixMicro(), end.UnixMicro(), parts); err != nil {
				tb.Fatal(err)
			}
		}
		if err := ib.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		tb.Fatal(err)
	}
	return q, month
}

func TestMonthOfWorkouts(t *testing.T) {
	q, month := storeMonthOfWorkouts(t)
	page, err := q.Workouts("u1", WorkoutParams{Start: month, End: month.AddDate(0, 0, 30), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 60 || *page.Pagination.TotalCount != 60 || page.Pagination.HasMore {
		t.Fatalf("%d workouts, total %d, more %v", len(page.Data), *page.Pagination.TotalCount, page.Pagination.HasMore)
	}
	last := page.Data[0] // newest first
	if want := month.AddDate(0, 0, 29).Add(18 * time.Hour); !last.StartTime.Equal(want) || last.Type != "walking" ||
		last.DurationSeconds != 1800 || last.CaloriesKcal == nil || *last.CaloriesKcal != 270 {
		t.Fatalf("newest workout %+v, want the walk at %v", last, want)
	}
	d, err := q.WorkoutByID("u1", last.ID)
	if err != nil {
		t.Fatal(err)
	}
	var route []map[string]any
	if err := json.Unmarshal(d.Route, &route); err != nil || len(route) != 1800 {
		t.Fatalf("route: %d points, %v", len(route), err)
	}
}

// TestWorkoutPages walks the month in pages of 25 with the cursors: every
// workout once, newest first.
func TestWorkoutPages(t *testing.T) {
	q, month := storeMonthOfWorkouts(t)
	p := WorkoutParams{Start: month, End: month.AddDate(0, 0, 30), Limit: 25}
	seen := map[string]bool{}
	var prev time.Time
	pages := 0
	for {
		page, err := q.Workouts("u1", p)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if *page.Pagination.TotalCount != 60 || page.Metadata.SampleCount != len(page.Data) {
			t.Fatalf("page %d: total %d, %d of %d", pages, *page.Pagination.TotalCount, page.Metadata.SampleCount, len(page.Data))
		}
		for _, w := range page.Data {
			if seen[w.ID] || (!prev.IsZero() && !w.StartTime.Before(prev)) {
				t.Fatalf("page %d: %s at %v out of order or twice", pages, w.ID, w.StartTime)
			}
			seen[w.ID], prev = true, w.StartTime
		}
		if !page.Pagination.HasMore {
			break
		}
		if pages == 10 {
			t.Fatal("the cursor does not move on")
		}
		p.Cursor = *page.Pagination.NextCursor
	}
	if len(seen) != 60 || pages != 3 {
		t.Fatalf("%d workouts in %d pages, want 60 in 3", len(seen), pages)
	}
	if _, err := q.Workouts("u1", WorkoutParams{Start: month, End: month.AddDate(0, 0, 30), Limit: 25, Cursor: "!!"}); err == nil {
		t.Fatal("a malformed cursor was accepted")
	}
}

// BenchmarkMonthOfWorkouts lists a month of workouts (60), as the
// workouts route does before encoding.
func BenchmarkMonthOfWorkouts(b *testing.B) {
	q, month := storeMonthOfWorkouts(b)
	p := WorkoutParams{Start: month, End: month.AddDate(0, 0, 30), Limit: 100}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		page, err := q.Workouts("u1", p)
		if err != nil || len(page.Data) != 60 {
			b.Fatalf("%v, %d workouts", err, len(page.Data))
		}
	}
}

// BenchmarkWorkoutWithRoute reads one 45-minute workout with its 1 Hz route
// and samples (2,700 points each).
func BenchmarkWorkoutWithRoute(b *testing.B) {
	q, month := storeMonthOfWorkouts(b)
	page, err := q.Workouts("u1", WorkoutParams{Start: month, End: month.AddDate(0, 0, 1), Limit: 10})
	if err != nil || len(page.Data) != 2 {
		b.Fatalf("%v, %d workouts", err, len(page.Data))
	}
	id := page.Data[1].ID // the run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := q.WorkoutByID("u1", id); err != nil {
			b.Fatal(err)
		}
	}
}
