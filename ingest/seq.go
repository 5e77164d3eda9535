package ingest

import "sync"

// seqTracker hands out queue sequence numbers and knows which are still
// being committed. Commits finish out of order, so the compactor may read
// only up to the watermark: every sequence number at or below it is either
// committed or abandoned, never still in flight.
type seqTracker struct {
	mu       sync.Mutex
	next     uint64
	inflight map[uint64]struct{}
}

func newSeqTracker(last uint64) *seqTracker {
	return &seqTracker{next: last + 1, inflight: make(map[uint64]struct{})}
}

func (t *seqTracker) reserve() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.next
	t.next++
	t.inflight[s] = struct{}{}
	return s
}

func (t *seqTracker) done(s uint64) {
	t.mu.Lock()
	delete(t.inflight, s)
	t.mu.Unlock()
}

// watermark is the highest sequence number below which nothing is in flight.
func (t *seqTracker) watermark() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.next - 1
	for s := range t.inflight {
		if s-1 < w {
			w = s - 1
		}
	}
	return w
}
