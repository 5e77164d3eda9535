package ingest

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

const body = `{"provider":"apple","sdkVersion":"1","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[` +
	`{"id":"r","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-01-01T00:00:00Z","endDate":"2026-01-01T00:00:00Z","value":60,"unit":"bpm"}]}}`

// newService opens a write path that creates users, over a store in a
// temporary directory, and closes both when the test ends.
// testStoreOptions, when set, adjusts the options of the stores tests
// open (the benchmarks of the encrypted store).
var testStoreOptions func(*pebblestore.Options)

func newService(t testing.TB, o Options) (*Service, *pebblestore.Store) {
	t.Helper()
	s, store := openService(t, t.TempDir(), o)
	t.Cleanup(func() {
		s.Close()
		store.Close()
	})
	return s, store
}

// openService opens the store in dir and a write path over it that creates
// users; the test closes both, and may open them again.
func openService(t testing.TB, dir string, o Options) (*Service, *pebblestore.Store) {
	t.Helper()
	po := pebblestore.Options{Dir: dir, Logger: zerolog.Nop()}
	if testStoreOptions != nil {
		testStoreOptions(&po)
	}
	store, err := pebblestore.Open(po)
	if err != nil {
		t.Fatal(err)
	}
	o.AutoCreateUsers = true
	s, err := New(store, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

func TestAdmissionRefusesOverLimits(t *testing.T) {
	s, _ := newService(t, Options{MaxConcurrent: 2, MaxInflightBytes: 1 << 20})
	s.concurrent.Store(2)
	_, err := s.Submit(&Request{UserID: "u", Body: []byte(body)})
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != KindOverloaded || ie.RetryAfter <= 0 {
		t.Fatalf("over concurrency: %v", err)
	}
	s.concurrent.Store(0)
	s.inflightBytes.Store(1 << 20)
	if _, err := s.Submit(&Request{UserID: "u", Body: []byte(body)}); !errors.As(err, &ie) || ie.Kind != KindOverloaded {
		t.Fatalf("over in-flight bytes: %v", err)
	}
	s.inflightBytes.Store(0)
	if _, err := s.Submit(&Request{UserID: "u", Body: []byte(body)}); err != nil {
		t.Fatalf("under the limits: %v", err)
	}
	if s.concurrent.Load() != 0 || s.inflightBytes.Load() != 0 {
		t.Errorf("limits not released: %d batches, %d bytes", s.concurrent.Load(), s.inflightBytes.Load())
	}
}

// Concurrent replays of one body write it once.
func TestConcurrentReplaysWriteOnce(t *testing.T) {
	s, store := newService(t, Options{})
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Submit(&Request{UserID: "u", Body: []byte(body)})
			if err != nil {
				t.Error(err)
				return
			}
			r := string(res.Response)
			ids[i] = r[strings.Index(r, `"batch_id":"`)+12:][:36]
		}()
	}
	wg.Wait()
	n := 0
	store.ScanQueue(0, func(*pebblestore.QueueEntry) (bool, error) { n++; return true, nil })
	if n != 1 {
		t.Errorf("queue has %d entries, want 1", n)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("batch ids differ: %q vs %q", id, ids[0])
		}
	}
	if u, err := store.User("u"); err != nil || u.IID != 1 {
		t.Errorf("user: %+v %v", u, err)
	}
}

func TestWatermarkWaitsForInflightWrites(t *testing.T) {
	tr := newSeqTracker(10)
	a, b := tr.reserve(), tr.reserve()
	if a != 11 || b != 12 {
		t.Fatalf("sequence %d %d", a, b)
	}
	tr.done(b)
	if w := tr.watermark(); w != 10 {
		t.Errorf("watermark %d with 11 in flight, want 10", w)
	}
	tr.done(a)
	if w := tr.watermark(); w != 12 {
		t.Errorf("watermark %d, want 12", w)
	}
}

func TestSequenceResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	for round := 1; round <= 2; round++ {
		s, store := openService(t, dir, Options{})
		res, err := s.Submit(&Request{UserID: "u", Body: []byte(strings.Replace(body, `"r"`, `"r`+string(rune('0'+round))+`"`, 1))})
		if err != nil {
			t.Fatal(err)
		}
		if res.Seq != uint64(round) {
			t.Errorf("round %d: seq %d", round, res.Seq)
		}
		s.Close()
		store.Close()
	}
}

// Close is called by a deferred stop and again by a signal handler's; the
// second call must not panic (closing a closed channel).
func TestCloseTwice(t *testing.T) {
	s, _ := newService(t, Options{})
	s.Close()
	s.Close() // and the cleanup's third
}
