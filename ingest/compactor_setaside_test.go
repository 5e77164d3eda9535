package ingest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

func userRuns(t *testing.T, store *pebblestore.Store, id string) []*pebblestore.Run {
	t.Helper()
	u, err := store.User(id)
	if err != nil {
		t.Fatal(err)
	}
	var runs []*pebblestore.Run
	if err := store.UserRuns(u.IID, func(r *pebblestore.Run) bool { runs = append(runs, r); return true }); err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestBatchAtFaultIsSetAside: a batch that cannot be indexed is moved out
// of the queue byte for byte, its run failed with the reason, and the
// batches around it in the same round are indexed.
func TestBatchAtFaultIsSetAside(t *testing.T) {
	s, store := newService(t, Options{})
	for _, req := range []*Request{
		{UserID: "before", Body: appleBody(0, 60)},
		{UserID: "noisy", Body: []byte(infiniteWorkoutBody)},
		{UserID: "after", Body: appleBody(1, 60)},
	} {
		if _, err := s.Submit(req); err != nil {
			t.Fatal(err)
		}
	}
	var queued []byte
	store.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		if e.UserID == "noisy" {
			queued = e.Body
		}
		return true, nil
	})
	c := indexAll(t, store, s, CompactorOptions{MaxBatches: 16})
	for _, id := range []string{"before", "after"} {
		if runs := userRuns(t, store, id); len(runs) != 1 || runs[0].Status != "completed" || runs[0].RecordsSaved != 60 {
			t.Errorf("%s: runs %+v", id, runs[0])
		}
	}
	runs := userRuns(t, store, "noisy")
	if len(runs) != 1 || runs[0].Status != "failed" || !strings.Contains(runs[0].Message, "set aside") ||
		!strings.Contains(runs[0].Message, "cannot be stored") || runs[0].WorkoutsSaved != 0 {
		t.Errorf("noisy: runs %+v", runs[0])
	}
	if n, err := c.SetAside(); err != nil || n != 1 {
		t.Errorf("%d batches set aside (%v), want 1", n, err)
	}
	var kept []*pebblestore.QueueEntry
	store.SetAside(func(e *pebblestore.QueueEntry) bool { kept = append(kept, e); return true })
	if len(kept) != 1 || kept[0].UserID != "noisy" || !bytes.Equal(kept[0].Body, queued) {
		t.Errorf("set aside: %d entries", len(kept))
	}
	if n := queueLen(t, store); n != 0 {
		t.Errorf("%d batches left in the queue", n)
	}
	if c.Indexed.SetAside.Load() != 1 || c.Indexed.Failed.Load() != 1 {
		t.Errorf("counters: set aside %d, failed %d", c.Indexed.SetAside.Load(), c.Indexed.Failed.Load())
	}
	// Erasing the user erases what was set aside of theirs.
	u, _ := store.User("noisy")
	if _, err := store.DeleteUser(u); err != nil {
		t.Fatal(err)
	}
	if n, err := c.SetAside(); err != nil || n != 0 {
		t.Errorf("%d batches set aside after the user's erasure (%v)", n, err)
	}
}

// TestPanickingBatchIsSetAside: a batch whose indexing panics (a bug) is
// set aside like any batch at fault, instead of taking the process down
// on every start.
func TestPanickingBatchIsSetAside(t *testing.T) {
	s, store := newService(t, Options{})
	for _, id := range []string{"noisy", "normal"} {
		if _, err := s.Submit(&Request{UserID: id, Body: appleBody(0, 60)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := NewCompactor(store, s, CompactorOptions{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	c.indexHook = func(e *pebblestore.QueueEntry) {
		if e.UserID == "noisy" {
			panic("boom")
		}
	}
	c.Start()
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitIndexed(ctx, s.Watermark()); err != nil {
		t.Fatal(err)
	}
	if r := userRuns(t, store, "noisy")[0]; r.Status != "failed" || !strings.HasSuffix(r.Message, "indexing it failed (boom)") {
		t.Errorf("noisy: run %+v", r)
	}
	if r := userRuns(t, store, "normal")[0]; r.Status != "completed" || r.RecordsSaved != 60 {
		t.Errorf("normal: run %+v", r)
	}
	if n, _ := c.SetAside(); n != 1 {
		t.Errorf("%d set aside", n)
	}
}

// TestItemsPastALimitAreCountedInTheRun: items that would pass a
// dictionary limit of their user are not indexed; the run says how many
// and why, and the rest of the batch is indexed.
func TestItemsPastALimitAreCountedInTheRun(t *testing.T) {
	s, store := newService(t, Options{})
	if _, err := s.Submit(&Request{UserID: "noisy", Body: manyTypesBody(1_500)}); err != nil {
		t.Fatal(err)
	}
	c := indexAll(t, store, s, CompactorOptions{})
	runs := userRuns(t, store, "noisy")
	r := runs[0]
	if r.Status != "completed" || r.RecordsSaved != 1_000 || r.UnmappedCount != 1_000 || r.RejectedCount != 500 ||
		r.Message != "500 item(s) not indexed: the user has reached the limit of 1000 distinct custom series types." {
		t.Errorf("run %+v", r)
	}
	if c.Indexed.Rejected.Load() != 500 {
		t.Errorf("rejected %d", c.Indexed.Rejected.Load())
	}
	if n, _ := c.SetAside(); n != 0 {
		t.Errorf("%d batches set aside", n)
	}
}

// TestCompactorRetriesStoreErrors: a round that fails as a store error
// would is retried, with a backoff, until it succeeds; the compactor never
// stops.
func TestCompactorRetriesStoreErrors(t *testing.T) {
	s, store := newService(t, Options{})
	if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(0, 60)}); err != nil {
		t.Fatal(err)
	}
	c, err := NewCompactor(store, s, CompactorOptions{Logger: zerolog.Nop(), Idle: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	retrying := make(chan bool, 8)
	c.faultHook = func() error {
		retrying <- c.Retrying()
		if calls.Add(1) <= 5 {
			return errors.New("pebblestore: injected failure")
		}
		return nil
	}
	c.Start()
	defer c.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitIndexed(ctx, s.Watermark()); err != nil {
		t.Fatalf("not indexed after failures: %v (running %v)", err, c.Running())
	}
	if n := calls.Load(); n != 6 {
		t.Errorf("%d attempts, want 6", n)
	}
	var seen []bool
	for len(retrying) > 0 {
		seen = append(seen, <-retrying)
	}
	if len(seen) != 6 || seen[0] || !seen[5] {
		t.Errorf("retrying before each attempt: %v", seen)
	}
	if !c.Running() || c.Retrying() {
		t.Errorf("running %v, retrying %v after the round succeeded", c.Running(), c.Retrying())
	}
	if d := c.backoff(100); d != 4*time.Millisecond {
		t.Errorf("backoff after 100 failures %v, want the maximum", d)
	}
}
