package ingest

import (
	"sync"
	"sync/atomic"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// Broadcaster fans run changes out to live subscribers (the sync status
// stream). The write path publishes a run once its queued state is durable;
// the compactor publishes the runs of a round once the round is committed.
// So a subscriber never sees a state that a crash could take back.
//
// Publishing never blocks: each subscriber has a bounded buffer, and an
// event that does not fit is dropped and counted on the subscriber and on
// the broadcaster. A subscriber that lost events can tell (Dropped) and
// recover from the store, which holds every run.
//
// The zero value is ready to use. All methods are safe for concurrent use.
type Broadcaster struct {
	mu     sync.RWMutex
	byUser map[uint32]map[*Subscription]struct{}

	published atomic.Uint64
	dropped   atomic.Uint64
}

// Subscription receives published runs on C until Close. C is never closed
// by the broadcaster; stop reading it after Close.
type Subscription struct {
	// C delivers the runs, in publishing order, in the form the sync
	// status events are derived from. Each value is a copy that the
	// receiver owns.
	C <-chan codec.SyncRun

	c       chan codec.SyncRun
	b       *Broadcaster
	user    uint32
	dropped atomic.Uint64
	once    sync.Once
}

// DefaultSubscriptionBuffer is the buffer of a subscription created with a
// buffer of 0 or less.
const DefaultSubscriptionBuffer = 256

// Subscribe returns a subscription to the runs of one user (by internal id).
// buffer bounds the runs waiting to be read; past it, runs are dropped.
func (b *Broadcaster) Subscribe(user uint32, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultSubscriptionBuffer
	}
	c := make(chan codec.SyncRun, buffer)
	s := &Subscription{C: c, c: c, b: b, user: user}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byUser == nil {
		b.byUser = map[uint32]map[*Subscription]struct{}{}
	}
	m := b.byUser[user]
	if m == nil {
		m = map[*Subscription]struct{}{}
		b.byUser[user] = m
	}
	m[s] = struct{}{}
	return s
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		b := s.b
		b.mu.Lock()
		defer b.mu.Unlock()
		if m := b.byUser[s.user]; m != nil {
			delete(m, s)
			if len(m) == 0 {
				delete(b.byUser, s.user)
			}
		}
	})
}

// Dropped is how many runs this subscription lost because its buffer was
// full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Publish sends a copy of r, as a codec.SyncRun, to the subscribers of its
// user. It never blocks.
func (b *Broadcaster) Publish(r *pebblestore.Run) {
	if r == nil {
		return
	}
	b.published.Add(1)
	v := syncRun(r)
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.byUser[r.UserIID] {
		b.send(s, &v)
	}
}

func (b *Broadcaster) send(s *Subscription, r *codec.SyncRun) {
	select {
	case s.c <- *r:
	default:
		s.dropped.Add(1)
		b.dropped.Add(1)
	}
}

// Published is how many runs were published.
func (b *Broadcaster) Published() uint64 { return b.published.Load() }

// Dropped is how many deliveries were dropped, over all subscribers.
func (b *Broadcaster) Dropped() uint64 { return b.dropped.Load() }

// Subscribers is the number of open subscriptions.
func (b *Broadcaster) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, m := range b.byUser {
		n += len(m)
	}
	return n
}

// syncRun is the state of a stored run that the sync status events are
// derived from.
func syncRun(r *pebblestore.Run) codec.SyncRun {
	return codec.SyncRun{
		BatchID: r.BatchID, UserID: r.UserID, Provider: r.Provider, Status: r.Status, Error: r.Message,
		QueuedAt: r.QueuedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		RecordsSaved: r.RecordsSaved, WorkoutsSaved: r.WorkoutsSaved, SleepSaved: r.SleepSaved,
		DroppedCount: r.DroppedCount, UnmappedCount: r.UnmappedCount, RejectedCount: r.RejectedCount, Items: r.Items,
		Source: r.Source, Import: importMetadata(r.Import),
	}
}

// Events is the broadcaster of the write path and its compactor.
func (s *Service) Events() *Broadcaster { return &s.events }

// SubscribeUser returns a subscription to the runs of the user id (see
// Broadcaster.Subscribe), or ErrNotFound for a user that does not exist.
// A user created again under the same id is another user, whose runs the
// subscription does not receive.
func (s *Service) SubscribeUser(id string, buffer int) (*Subscription, error) {
	iid, known, err := s.lookupUser(id)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, ErrNotFound
	}
	return s.events.Subscribe(iid, buffer), nil
}

// importMetadata is an import's progress as its events carry it.
func importMetadata(r *pebblestore.ImportResult) *codec.ImportMetadata {
	if r == nil {
		return nil
	}
	return &codec.ImportMetadata{BytesTotal: r.BytesTotal, BytesRead: r.BytesRead, Records: r.Records,
		SleepStages: r.Sleep, Workouts: r.Workouts, Routes: r.Routes, Summaries: r.Summaries,
		Unconverted: r.Unconverted, Duplicates: r.Duplicates, Dropped: r.Dropped}
}
