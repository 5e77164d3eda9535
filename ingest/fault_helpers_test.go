package ingest

// Helpers of the fault tests (fault_*_test.go): a write path over a
// file system that fails on demand, and the bookkeeping of what was
// acknowledged.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/rs/zerolog"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// longFaultTests reports whether the long variants of the fault tests run
// (WEARHOUSE_LONG_TESTS=1).
func longFaultTests() bool { return os.Getenv("WEARHOUSE_LONG_TESTS") == "1" }

// faultSweep is the values of k a fault test tries: the given few, or 1 to
// 40 with the long tests.
func faultSweep(few ...int64) []int64 {
	if !longFaultTests() {
		return few
	}
	var ks []int64
	for k := int64(1); k <= 40; k++ {
		ks = append(ks, k)
	}
	return ks
}

// faultBody is a valid sync body, different for every n, with the given
// number of heart rate records (about 150 bytes each).
func faultBody(n int, records int) []byte {
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"1.0","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[`)
	for i := range max(records, 1) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"fault-%d-%d","type":"HKQuantityTypeIdentifierHeartRate",`+
			`"startDate":"2026-01-01T%02d:%02d:00Z","endDate":"2026-01-01T%02d:%02d:00Z","value":%d,"unit":"bpm"}`,
			n, i, i/60%24, i%60, i/60%24, i%60, 50+(n+i)%70)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// faultIsWAL reports whether an operation is on a WAL file.
func faultIsWAL(op errorfs.Op) bool { return strings.HasSuffix(op.Path, ".log") }

func faultIsSync(op errorfs.Op) bool {
	return op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo
}

func faultIsWrite(op errorfs.Op) bool {
	return op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt
}

// faultFatal is the store's OnFatal hook: it records Pebble's fatal
// message and ends the goroutine that met the error, as the process would
// end.
type faultFatal struct {
	ch   chan string
	seen atomic.Bool
}

func newFaultFatal() *faultFatal { return &faultFatal{ch: make(chan string, 256)} }

func (f *faultFatal) hook(msg string) {
	f.seen.Store(true)
	select {
	case f.ch <- msg:
	default:
	}
	runtime.Goexit()
}

// openFaultService opens a store on fs and the write path over it. The
// store's directory is a real temporary directory, so that the disk watch
// can sample its volume, while Pebble's files live in fs.
func openFaultService(t *testing.T, fs vfs.FS, dir string, o Options) (*Service, *pebblestore.Store, *faultFatal) {
	t.Helper()
	fatal := newFaultFatal()
	store, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop(), FS: fs, OnFatal: fatal.hook})
	if err != nil {
		t.Fatal(err)
	}
	o.AutoCreateUsers = true
	o.BallastSize = -1 // Pebble's files are not on the volume the disk watch samples
	svc, err := New(store, o)
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, fatal
}

// faultRequest is one request a client sent, and what became of it.
type faultRequest struct {
	req     Request
	batchID string // of the 202, or "" when not acknowledged
	err     error
}

// faultSubmit submits a request and waits for its answer at most
// limit; a request still unanswered then counts as not acknowledged (the
// goroutine is left behind, as the store it waits on is dead).
func faultSubmit(svc *Service, req Request, limit time.Duration) faultRequest {
	done := make(chan faultRequest, 1)
	go func() {
		res, err := svc.Submit(&req)
		fr := faultRequest{req: req, err: err}
		if err == nil {
			fr.batchID = faultResultID(res)
		}
		done <- fr
	}()
	select {
	case fr := <-done:
		return fr
	case <-time.After(limit):
		return faultRequest{req: req, err: fmt.Errorf("no answer within %v", limit)}
	}
}

// faultResultID is the batch id of an answer, a replay's included.
func faultResultID(res *Result) string {
	if res.BatchID != "" {
		return res.BatchID
	}
	s := string(res.Response)
	i := strings.Index(s, `"batch_id":"`)
	if i < 0 {
		return ""
	}
	return s[i+12:][:36]
}

// faultLedger records the requests of a run.
type faultLedger struct {
	mu     sync.Mutex
	acked  map[string]Request // batch id -> request
	failed []Request
}

func newFaultLedger() *faultLedger { return &faultLedger{acked: map[string]Request{}} }

func (l *faultLedger) note(t *testing.T, fr faultRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fr.err != nil {
		l.failed = append(l.failed, fr.req)
		return
	}
	if prev, ok := l.acked[fr.batchID]; ok && string(prev.Body) != string(fr.req.Body) {
		t.Errorf("batch id %s acknowledged for two different bodies", fr.batchID)
	}
	l.acked[fr.batchID] = fr.req
}

// faultQueue reads the queue of a store: batch id -> entry.
func faultQueue(t *testing.T, s *pebblestore.Store) map[string]*pebblestore.QueueEntry {
	t.Helper()
	out := map[string]*pebblestore.QueueEntry{}
	bodies := map[string]string{}
	err := s.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		id := formatUUID(e.BatchID)
		if _, dup := out[id]; dup {
			return false, fmt.Errorf("batch %s queued twice", id)
		}
		k := e.UserID + "\x00" + string(e.Body)
		if prev, dup := bodies[k]; dup {
			return false, fmt.Errorf("one request stored twice, as %s and %s", prev, id)
		}
		bodies[k] = id
		out[id] = e
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requireFaultAcked checks that every acknowledged batch is in the queue
// with the user and body that were sent.
func requireFaultAcked(t *testing.T, q map[string]*pebblestore.QueueEntry, l *faultLedger) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var bad []string
	for id, req := range l.acked {
		e, ok := q[id]
		switch {
		case !ok:
			bad = append(bad, "acknowledged batch "+id+" is missing")
		case e.UserID != req.UserID || string(e.Body) != string(mustQueued(t, req.Body)):
			bad = append(bad, "acknowledged batch "+id+" holds another request")
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d of %d acknowledged batches lost or altered, first ones:\n%s", len(bad), len(l.acked), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
}

// mustQueued is what the queue holds for a body: its validated queued form.
func mustQueued(t *testing.T, body []byte) []byte {
	t.Helper()
	q, err := codec.Queued(body)
	if err != nil {
		t.Fatalf("a test body does not decode: %v", err)
	}
	return q
}

// faultKind is the refusal kind of an error, or 0.
func faultKind(err error) Kind {
	var ie *Error
	if errors.As(err, &ie) {
		return ie.Kind
	}
	return 0
}
