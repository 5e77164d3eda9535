package ingest

import (
	"crypto/sha256"
	"errors"
	"time"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// Request is one sync to accept.
type Request struct {
	UserID string
	// Namespace identifies the credential, for Idempotency-Keys.
	Namespace      string
	IdempotencyKey string
	// Body is the decompressed request body. Submit does not keep it.
	Body []byte
	// Admission is the place the request took before its body was read
	// (Admit), holding the body's bytes. Submit takes it over and releases
	// it once the queue write has finished. When nil, Submit admits the
	// request itself.
	Admission *Admission
	// Grant is set when the credential is an SDK token: the batch is
	// refused (KindRevokedToken) unless the token still holds for the user.
	Grant *Grant
}

// Result is the answer to an accepted (or replayed) sync.
type Result struct {
	BatchID   string
	Seq       uint64
	Duplicate bool
	// Replayed is set when the answer is the stored first answer of an
	// Idempotency-Key.
	Replayed bool
	// Response is the JSON body of the 202.
	Response []byte
	// Records, Sleep, Workouts and Dropped count the items of a new
	// batch (zero for a replay, which writes nothing).
	Records, Sleep, Workouts, Dropped int
}

// Submit validates a batch and appends it to the queue with one synced
// write. A nil error means the batch is durable and res.Response may be
// sent with 202.
//
// Its steps, in this order: admission; the body hashed and decoded; the
// replay locks, then the user's lock and the SDK token's grant; the answer
// to a replay, or to an unknown user; the decoding's verdict; the queue
// entry, the records that answer a re-sent batch, the user's connection
// and the queued run, all in one batch; its synced write; the counts and
// the answer. What the request holds is released once the write has
// finished (see write).
func (s *Service) Submit(req *Request) (*Result, error) {
	// Decoding holds about DecodeCost bytes per body byte: they are counted
	// before they are allocated.
	w, err := s.startWrite(req.Admission, len(req.Body), DecodeCost*len(req.Body))
	if err != nil {
		return nil, err
	}
	defer w.abandon()
	d := decodeBody(req, s.opts.MaxItems)
	if err := s.lockReplays(w, d.hash, req); err != nil {
		return nil, err
	}
	if err := w.holdUser(req.UserID, req.Grant); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if res, err := s.findReplay(req, d.hash, now); res != nil || err != nil {
		return res, err
	}
	// The decoding's verdict is given after the user and replay checks, as
	// if it came after them.
	if d.err != nil {
		return nil, d.err
	}
	a, err := s.queueEntry(w, req, d, now)
	if err != nil {
		return nil, err
	}
	if err := s.replayRecords(w.b, req, a, d.hash, now); err != nil {
		return nil, err
	}
	if err := s.touchConnection(w.b, a.iid, d.batch.Provider, now); err != nil {
		return nil, err
	}
	run, err := queuedRun(w.b, req, a, d.batch, now)
	if err != nil {
		return nil, err
	}
	// The queued run is published once the write is durable, before the
	// sequence number is released, so that the compactor's publication of
	// the same run always comes after it.
	err = w.commit("queue write", func() {
		s.backlog.Add(int64(len(req.Body))) // as the compactor counts it: body bytes
		s.publish(run)                      // sync status stream: the run is queued
	})
	if err != nil {
		return nil, err
	}
	s.count(d.batch)
	return &Result{BatchID: a.batchID, Seq: a.seq, Response: a.resp, Records: len(d.batch.Records),
		Sleep: len(d.batch.Sleep), Workouts: len(d.batch.Workouts), Dropped: d.batch.Dropped}, nil
}

// decoded is a sync body as Submit's first step leaves it: its hash, for
// the replay guard, and the batch as validated, or why it is not valid.
type decoded struct {
	hash  [16]byte
	batch *codec.Batch
	// queued is the batch in the queue's form: the queue holds the batch as
	// validated, not the JSON, a sixth to a third of the bytes to sync and
	// flush, and the compactor does not parse it again.
	queued []byte
	err    error
}

// decodeBody hashes the body (for the replay guard) on another core while
// this one decodes it: a 2,000-item body takes about 0.8 ms to hash and 2.6
// to decode. Both finish before it returns, so nothing reads the body
// after Submit returns.
func decodeBody(req *Request, maxItems int) *decoded {
	hashed := make(chan [16]byte, 1)
	go func() {
		h := sha256.New()
		h.Write([]byte(req.UserID))
		h.Write([]byte{0})
		h.Write(req.Body)
		var hash [16]byte
		copy(hash[:], h.Sum(nil))
		hashed <- hash
	}()
	d := &decoded{}
	d.batch, d.err = codec.DecodeSync(req.Body, maxItems)
	if d.err == nil {
		d.queued = d.batch.AppendQueued(nil)
	}
	d.hash = <-hashed
	return d
}

// lockReplays takes the stripes of the body hash and of the
// Idempotency-Key, in index order, so that concurrent replays of one batch
// are written once; the write holds them. Past the write's deadline it
// gives up with 503.
func (s *Service) lockReplays(w *write, hash [16]byte, req *Request) error {
	a := int(hash[0])
	b := a
	if req.IdempotencyKey != "" {
		k := sha256.Sum256([]byte(req.Namespace + "\x00" + req.IdempotencyKey))
		b = int(k[0])
	}
	if b < a {
		a, b = b, a
	}
	if !lockBy(&s.stripes[a], w.deadline) {
		return s.slow()
	}
	if b != a && !lockBy(&s.stripes[b], w.deadline) {
		s.stripes[a].Unlock()
		return s.slow()
	}
	w.hold(func() {
		if b != a {
			s.stripes[b].Unlock()
		}
		s.stripes[a].Unlock()
	})
	return nil
}

// findReplay answers a re-sent batch of a known user from its first answer
// (replay), and refuses the batch of an unknown user when users are not
// created by their first sync. It returns nil, nil otherwise. Replay
// records live under the user: a user that does not exist yet has none,
// and deleting a user deletes them.
func (s *Service) findReplay(req *Request, hash [16]byte, now time.Time) (*Result, error) {
	iid, known, err := s.lookupUser(req.UserID)
	switch {
	case err != nil:
		return nil, err
	case known:
		return s.replay(iid, hash, req, now)
	case !s.opts.AutoCreateUsers:
		return nil, refuse(KindUnknownUser, 0, "User with ID: %s not found.", req.UserID)
	}
	return nil, nil
}

// replay answers a re-sent batch from the first answer: an Idempotency-Key
// seen before, or a byte-identical body within the window. It returns nil,
// nil when the batch is new.
func (s *Service) replay(iid uint32, hash [16]byte, req *Request, now time.Time) (*Result, error) {
	if req.IdempotencyKey != "" {
		rec, err := s.store.Idempotency(iid, req.Namespace, req.IdempotencyKey)
		switch {
		case err == nil:
			if rec.Fingerprint != hash {
				return nil, refuse(KindConflict, 0, "Idempotency-Key %q was already used with a different request body.", req.IdempotencyKey)
			}
			s.Stats.Duplicates.Add(1)
			return &Result{Seq: rec.Seq, Replayed: true, Response: rec.Response}, nil
		case !errors.Is(err, pebblestore.ErrNotFound):
			return nil, err
		}
	}
	rec, err := s.store.Dedup(iid, hash)
	if errors.Is(err, pebblestore.ErrNotFound) || (err == nil && now.Sub(rec.Stored) >= s.opts.DedupWindow) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	resp, err := codec.MarkDuplicate(rec.Response)
	if err != nil {
		return nil, err
	}
	s.Stats.Duplicates.Add(1)
	return &Result{Seq: rec.Seq, Duplicate: true, Response: resp}, nil
}

// accepted is a new batch as its write is built: the ids it was given and
// the answer it gets.
type accepted struct {
	iid     uint32 // the user's internal id
	id      [16]byte
	batchID string // id, formatted
	seq     uint64
	resp    []byte // the body of the 202
}

// queueEntry starts the batch of a new sync's write: the user, created by
// its first sync, the batch's id and answer, its sequence number and its
// queue entry.
func (s *Service) queueEntry(w *write, req *Request, d *decoded, now time.Time) (*accepted, error) {
	w.b = s.store.NewBatchSized(len(d.queued) + len(req.UserID) + 4096)
	iid, err := w.user(req.UserID, now)
	if err != nil {
		return nil, err
	}
	a := &accepted{iid: iid, id: newBatchID()}
	a.batchID = formatUUID(a.id)
	if a.resp, err = codec.Marshal(codec.NewSyncResponse(req.UserID, a.batchID, d.batch)); err != nil {
		return nil, err
	}
	a.seq = w.reserveSeq()
	return a, w.b.PutQueue(&pebblestore.QueueEntry{
		Seq: a.seq, Received: now, BatchID: a.id, UserIID: iid, UserID: req.UserID,
		Provider: d.batch.Provider, Body: d.queued, Size: len(req.Body),
	})
}

// replayRecords adds what answers the batch when it is sent again: the
// replay guard of its body, and its Idempotency-Key when it has one.
func (s *Service) replayRecords(b *pebblestore.Batch, req *Request, a *accepted, hash [16]byte, now time.Time) error {
	rec := &pebblestore.Replay{Stored: now, Seq: a.seq, Response: a.resp}
	if err := b.PutDedup(a.iid, hash, rec); err != nil {
		return err
	}
	if req.IdempotencyKey == "" {
		return nil
	}
	irec := *rec
	irec.Fingerprint = hash
	return b.PutIdempotency(a.iid, req.Namespace, req.IdempotencyKey, &irec)
}

// queuedRun adds the batch's sync run, queued, and returns it.
func queuedRun(b *pebblestore.Batch, req *Request, a *accepted, batch *codec.Batch, now time.Time) (*pebblestore.Run, error) {
	run := &pebblestore.Run{Seq: a.seq, BatchID: a.batchID, UserID: req.UserID, UserIID: a.iid,
		Provider: batch.Provider, Status: "queued", QueuedAt: now.UTC(), DroppedCount: batch.Dropped,
		Items: batch.Items() + batch.Dropped}
	return run, b.PutRun(run)
}

// count adds an accepted batch to the write path's counters.
func (s *Service) count(batch *codec.Batch) {
	s.Stats.Batches.Add(1)
	s.Stats.Records.Add(uint64(len(batch.Records)))
	s.Stats.Sleep.Add(uint64(len(batch.Sleep)))
	s.Stats.Workouts.Add(uint64(len(batch.Workouts)))
	s.Stats.Dropped.Add(uint64(batch.Dropped))
}
