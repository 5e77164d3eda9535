package ingest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// appleBody is a HealthKit-like batch of n records of mixed types, each with
// its own UUID and full source block (about 380 bytes per record).
func appleBody(batch, n int) []byte {
	types := []string{"HKQuantityTypeIdentifierHeartRate", "HKQuantityTypeIdentifierStepCount",
		"HKQuantityTypeIdentifierActiveEnergyBurned", "HKQuantityTypeIdentifierDistanceWalkingRunning",
		"HKQuantityTypeIdentifierOxygenSaturation", "HKQuantityTypeIdentifierRespiratoryRate"}
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2026-03-02T00:00:00Z","data":{"records":[`)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(batch*n) * time.Second)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		t := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&b, `{"id":"%08X-1C2D-4E5F-8A9B-%012X","type":"%s","startDate":"%s","endDate":"%s","zoneOffset":"+01:00",`+
			`"value":%d,"unit":"count/min","source":{"name":"Apple Watch","bundleIdentifier":"com.apple.health.5A1B2C3D",`+
			`"deviceModel":"Watch","productType":"Watch7,1","deviceManufacturer":"Apple Inc.","operatingSystemVersion":`+
			`{"majorVersion":11,"minorVersion":2,"patchVersion":0}},"metadata":null}`,
			batch, i, types[i%len(types)], t, t, 60+i%40)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func TestCompactorIndexesEveryRecordOnce(t *testing.T) {
	s, store := newService(t, Options{})
	for i := 0; i < 5; i++ {
		if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(i, 600)}); err != nil {
			t.Fatal(err)
		}
	}
	// The last batch again, re-encoded: a replay of every record in it.
	if _, err := s.Submit(&Request{UserID: "u", Body: append(appleBody(4, 600), ' ')}); err != nil {
		t.Fatal(err)
	}
	c := indexAll(t, store, s, CompactorOptions{MaxBatches: 2})
	if n := queueLen(t, store); n != 0 {
		t.Errorf("%d batches left in the queue", n)
	}
	// Heart rate is every sixth record: 3,000 records, 500 heart rates, each once.
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	n, err := store.SeriesCount(1, 1, from, from+int64(time.Hour/time.Microsecond))
	if err != nil || n != 500 {
		t.Errorf("heart rate points %d, want 500 (%v)", n, err)
	}
	var runs []*pebblestore.Run
	store.UserRuns(1, func(r *pebblestore.Run) bool { runs = append(runs, r); return true })
	if len(runs) != 6 {
		t.Fatalf("%d runs", len(runs))
	}
	for _, r := range runs {
		if r.Status != "completed" || r.RecordsSaved != 600 || r.CompletedAt == nil {
			t.Errorf("run %+v", r)
		}
	}
	if b, lag := c.Lag(); b != 0 {
		t.Errorf("lag %d batches, %v", b, lag)
	}
}

// TestCompactorIndexesJSONEntries: a queue entry of an earlier release
// holds the JSON request body instead of the queued form, and is indexed
// all the same after an upgrade.
func TestCompactorIndexesJSONEntries(t *testing.T) {
	dir := t.TempDir()
	s, store := openService(t, dir, Options{})
	if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(0, 600)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	old := appleBody(1, 600)
	b := store.NewBatch()
	if err := b.PutQueue(&pebblestore.QueueEntry{Seq: s.Watermark() + 1, Received: time.Now(), UserIID: 1, UserID: "u",
		Provider: "apple", Body: old, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	store.Close()

	s, store = openService(t, dir, Options{})
	defer store.Close()
	defer s.Close()
	var kinds []bool
	store.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		kinds = append(kinds, e.JSON)
		if e.JSON && (e.Size != len(old) || string(e.Body) != string(old)) {
			t.Errorf("JSON entry read back as %d bytes, size %d", len(e.Body), e.Size)
		}
		return true, nil
	})
	if fmt.Sprint(kinds) != "[false true]" {
		t.Fatalf("queue entries JSON=%v, want one queued form then one JSON body", kinds)
	}
	indexAll(t, store, s, CompactorOptions{})
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	if n, err := store.SeriesCount(1, 1, from, from+int64(time.Hour/time.Microsecond)); err != nil || n != 200 {
		t.Errorf("heart rate points %d, want 200 (%v)", n, err)
	}
	var saved []int
	store.UserRuns(1, func(r *pebblestore.Run) bool { saved = append(saved, r.RecordsSaved); return true })
	if fmt.Sprint(saved) != "[600 600]" {
		t.Errorf("records saved per run %v, want [600 600]", saved)
	}
}

// indexAll indexes everything queued with a compactor of the given options,
// and stops it.
func indexAll(t *testing.T, store *pebblestore.Store, s *Service, o CompactorOptions) *Compactor {
	t.Helper()
	c, err := NewCompactor(store, s, o)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitIndexed(ctx, s.Watermark()); err != nil {
		t.Fatal(err)
	}
	return c
}

func queueLen(t testing.TB, store *pebblestore.Store) int {
	n := 0
	if err := store.ScanQueue(0, func(*pebblestore.QueueEntry) (bool, error) { n++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkCompactor measures indexing alone: the queue is filled first
// with 2,000-record HealthKit-like batches, then drained.
func BenchmarkCompactor(b *testing.B) {
	// The whole queue is written before the compactor starts: no backlog
	// bound.
	s, store := newService(b, Options{MaxBacklogBytes: 1 << 40})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = appleBody(i, 2000)
	}
	for _, body := range bodies {
		if _, err := s.Submit(&Request{UserID: "u", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := NewCompactor(store, s, CompactorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	c.Start()
	if err := c.WaitIndexed(context.Background(), s.Watermark()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*2000)/time.Since(start).Seconds(), "records/s")
	b.StopTimer()
	c.Stop()
}

func TestParseStageSpellings(t *testing.T) {
	for wire, want := range map[string]string{"in_bed": "in_bed", "inBed": "in_bed", "IN_BED": "in_bed", " rem ": "rem", "Deep": "deep"} {
		st, ok := parseStage(wire)
		if !ok || st.String() != want {
			t.Errorf("%q: %v %v, want %s", wire, st, ok, want)
		}
	}
	for _, wire := range []string{"asleep", "nap", ""} {
		if _, ok := parseStage(wire); ok {
			t.Errorf("%q parsed", wire)
		}
	}
}

func TestSweepExpiredRecords(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	s, store := newService(t, Options{Now: func() time.Time { return clock }})
	if _, err := s.Submit(&Request{UserID: "u", Body: []byte(body), IdempotencyKey: "k", Namespace: "t"}); err != nil {
		t.Fatal(err)
	}
	c := indexAll(t, store, s, CompactorOptions{Now: func() time.Time { return clock }})
	// Within the windows nothing goes.
	c.lastSweep = time.Time{}
	c.sweep()
	if _, err := store.Dedup(1, hashOf("u", body)); err != nil {
		t.Fatalf("replay guard swept too early: %v", err)
	}
	// Eight days on the replay records go; the run stays 30 days.
	clock = now.Add(8 * 24 * time.Hour)
	c.lastSweep = time.Time{}
	c.sweep()
	if _, err := store.Dedup(1, hashOf("u", body)); err == nil {
		t.Errorf("replay guard kept past its window")
	}
	if _, err := store.Idempotency(1, "t", "k"); err == nil {
		t.Errorf("Idempotency-Key kept past the window")
	}
	if n := countRuns(t, store); n != 1 {
		t.Errorf("%d runs after 8 days, want 1", n)
	}
	clock = now.Add(31 * 24 * time.Hour)
	c.lastSweep = time.Time{}
	c.sweep()
	if n := countRuns(t, store); n != 0 {
		t.Errorf("%d runs after 31 days, want 0", n)
	}
	// The body is accepted again as new, not as a replay.
	res, err := s.Submit(&Request{UserID: "u", Body: []byte(body)})
	if err != nil || res.Duplicate {
		t.Errorf("after the window: %+v %v", res, err)
	}
}

func hashOf(user, b string) [16]byte {
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(b))
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

func countRuns(t *testing.T, store *pebblestore.Store) int {
	n := 0
	if err := store.Runs(func(*pebblestore.Run) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	return n
}
