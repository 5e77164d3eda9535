package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// manyTypesBody is one batch of n records, each of its own unmapped type.
func manyTypesBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2026-03-02T00:00:00Z","data":{"records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"custom-type-%d","startDate":"2026-03-01T00:00:00Z","endDate":"2026-03-01T00:00:00Z","value":1,"unit":"u"}`, i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// infiniteWorkoutBody is a workout whose energy statistics, each a finite
// number, add up past the range of a float64.
const infiniteWorkoutBody = `{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2026-03-02T00:00:00Z","data":{"workouts":[` +
	`{"id":"W1","type":"running","startDate":"2026-03-01T07:00:00Z","endDate":"2026-03-01T08:00:00Z",` +
	`"values":[{"type":"activeEnergyBurned","unit":"kcal","value":1.7e308},{"type":"basalEnergyBurned","unit":"kcal","value":1.7e308}]}]}}`

// TestOneBatchNeverStopsIndexingForOthers: a batch that once stopped the
// compactor for good (65,000 distinct unmapped types, which used up the
// store-wide id space; a workout whose values cannot be stored) is followed
// by a normal batch of another user, which is indexed and read back, also
// after a restart.
func TestOneBatchNeverStopsIndexingForOthers(t *testing.T) {
	for name, bad := range map[string][]byte{
		"65000 unmapped types": manyTypesBody(65_000),
		"unstorable workout":   []byte(infiniteWorkoutBody),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, store := openService(t, dir, Options{})
			for _, req := range []*Request{{UserID: "noisy", Body: bad}, {UserID: "normal", Body: appleBody(0, 60)}} {
				if _, err := s.Submit(req); err != nil {
					t.Fatal(err)
				}
			}
			c, err := NewCompactor(store, s, CompactorOptions{Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			c.Start()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.WaitIndexed(ctx, s.Watermark()); err != nil {
				t.Fatalf("the normal batch after the bad one was not indexed: %v (compactor running: %v)", err, c.Running())
			}
			if !c.Running() {
				t.Error("the compactor stopped")
			}
			c.Stop()
			for restart := 0; restart < 2; restart++ {
				u, err := store.User("normal")
				if err != nil {
					t.Fatal(err)
				}
				from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
				if n, err := store.SeriesCount(u.IID, 1, from, from+int64(time.Hour/time.Microsecond)); err != nil || n != 10 {
					t.Errorf("restart %d: the normal user has %d heart rate points (%v), want 10", restart, n, err)
				}
				var status []string
				store.UserRuns(u.IID, func(r *pebblestore.Run) bool { status = append(status, r.Status); return true })
				if fmt.Sprint(status) != "[completed]" {
					t.Errorf("restart %d: the normal user's runs %v", restart, status)
				}
				if restart == 1 {
					break
				}
				s.Close()
				store.Close()
				s, store = openService(t, dir, Options{})
				c, err = NewCompactor(store, s, CompactorOptions{Logger: zerolog.Nop()})
				if err != nil {
					t.Fatal(err)
				}
				c.Start()
				if err := c.WaitIndexed(ctx, s.Watermark()); err != nil || !c.Running() {
					t.Fatalf("after a restart: %v, running %v", err, c.Running())
				}
				c.Stop()
			}
			s.Close()
			store.Close()
		})
	}
}
