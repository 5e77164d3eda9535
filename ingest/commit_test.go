package ingest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"wearhouse/codec"
)

// walStall holds the WAL's fsyncs while it is set.
type walStall struct{ held atomic.Pointer[chan struct{}] }

func (w *walStall) String() string { return "walStall" }

func (w *walStall) MaybeError(op errorfs.Op) error {
	if faultIsWAL(op) && faultIsSync(op) {
		if c := w.held.Load(); c != nil {
			<-*c
		}
	}
	return nil
}

func (w *walStall) hold() {
	c := make(chan struct{})
	w.held.Store(&c)
}

func (w *walStall) release() {
	if c := w.held.Swap(nil); c != nil {
		close(*c)
	}
}

// TestStalledWriteHoldsItsPlace: a sync and an SDK log write, both the
// first of a new user, on a disk whose fsync does not return. Each is
// answered 503 after the commit timeout, and keeps what it holds (its
// admission, the user's lock, the user-creation lock, the sequence number)
// until the write finishes; then everything is released, the new user is
// cached, and a retry of the sync is answered as a replay of it.
func TestStalledWriteHoldsItsPlace(t *testing.T) {
	body := faultBody(1, 3)
	for _, tc := range []struct {
		name  string
		write func(*Service) error
	}{
		{"sync", func(s *Service) error {
			_, err := s.Submit(&Request{UserID: "new", Body: body})
			return err
		}},
		{"sdk logs", func(s *Service) error {
			return s.AppendSDKLogs("new", nil, nil, &codec.SDKLogBatch{Events: []codec.SDKLogEvent{{Type: "device_state", Raw: []byte(`{"a":1}`)}}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stall := &walStall{}
			s, store, _ := openFaultService(t, errorfs.Wrap(vfs.NewMem(), stall), t.TempDir(),
				Options{CommitTimeout: 100 * time.Millisecond})
			t.Cleanup(func() {
				stall.release()
				s.Close()
				store.Close()
			})
			stall.hold()
			if err := tc.write(s); faultKind(err) != KindOverloaded {
				t.Fatalf("a write stalled past the commit timeout: %v, want 503", err)
			}
			if _, n := s.InFlight(); n != 1 {
				t.Errorf("%d requests in flight while the write runs, want its own", n)
			}
			if free(s.userLock("new")) {
				t.Error("the user's lock was released before the write finished")
			}
			if free(&s.usersMu) {
				t.Error("the user-creation lock was released before the write finished")
			}
			if w := s.Watermark(); w != 0 {
				t.Errorf("watermark %d while the only write runs", w)
			}

			stall.release()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if b, n := s.InFlight(); b == 0 && n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the admission was not released once the write finished")
				}
			}
			if !free(s.userLock("new")) || !free(&s.usersMu) {
				t.Fatal("locks still held once the write finished")
			}
			if _, ok := s.users.Load("new"); !ok {
				t.Error("the user created by the write is not cached")
			}
			if _, err := store.User("new"); err != nil {
				t.Errorf("the user created by the write: %v", err)
			}
			if tc.name != "sync" {
				return
			}
			if w := s.Watermark(); w != 1 {
				t.Errorf("watermark %d once the write finished, want 1", w)
			}
			res, err := s.Submit(&Request{UserID: "new", Body: body})
			if err != nil || !res.Duplicate || res.Seq != 1 {
				t.Errorf("the retry: %+v %v, want a replay of seq 1", res, err)
			}
		})
	}
}

// free reports whether nobody holds mu, leaving it so.
func free(mu interface {
	TryLock() bool
	Unlock()
}) bool {
	if !mu.TryLock() {
		return false
	}
	mu.Unlock()
	return true
}
