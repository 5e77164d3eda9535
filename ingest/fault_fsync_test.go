package ingest

// Fault test: the fsync of the WAL fails. Pebble must not be retried into
// a false success: the store stops (in production the process exits), no
// batch whose write was not synced is acknowledged, and after a restart
// every batch acknowledged before the failure is there, once.

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// walFailure is an errorfs injector that fails WAL operations from the
// n-th one of a kind on, with a given error, as a failing disk keeps
// failing.
type walFailure struct {
	match func(errorfs.Op) bool
	err   error
	after atomic.Int64 // operations to let through; negative: none armed
	fired atomic.Int64 // failures injected
}

func newWALFailure(match func(errorfs.Op) bool, err error) *walFailure {
	w := &walFailure{match: match, err: err}
	w.after.Store(-1)
	return w
}

func (w *walFailure) String() string { return "walFailure" }

// arm makes the n-th matching operation from now (1 for the next) and
// every one after it fail.
func (w *walFailure) arm(n int64) { w.after.Store(n - 1) }

func (w *walFailure) MaybeError(op errorfs.Op) error {
	if !faultIsWAL(op) || !w.match(op) {
		return nil
	}
	for {
		left := w.after.Load()
		if left < 0 && w.fired.Load() == 0 {
			return nil // not armed
		}
		if left <= 0 {
			w.fired.Add(1)
			return w.err
		}
		if w.after.CompareAndSwap(left, left-1) {
			return nil
		}
	}
}

// TestFaultFsyncErrorStopsStoreKeepsAcknowledged runs concurrent syncs,
// then makes the k-th WAL fsync from then on fail with EIO while a client
// keeps syncing. The store must stop through Pebble's fatal path, the
// request whose write failed must not be acknowledged, and a crash clone
// that keeps only synced data must hold every acknowledged batch. The
// restarted write path then stores each request the clients retry exactly
// once. k sweeps a few values, or 1 to 40 with the long tests.
func TestFaultFsyncErrorStopsStoreKeepsAcknowledged(t *testing.T) {
	for _, k := range faultSweep(1, 2, 5) {
		t.Run(fmt.Sprintf("fsync %d fails", k), func(t *testing.T) {
			faultRun(t, k, newWALFailure(faultIsSync, syscall.EIO), "input/output error")
		})
	}
}

// faultRun is the body of the fsync and ENOSPC tests: acknowledged load,
// then the failure armed on the k-th matching WAL operation, then a crash
// and a restart.
func faultRun(t *testing.T, k int64, inj *walFailure, wantInFatal string) {
	mem := vfs.NewCrashableMem()
	dir := t.TempDir()
	svc, _, fatal := openFaultService(t, errorfs.Wrap(mem, inj), dir, Options{CommitTimeout: 200 * time.Millisecond})
	var closeOnce sync.Once
	defer closeOnce.Do(svc.Close)
	users := []string{"fault-a", "fault-b", "fault-c", "fault-d"}
	l := newFaultLedger()
	var n atomic.Int64
	next := func(user string) Request {
		// Small batches: the run stays within Pebble's first memtable, so
		// that the WAL is not rotated. (Pebble panics when the sync that
		// closes the old WAL on a rotation fails, rather than call its
		// fatal path; in production the process stops either way.)
		m := int(n.Add(1))
		return Request{UserID: user, Namespace: "test", Body: faultBody(m, 1+m%4)}
	}
	// Acknowledged load: every user exists before the failure, so that no
	// write in flight at the failure holds the lock that creates users.
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				fr := faultSubmit(svc, next(u), 5*time.Second)
				if fr.err != nil {
					t.Errorf("before the failure: %v", fr.err)
					return
				}
				l.note(t, fr)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	before := len(l.acked)

	// The failure: one client goes on until its first failure. (Only one
	// write may be in flight once the WAL has failed: the process would
	// have exited at the first fatal error, but here the store lives on,
	// and Pebble panics on a write that finds the WAL writer already
	// failed.)
	inj.arm(k)
	failedAfter := 0
	for range 200 {
		fr := faultSubmit(svc, next(users[0]), 3*time.Second)
		l.note(t, fr)
		if fr.err != nil {
			failedAfter++
			break
		}
	}
	var msg string
	select {
	case msg = <-fatal.ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("the store did not stop within 5s of the failure (%d failures injected)", inj.fired.Load())
	}
	if !strings.Contains(msg, "fatal commit error") || !strings.Contains(msg, wantInFatal) {
		t.Errorf("fatal message %q, want the commit error and %q", msg, wantInFatal)
	}
	if failedAfter != 1 {
		t.Errorf("the client saw no failure")
	}
	// The crash: only synced data survives. The write path's background
	// work stops; the store is abandoned, as the process would have exited.
	closeOnce.Do(svc.Close)
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})
	svc2, store2, _ := openFaultService(t, crashed, dir, Options{CommitTimeout: time.Second})
	defer func() {
		svc2.Close()
		store2.Close()
	}()
	q := faultQueue(t, store2)
	requireFaultAcked(t, q, l)
	stored := map[string]string{} // user and body -> batch id
	for id, e := range q {
		stored[e.UserID+"\x00"+string(e.Body)] = id
	}
	retriedStored := 0
	for _, req := range l.failed {
		res, err := svc2.Submit(&req)
		if err != nil {
			t.Fatalf("retry after the restart: %v", err)
		}
		id, wasStored := stored[req.UserID+"\x00"+string(req.Body)]
		if res.Duplicate != wasStored || (wasStored && faultResultID(res) != id) {
			t.Errorf("retry of a request stored=%v answered duplicate=%v batch %s", wasStored, res.Duplicate, faultResultID(res))
		}
		if wasStored {
			retriedStored++
		}
	}
	after := faultQueue(t, store2) // fails on any request stored twice
	if want := len(q) - retriedStored + len(l.failed); len(after) != want {
		t.Errorf("%d batches queued after the retries, want %d", len(after), want)
	}
	t.Logf("%d batches acknowledged before the failure, %d during it, all there after the crash; %d requests failed (%d of them stored without a 202), retried once each; %d failures injected; fatal: %.80s",
		before, len(l.acked)-before, len(l.failed), retriedStored, inj.fired.Load(), msg)
}

// TestFaultCrashCloneDetectsLossWithoutSync is the negative control of the
// crash clones: with the queue written without fsync, a clone that keeps
// only synced data must miss acknowledged batches, so that the fault tests
// would see a loss.
func TestFaultCrashCloneDetectsLossWithoutSync(t *testing.T) {
	mem := vfs.NewCrashableMem()
	dir := t.TempDir()
	store, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop(), FS: mem, UnsafeNoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := New(store, Options{AutoCreateUsers: true, BallastSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	l := newFaultLedger()
	for i := range 20 {
		l.note(t, faultSubmit(svc, Request{UserID: "fault-a", Body: faultBody(i, 1+i%4)}, 5*time.Second))
	}
	crashed, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop(), FS: mem.CrashClone(vfs.CrashCloneCfg{})})
	if err != nil {
		t.Fatal(err)
	}
	defer crashed.Close()
	q := faultQueue(t, crashed)
	missing := 0
	for id := range l.acked {
		if _, ok := q[id]; !ok {
			missing++
		}
	}
	if missing == 0 {
		t.Fatalf("all %d batches written without fsync survived the crash clone: it would not show a loss", len(l.acked))
	}
	t.Logf("without fsync, %d of %d acknowledged batches are lost in the crash clone", missing, len(l.acked))
}
