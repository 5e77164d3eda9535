package query

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/rs/zerolog"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// putRawWorkout stores the parts of a workout of user 1 as given.
func putRawWorkout(t *testing.T, s *pebblestore.Store, start time.Time, parts [5][]byte) string {
	t.Helper()
	ib := s.NewIndexBatch()
	sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1"})
	if err != nil {
		t.Fatal(err)
	}
	end := start.Add(30 * time.Minute)
	if err := ib.PutWorkout(1, sid, start.UnixMicro(), end.UnixMicro(), parts); err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	return workoutID(pebblestore.WorkoutRef{SID: sid, Start: start.UnixMicro(), End: end.UnixMicro()})
}

// TestUndecodableWorkoutFailsSummaries: a stored workout that does not
// decode fails the data and activity summaries (a 500) instead of being
// counted as of an unknown type or left out.
func TestUndecodableWorkoutFailsSummaries(t *testing.T) {
	s, q := openStore(t)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = []byte("{not JSON")
	putRawWorkout(t, s, day.Add(8*time.Hour), parts)

	if got, err := q.DataSummary("u1", DataParams{}); err == nil {
		t.Errorf("data summary: %d workouts %v, no error", got.TotalWorkouts, got.WorkoutTypeCounts)
	}
	p := ActivityParams{Start: day, End: day.AddDate(0, 0, 1), Limit: 10}
	if got, err := q.ActivitySummaries("u1", p); err == nil {
		t.Errorf("activity summaries: %d rows, no error", len(got.Data))
	}
}

// TestWorkoutReadErrorsReachTheCaller: a workout whose record or route the
// disk fails to read is an error of the request (a 500), neither "no such
// workout" nor a workout without its route.
func TestWorkoutReadErrorsReachTheCaller(t *testing.T) {
	var failOn atomic.Value // file name suffix whose reads fail; "" for none
	failOn.Store("")
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if sfx := failOn.Load().(string); sfx != "" && op.Kind.ReadOrWrite() == errorfs.OpIsRead && strings.HasSuffix(op.Path, sfx) {
			return errorfs.ErrInjected
		}
		return nil
	}))
	o := pebblestore.Options{Dir: "/data", Logger: zerolog.Nop(), FS: fs}
	s, err := pebblestore.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	// The user's record shares the tables: when its read is the one that
	// fails, the error must reach the caller all the same.
	b := s.NewBatch()
	if u, err := b.CreateUser("u1", time.Now(), nil); err != nil || u.IID != 1 {
		t.Fatalf("user u1: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	main, err := pebblestore.EncodeWorkout(&pebblestore.WorkoutRecord{Type: "running", DurationSeconds: 1800})
	if err != nil {
		t.Fatal(err)
	}
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = main
	// A route large enough for a blob file, apart from the record.
	parts[pebblestore.PartRoute] = []byte(`[` + strings.Repeat(`{"latitude":52.1,"longitude":21.1},`, 1000) + `{"latitude":52.1,"longitude":21.1}]`)
	id := putRawWorkout(t, s, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), parts)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ what, suffix string }{{"the record", ".sst"}, {"the route", ".blob"}} {
		s, err := pebblestore.Open(o) // with a cold cache
		if err != nil {
			t.Fatal(err)
		}
		q := New(s)
		failOn.Store(c.suffix)
		d, err := q.WorkoutByID("u1", id)
		failOn.Store("")
		switch {
		case err == nil:
			t.Errorf("%s unreadable: a workout with a route of %d bytes, no error", c.what, len(d.Route))
		case errors.Is(err, ErrNotFound):
			t.Errorf("%s unreadable: %v", c.what, err)
		}
		// Pebble's own background reads (table stats, say) may have met
		// the failure too and be retried a moment later: the read must
		// succeed again soon, not on the first try.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, err := q.WorkoutByID("u1", id)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("read again once the disk reads: %v", err)
				break
			}
		}
		s.Close()
	}
}

// TestSourceReadErrorsReachTheCaller: a data source record that the disk
// fails to read fails the reads that name its source (a 500), instead of
// answering them with provider "unknown".
func TestSourceReadErrorsReachTheCaller(t *testing.T) {
	var failing atomic.Bool // reads of the tables fail
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failing.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsRead && strings.HasSuffix(op.Path, ".sst") {
			return errorfs.ErrInjected
		}
		return nil
	}))
	s, err := pebblestore.Open(pebblestore.Options{Dir: "/data", Logger: zerolog.Nop(), FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The data source alone goes to a table; the user and the data that
	// names the source stay in the memtable, so that the read of the
	// source record is the only read of a table.
	ib := s.NewIndexBatch()
	sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch()
	if u, err := b.CreateUser("u1", time.Now(), nil); err != nil || u.IID != 1 {
		t.Fatalf("user u1: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ib = s.NewIndexBatch()
	steps, _ := health.SeriesByCode("steps")
	for i := range 10 {
		at := day.Add(8*time.Hour + time.Duration(i)*time.Minute).UnixMicro()
		ib.AddPoint(1, steps.ID, sid, pebblestore.Point{Start: at, End: at + 60e6, Value: 100})
	}
	main, err := pebblestore.EncodeWorkout(&pebblestore.WorkoutRecord{Type: "running", DurationSeconds: 1800})
	if err != nil {
		t.Fatal(err)
	}
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = main
	start := day.Add(9 * time.Hour)
	if err := ib.PutWorkout(1, sid, start.UnixMicro(), start.Add(30*time.Minute).UnixMicro(), parts); err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}

	q := New(s)
	win := TimeseriesParams{Start: day, End: day.AddDate(0, 0, 1), Limit: 100}
	hourly := win
	hourly.Resolution = "1hour"
	reads := []struct {
		what string
		read func() (providers []string, err error)
	}{
		{"raw time series", func() ([]string, error) {
			return providers(q.Timeseries("u1", win))(func(s Sample) string { return s.Source.Provider })
		}},
		{"hourly time series", func() ([]string, error) {
			return providers(q.Timeseries("u1", hourly))(func(s Sample) string { return s.Source.Provider })
		}},
		{"workouts", func() ([]string, error) {
			return providers(q.Workouts("u1", WorkoutParams{Start: day, End: day.AddDate(0, 0, 1), Limit: 10}))(
				func(w Workout) string { return w.Source.Provider })
		}},
		{"activity summaries", func() ([]string, error) {
			return providers(q.ActivitySummaries("u1", ActivityParams{Start: day, End: day.AddDate(0, 0, 1), Limit: 10}))(
				func(a ActivitySummary) string { return a.Source.Provider })
		}},
		{"data summary", func() ([]string, error) {
			d, err := q.DataSummary("u1", DataParams{})
			if err != nil {
				return nil, err
			}
			return providers(&Page[ProviderCounts]{Data: d.ByProvider}, nil)(
				func(pc ProviderCounts) string { return pc.Provider })
		}},
	}
	for _, r := range reads {
		failing.Store(true)
		got, err := r.read()
		failing.Store(false)
		if err == nil {
			t.Errorf("%s, source unreadable: providers %v, no error", r.what, got)
		}
	}
	// Once the disk reads, the same reads answer the source's provider.
	for _, r := range reads {
		got, err := r.read()
		if err != nil || len(got) == 0 || slices.ContainsFunc(got, func(p string) bool { return p != "apple" }) {
			t.Errorf("%s, read again: providers %v, %v", r.what, got, err)
		}
	}
}

// providers takes what a read returned, a page and an error, and gives a
// function that lists the provider of each item of the page (as provider
// reads it off the item), or returns the read's error. (Go cannot pass a
// call's two results along with a third argument, hence the two steps.)
func providers[T any](p *Page[T], err error) func(provider func(T) string) ([]string, error) {
	return func(provider func(T) string) ([]string, error) {
		if err != nil {
			return nil, err
		}
		var out []string
		for _, item := range p.Data {
			out = append(out, provider(item))
		}
		return out, nil
	}
}

// TestProviderDataErasedThenSentAgain: after a provider's data is erased,
// its next points get their data source again, with its record (the
// dictionary's cache used to keep the erased source's id, whose record was
// gone, so the new data read as of provider "unknown").
func TestProviderDataErasedThenSentAgain(t *testing.T) {
	s, q := openStore(t)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	putRawWorkout(t, s, day.Add(8*time.Hour), [5][]byte{})
	if err := s.DeleteProviderData(1, "apple"); err != nil {
		t.Fatal(err)
	}
	main, err := pebblestore.EncodeWorkout(&pebblestore.WorkoutRecord{Type: "running", DurationSeconds: 1800})
	if err != nil {
		t.Fatal(err)
	}
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = main
	id := putRawWorkout(t, s, day.Add(9*time.Hour), parts)
	w, err := q.WorkoutByID("u1", id)
	if err != nil {
		t.Fatal(err)
	}
	if w.Source.Provider != "apple" {
		t.Errorf("a workout sent after its provider's data was erased reads as of provider %q, want apple", w.Source.Provider)
	}
}
