// Package audit is wearhouse's audit trail (HIPAA 45 CFR 164.312(b)):
// every access to health data and every change to credentials, with who,
// on whose data, the outcome, the client, the time. Never a health value
// and never a secret: a record holds ids, route patterns, time windows and
// statuses.
//
// Records are appended in order, each with a sequence number and the
// SHA-256 of its predecessor's hash and its own canonical JSON, so that
// Verify proves the chain intact from its anchor (the first record, or
// the last one the retention sweep removed) and names a record removed
// (a gap in the sequence) or altered (a hash that does not match).
//
// A Trail keeps the records of the last few milliseconds in memory and
// writes them in one synced batch every FlushEvery (default 50 ms), so
// that auditing costs a request a hash and an append, not a disk write; a
// crash may lose those milliseconds of the trail, never a health record
// (the data path's durability is its own). When the disk falls behind,
// Record waits rather than drop.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// Actor is who acted: an API key, an SDK token (its user and
// application), a console account, or nobody (a refused request without
// a credential).
type Actor struct {
	Kind string `json:"kind"` // key, sdk, account, none
	ID   string `json:"id,omitempty"`
	User string `json:"user,omitempty"` // sdk: the token's user
}

// Event is one record of the trail.
type Event struct {
	Seq       uint64            `json:"seq"`
	Time      time.Time         `json:"time"`
	Action    string            `json:"action"`
	Method    string            `json:"method,omitempty"`
	Route     string            `json:"route,omitempty"`
	Status    int               `json:"status"`
	Outcome   string            `json:"outcome"` // success, denied, failed
	Actor     Actor             `json:"actor"`
	UserID    string            `json:"user_id,omitempty"` // whose data
	Target    map[string]string `json:"target,omitempty"`  // ids and the time window
	Client    string            `json:"client,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Prev      string            `json:"prev"`
	Hash      string            `json:"hash"`
}

// OutcomeOf is the outcome of a status.
func OutcomeOf(status int) string {
	switch {
	case status == 401 || status == 403 || status == 429:
		return "denied"
	case status >= 400:
		return "failed"
	}
	return "success"
}

// DefaultRetention is six years, the common reading of 164.316(b)(2).
const DefaultRetention = 6 * 365 * 24 * time.Hour

// Options configure a Trail.
type Options struct {
	// Disabled turns the trail off (app opens none).
	Disabled bool
	// Retention is how long records are kept (DefaultRetention).
	Retention time.Duration
	// FlushEvery is how long records wait in memory (50 ms).
	FlushEvery time.Duration
	// MaxPending bounds the records in memory; Record waits past it.
	MaxPending int
	Logger     zerolog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
}

// Trail appends events to the store's audit keyspace.
type Trail struct {
	store *pebblestore.Store
	opts  Options
	log   zerolog.Logger

	mu      sync.Mutex
	room    *sync.Cond // signalled when pending shrinks
	seq     uint64     // last assigned
	prev    [32]byte   // hash of the last assigned
	pending []pebblestore.AuditRecord
	closed  bool

	flushMu sync.Mutex // one flush at a time
	kick    chan struct{}
	done    chan struct{}
	swept   time.Time
}

// Open resumes the trail of a store and starts its writer.
func Open(store *pebblestore.Store, o Options) (*Trail, error) {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 50 * time.Millisecond
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 16 << 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	t := &Trail{store: store, opts: o, log: o.Logger, kick: make(chan struct{}, 1), done: make(chan struct{})}
	t.room = sync.NewCond(&t.mu)
	seq, rec, err := store.LastAudit()
	switch {
	case err == nil:
		var e Event
		if err := json.Unmarshal(rec, &e); err != nil {
			return nil, fmt.Errorf("audit: the last record (%d): %w", seq, err)
		}
		h, err := hex.DecodeString(e.Hash)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("audit: the last record (%d) has no valid hash", seq)
		}
		t.seq = seq
		copy(t.prev[:], h)
	case errors.Is(err, pebblestore.ErrNotFound):
		if aseq, ah, err := store.AuditAnchor(); err == nil {
			t.seq, t.prev = aseq, ah
		} else if !errors.Is(err, pebblestore.ErrNotFound) {
			return nil, err
		}
	default:
		return nil, err
	}
	if err := t.sweep(); err != nil {
		t.log.Error().Err(err).Msg("audit: retention sweep failed")
	}
	go t.writer()
	return t, nil
}

// hashOf is the chain's hash of a record: SHA-256 of the predecessor's
// hash and the record's JSON with its own hash empty.
func hashOf(prev [32]byte, e *Event) ([32]byte, []byte, error) {
	e.Hash = ""
	body, err := json.Marshal(e)
	if err != nil {
		return [32]byte{}, nil, err
	}
	h := sha256.New()
	h.Write(prev[:])
	h.Write(body)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum, body, nil
}

// Record appends an event: it gets the next sequence number, the time if
// it has none (UTC, to the millisecond) and its place in the chain. It
// waits while MaxPending records are waiting for the disk.
func (t *Trail) Record(e Event) {
	if e.Time.IsZero() {
		e.Time = t.opts.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	if e.Outcome == "" {
		e.Outcome = OutcomeOf(e.Status)
	}
	if e.Actor.Kind == "" {
		e.Actor.Kind = "none"
	}
	t.mu.Lock()
	for len(t.pending) >= t.opts.MaxPending && !t.closed {
		t.room.Wait()
	}
	if t.closed {
		t.mu.Unlock()
		t.log.Error().Str("action", e.Action).Msg("audit: a record after the trail closed")
		return
	}
	e.Seq = t.seq + 1
	e.Prev = hex.EncodeToString(t.prev[:])
	sum, _, err := hashOf(t.prev, &e)
	if err == nil {
		e.Hash = hex.EncodeToString(sum[:])
		var rec []byte
		if rec, err = json.Marshal(&e); err == nil {
			t.seq, t.prev = e.Seq, sum
			t.pending = append(t.pending, pebblestore.AuditRecord{Seq: e.Seq, Record: rec})
		}
	}
	n := len(t.pending)
	t.mu.Unlock()
	if err != nil {
		t.log.Error().Err(err).Msg("audit: a record could not be encoded")
		return
	}
	if n >= 1024 {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

func (t *Trail) writer() {
	defer close(t.done)
	tick := time.NewTicker(t.opts.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-t.kick:
		}
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		t.flush()
		if closed {
			return
		}
		if now := t.opts.Now(); now.Sub(t.swept) >= time.Hour {
			if err := t.sweep(); err != nil {
				t.log.Error().Err(err).Msg("audit: retention sweep failed")
			}
		}
	}
}

// flush writes the waiting records in one synced batch. On an error they
// stay, in order, and the next flush tries again.
func (t *Trail) flush() {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	t.mu.Lock()
	batch := t.pending
	t.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	var last Event
	if err := json.Unmarshal(batch[len(batch)-1].Record, &last); err != nil {
		t.log.Error().Err(err).Msg("audit: a record cannot be read back")
		return
	}
	var head [32]byte
	hex.Decode(head[:], []byte(last.Hash))
	if err := t.store.AppendAudit(batch, head, true); err != nil {
		t.log.Error().Err(err).Int("records", len(batch)).Msg("audit: records not yet written; retrying")
		return
	}
	t.mu.Lock()
	t.pending = append(t.pending[:0:0], t.pending[len(batch):]...)
	t.room.Broadcast()
	t.mu.Unlock()
}

// Flush writes what is waiting, now.
func (t *Trail) Flush() { t.flush() }

// Close writes what is waiting and stops the writer.
func (t *Trail) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.room.Broadcast()
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
	<-t.done
}

// sweep removes the records older than the retention, the oldest first,
// and leaves the anchor.
func (t *Trail) sweep() error {
	t.swept = t.opts.Now()
	cutoff := t.swept.Add(-t.opts.Retention)
	var (
		through uint64
		hash    [32]byte
		found   bool
		derr    error
	)
	err := t.store.AuditFrom(0, func(seq uint64, rec []byte) bool {
		var e Event
		if derr = json.Unmarshal(rec, &e); derr != nil {
			return false
		}
		if !e.Time.Before(cutoff) {
			return false
		}
		h, err := hex.DecodeString(e.Hash)
		if err != nil || len(h) != 32 {
			derr = fmt.Errorf("audit: record %d has no valid hash", seq)
			return false
		}
		through, found = seq, true
		copy(hash[:], h)
		return true
	})
	if err = errors.Join(err, derr); err != nil || !found {
		return err
	}
	if err := t.store.SweepAudit(through, hash); err != nil {
		return err
	}
	t.log.Info().Uint64("through", through).Dur("retention", t.opts.Retention).Msg("audit: records past the retention removed")
	return nil
}
