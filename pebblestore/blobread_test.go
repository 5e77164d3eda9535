package pebblestore

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// TestBlobReadErrorsReachTheCaller: a value kept in a blob file (a large
// queued batch, a workout's route) that the disk fails to read is an error
// of the read, not an empty value (Pebble's Get reports the error only
// when closed, and Iterator.Value drops it).
func TestBlobReadErrorsReachTheCaller(t *testing.T) {
	var failing atomic.Bool
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failing.Load() && op.Kind.ReadOrWrite() == errorfs.OpIsRead && strings.HasSuffix(op.Path, ".blob") {
			return errorfs.ErrInjected
		}
		return nil
	}))
	s := openStoreAt(t, "/data", Options{FS: fs})
	big := []byte(strings.Repeat("x", 40<<10)) // past the 16 KiB of value separation
	b := s.NewBatch()
	if err := b.PutQueue(&QueueEntry{Seq: 1, Received: time.Unix(1_700_000_000, 0), UserIID: 1, UserID: "u",
		Provider: "apple", Body: big}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var parts [partCount][]byte
	parts[PartWorkout], parts[PartRoute] = []byte(`{"type":"running"}`), big
	ib := s.NewIndexBatch()
	if err := ib.PutWorkout(1, 1, hourOfMarch, hourOfMarch+1, parts); err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStoreAt(t, "/data", Options{FS: fs}) // nothing cached
	defer s.Close()
	if names, _ := fs.List("/data"); !strings.Contains(strings.Join(names, " "), ".blob") {
		t.Fatalf("no blob file: %v", names)
	}

	failing.Store(true)
	ref := WorkoutRef{SID: 1, Start: hourOfMarch, End: hourOfMarch + 1}
	if v, err := s.WorkoutPart(1, ref, PartRoute); !errors.Is(err, errorfs.ErrInjected) {
		t.Errorf("route unreadable: %d bytes, %v", len(v), err)
	}
	if err := s.ScanQueue(0, func(e *QueueEntry) (bool, error) {
		t.Errorf("queue entry of %d bytes handed out", len(e.Body))
		return true, nil
	}); !errors.Is(err, errorfs.ErrInjected) {
		t.Errorf("queue unreadable: %v", err)
	}
	if err := s.Each(func(k, v []byte) error { return nil }); !errors.Is(err, errorfs.ErrInjected) {
		t.Errorf("Each: %v", err)
	}

	failing.Store(false)
	if v, err := s.WorkoutPart(1, ref, PartRoute); err != nil || len(v) != len(big) {
		t.Errorf("route once readable: %d bytes, %v", len(v), err)
	}
}

// TestMalformedRecordsAreErrors: a sleep stage or a user record that does
// not decode fails the read instead of being skipped or read as empty.
func TestMalformedRecordsAreErrors(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{})
	defer s.Close()
	stage := &SleepStageRecord{Provider: ProviderCode("apple"), Start: hourOfMarch, End: hourOfMarch + 60e6, SID: 1, Stage: 1}
	if err := s.db.Set(sleepKey(1, stage), []byte{5, 'U'}, nil); err != nil { // a zone of 5 bytes, of which 1 is there
		t.Fatal(err)
	}
	if err := s.db.Set(userKey("short"), []byte{0, 0, 0, 1}, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.SleepStages(1, 0, hourOfMarch-1, hourOfMarch+1, func(*SleepStageRecord) bool { n++; return true }); err == nil {
		t.Errorf("malformed sleep stage: %d read, no error", n)
	}
	n = 0
	if err := s.Users(func(*User) bool { n++; return true }); err == nil {
		t.Errorf("malformed user: %d read, no error", n)
	}
}
