package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestHashingSlots: no more than hashSlots hashes run at once; a login
// that cannot get a slot before its context ends is refused as busy, and
// the slots come back.
func TestHashingSlots(t *testing.T) {
	s := NewAccountStore(nil, time.Now)
	release := make(chan struct{})
	var running, most atomic.Int32
	done := make(chan error, hashSlots)
	for range hashSlots {
		go func() {
			done <- s.hashing(context.Background(), func() {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-release
				running.Add(-1)
			})
		}()
	}
	for running.Load() < hashSlots {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran := false
	if err := s.hashing(ctx, func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("a hash past the slots: %v, ran %v", err, ran)
	}
	close(release)
	for range hashSlots {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.hashing(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("after the slots came back: %v, ran %v", err, ran)
	}
	if most.Load() != hashSlots {
		t.Fatalf("%d hashes ran at once, want %d", most.Load(), hashSlots)
	}
}
