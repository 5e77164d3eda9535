// Package ingest is wearhouse's write path: admission (limits,
// backpressure, the index backlog, disk reserve and ballast),
// byte-identical replays and Idempotency-Keys, and the append of each
// accepted batch, in the codec's validated queued form, to the write-ahead
// queue with one synced Pebble write. A batch is acknowledged only after
// that write returned nil.
//
// The Compactor drains the queue into the indexes, one atomic write per
// round, and sweeps expired replay records and runs. SDK telemetry is
// written under the same rules, and run changes are published to the sync
// status stream. The writes of the user routes (a user created, a profile
// changed, a connection revoked, a workout or sleep session deleted) go
// through the same per-user locks and deadline as a sync, and DeleteUser
// erases a user in one order with the user's writes and the compactor
// (users.go, profiles.go, deletes.go).
package ingest

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// Options configure the write path.
type Options struct {
	// MaxItems is the most items one batch may hold.
	MaxItems int
	// MaxInflightBytes bounds the body bytes being decoded and written at
	// once; a request over it gets 503. One request is always admitted when
	// nothing else is in flight.
	MaxInflightBytes int64
	// MaxConcurrent bounds the batches being decoded and written at once.
	MaxConcurrent int
	// MaxBacklogBytes bounds the bytes acknowledged but not yet indexed;
	// past it batches get 503 until the compactor catches up, so that the
	// index never falls far behind what was accepted.
	MaxBacklogBytes int64
	// DiskReserve is the free space under which batches get 507.
	DiskReserve uint64
	// BallastSize is the size of the ballast file kept in the data
	// directory and given back when the disk fills up; negative for none.
	BallastSize int64
	// DedupWindow is how long a byte-identical body is recognised.
	DedupWindow time.Duration
	// AutoCreateUsers creates a user on its first sync; when false an
	// unknown user gets 404.
	AutoCreateUsers bool
	// CommitTimeout bounds the wait for the synced write; past it the
	// client gets 503 and retries (the retry is recognised as a replay).
	CommitTimeout time.Duration
	// RetryAfter is what overloaded clients are told to wait.
	RetryAfter time.Duration
	// AfterErase, when set, runs once a user is erased, under the user's
	// lock (DeleteUser): the credentials of the user are revoked there.
	AfterErase func(*pebblestore.User) error
	Logger     zerolog.Logger
	Now        func() time.Time
}

// EnsureDefaults fills in zero fields. AutoCreateUsers has no zero default:
// the caller sets it.
func (o *Options) EnsureDefaults() {
	if o.MaxItems == 0 {
		o.MaxItems = 200_000
	}
	if o.MaxInflightBytes == 0 {
		o.MaxInflightBytes = 64 << 20
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = 64
	}
	if o.DiskReserve == 0 {
		o.DiskReserve = 512 << 20
	}
	if o.BallastSize == 0 {
		o.BallastSize = 64 << 20
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = 7 * 24 * time.Hour
	}
	if o.MaxBacklogBytes == 0 {
		o.MaxBacklogBytes = 256 << 20
	}
	if o.CommitTimeout == 0 {
		o.CommitTimeout = 10 * time.Second
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports a configuration that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxItems < 1 {
		errs = append(errs, errors.New("ingest: max items must be positive"))
	}
	if o.MaxInflightBytes < 1<<20 {
		errs = append(errs, errors.New("ingest: max in-flight bytes must be at least 1 MiB"))
	}
	if o.MaxConcurrent < 1 {
		errs = append(errs, errors.New("ingest: max concurrent batches must be positive"))
	}
	if o.CommitTimeout < 100*time.Millisecond {
		errs = append(errs, errors.New("ingest: commit timeout must be at least 100ms"))
	}
	return errors.Join(errs...)
}

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
}

// Stats are the write path's counters.
type Stats struct {
	Batches    atomic.Uint64
	Records    atomic.Uint64
	Sleep      atomic.Uint64
	Workouts   atomic.Uint64
	Dropped    atomic.Uint64
	Duplicates atomic.Uint64
	Refused    atomic.Uint64
}

// Service accepts batches into the queue.
type Service struct {
	store     *pebblestore.Store
	opts      Options
	log       zerolog.Logger
	seq       *seqTracker
	disk      diskWatch
	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	// writes counts the queue writes still running, some of them after
	// their Submit returned on a timeout.
	writes sync.WaitGroup

	inflightBytes atomic.Int64
	backlog       atomic.Int64 // body bytes queued and not yet indexed (since start)
	concurrent    atomic.Int64
	appended      chan struct{}    // wakes the compactor
	stripes       [256]sync.Mutex  // serialise replays of one body or key
	usersMu       sync.Mutex       // serialise user creation
	userLocks     [64]sync.RWMutex // order a user's writes with its erasure (users.go)
	users         sync.Map         // user id -> internal id
	connMu        sync.Mutex       // guards reading and updating conns
	conns         sync.Map         // connKey -> pebblestore.Connection
	events        Broadcaster      // run changes, for the sync status stream

	Stats Stats
}

// New starts the write path over an open store.
func New(store *pebblestore.Store, o Options) (*Service, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	last, err := store.LastQueueSeq()
	if err != nil {
		return nil, err
	}
	// The compactor deletes what it indexed: its position may be past the
	// last queue entry, and a sequence number is never used twice.
	pos, err := store.CompactorPos()
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: o, log: o.Logger, seq: newSeqTracker(max(last, pos)),
		stop: make(chan struct{}), appended: make(chan struct{}, 1)}
	s.disk = diskWatch{dir: store.Dir(), reserve: o.DiskReserve, ballast: max(o.BallastSize, 0), log: o.Logger}
	if err := s.disk.sample(); err != nil {
		return nil, fmt.Errorf("ingest: free space of %s: %w", store.Dir(), err)
	}
	s.disk.tend()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.disk.run(250*time.Millisecond, s.stop)
	}()
	return s, nil
}

// Close stops the background work. In-flight Submits must have returned;
// Close waits for the queue writes that outlived their Submit (on a slow
// disk), which use the store that the caller closes next.
//
// Close is safe to call more than once.
func (s *Service) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.writes.Wait()
}

// Watermark is the highest queue sequence number below which no write is in
// flight; the compactor reads up to it.
func (s *Service) Watermark() uint64 { return s.seq.watermark() }

// DiskOK reports whether free space is above the reserve.
func (s *Service) DiskOK() bool { return s.disk.available() >= s.opts.DiskReserve }

// Indexed tells the write path that the compactor indexed queued batches
// of these many bytes, which leave the backlog.
func (s *Service) Indexed(bytes int64) {
	if s.backlog.Add(-bytes) < 0 {
		s.backlog.Store(0) // batches queued before this start
	}
}

// Backlog is the bytes acknowledged and not yet indexed since the start.
func (s *Service) Backlog() int64 { return s.backlog.Load() }

// DiskFree is the free space of the data directory's volume as admission
// sees it.
func (s *Service) DiskFree() uint64 { return s.disk.available() }

// Submit validates a batch and appends it to the queue with one synced
// write. A nil error means the batch is durable and res.Response may be
// sent with 202.
func (s *Service) Submit(req *Request) (*Result, error) {
	adm := req.Admission
	if adm == nil {
		var err error
		if adm, err = s.Admit(len(req.Body)); err != nil {
			return nil, err
		}
	}
	// What holds resources (admission, the replay lock, the user lock, the
	// sequence number) is released when the queue write has finished, even
	// when that is after Submit returned on a timeout: until then a retry
	// must wait for the first write, not race it.
	var after []func()
	handedOff := false
	defer func() {
		if !handedOff {
			for i := len(after) - 1; i >= 0; i-- {
				after[i]()
			}
		}
	}()
	after = append(after, adm.Release)
	// Decoding holds about DecodeCost bytes per body byte: they are counted
	// before they are allocated.
	if err := adm.Grow(DecodeCost * len(req.Body)); err != nil {
		return nil, err
	}
	// Waits for locks end at this deadline: a write stalled on a slow disk
	// holds the locks of its batch until it finishes.
	deadline := time.Now().Add(s.opts.CommitTimeout)

	// The body is hashed (for the replay guard) on another core while this
	// one decodes it: a 2,000-item body takes about 0.8 ms to hash and 2.6
	// to decode. Both finish before anything else happens, so nothing
	// reads the body after Submit returns. The decoding's verdict is given
	// after the user and replay checks, as if it came after them.
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
	batch, decodeErr := codec.DecodeSync(req.Body, s.opts.MaxItems)
	var queued []byte
	if decodeErr == nil {
		// The queue holds the batch as validated, not the JSON: a
		// sixth to a third of the bytes to sync and flush, and the
		// compactor does not parse it again.
		queued = batch.AppendQueued(nil)
	}
	hash := <-hashed

	unlock, err := s.lock(hash, req, deadline)
	if err != nil {
		return nil, err
	}
	after = append(after, unlock)
	unlockUser, err := s.lockUser(req.UserID, deadline)
	if err != nil {
		return nil, err
	}
	after = append(after, unlockUser)
	if err := s.checkGrant(req.UserID, req.Grant); err != nil {
		return nil, err
	}

	now := s.opts.Now()
	// Replay records live under the user: a user that does not exist yet
	// has none, and deleting a user deletes them.
	if iid, known, err := s.lookupUser(req.UserID); err != nil {
		return nil, err
	} else if known {
		if res, err := s.replay(iid, hash, req, now); res != nil || err != nil {
			return res, err
		}
	} else if !s.opts.AutoCreateUsers {
		return nil, refuse(KindUnknownUser, 0, "User with ID: %s not found.", req.UserID)
	}
	if decodeErr != nil {
		return nil, decodeErr
	}

	b := s.store.NewBatchSized(len(queued) + len(req.UserID) + 4096)
	committed := false
	defer func() {
		if !committed {
			b.Close()
		}
	}()
	iid, created, err := s.user(b, req.UserID, now, deadline)
	if err != nil {
		return nil, err
	}
	if created {
		after = append(after, s.usersMu.Unlock)
	}
	id := newBatchID()
	resp, err := codec.Marshal(codec.NewSyncResponse(req.UserID, formatUUID(id), batch))
	if err != nil {
		return nil, err
	}
	seq := s.seq.reserve()
	after = append(after, func() { s.seq.done(seq) })
	if err := b.PutQueue(&pebblestore.QueueEntry{
		Seq: seq, Received: now, BatchID: id, UserIID: iid, UserID: req.UserID,
		Provider: batch.Provider, Body: queued, Size: len(req.Body),
	}); err != nil {
		return nil, err
	}
	rec := &pebblestore.Replay{Stored: now, Seq: seq, Response: resp}
	if err := b.PutDedup(iid, hash, rec); err != nil {
		return nil, err
	}
	if req.IdempotencyKey != "" {
		irec := *rec
		irec.Fingerprint = hash
		if err := b.PutIdempotency(iid, req.Namespace, req.IdempotencyKey, &irec); err != nil {
			return nil, err
		}
	}
	if err := s.touchConnection(b, iid, batch.Provider, now); err != nil {
		return nil, err
	}
	run := &pebblestore.Run{Seq: seq, BatchID: formatUUID(id), UserID: req.UserID, UserIID: iid,
		Provider: batch.Provider, Status: "queued", QueuedAt: now.UTC(), DroppedCount: batch.Dropped,
		Items: batch.Items() + batch.Dropped}
	if err := b.PutRun(run); err != nil {
		return nil, err
	}
	s.disk.since.Add(int64(b.Len()))
	if created {
		// Cache the user before its lock is released, once it is written.
		after = append(after, func() {
			if _, err := s.store.User(req.UserID); err == nil {
				s.users.Store(req.UserID, iid)
			}
		})
	}
	committed, handedOff = true, true
	if err := s.commit(b, after, run, len(req.Body)); err != nil {
		return nil, err
	}
	s.Stats.Batches.Add(1)
	s.Stats.Records.Add(uint64(len(batch.Records)))
	s.Stats.Sleep.Add(uint64(len(batch.Sleep)))
	s.Stats.Workouts.Add(uint64(len(batch.Workouts)))
	s.Stats.Dropped.Add(uint64(batch.Dropped))
	return &Result{BatchID: formatUUID(id), Seq: seq, Response: resp}, nil
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

// lookupUser returns the internal id of an existing user.
func (s *Service) lookupUser(id string) (uint32, bool, error) {
	if v, ok := s.users.Load(id); ok {
		return v.(uint32), true, nil
	}
	u, err := s.store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.users.Store(id, u.IID)
	return u.IID, true, nil
}

// ForgetUser drops a deleted user from the caches.
func (s *Service) ForgetUser(id string, iid uint32) {
	s.users.Delete(id)
	for _, p := range codec.Providers {
		s.conns.Delete(connKey{iid, p})
	}
}

type connKey struct {
	iid      uint32
	provider string
}

// touchConnection records the sync in the user's connection to the
// provider: created by the first sync, made active again after a
// revocation, its last sync time moved. Two concurrent syncs of one user
// may each write it; both write the same status and nearly the same time,
// so no lock is held across the write (that would serialise the fsyncs).
func (s *Service) touchConnection(b *pebblestore.Batch, iid uint32, provider string, now time.Time) error {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	k := connKey{iid, provider}
	var c pebblestore.Connection
	if v, ok := s.conns.Load(k); ok {
		c = v.(pebblestore.Connection)
	} else if stored, err := s.store.Connection(iid, provider); err == nil {
		c = *stored
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return err
	} else {
		c = pebblestore.Connection{Provider: provider, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	}
	if c.Status != "active" {
		c.Status, c.UpdatedAt = "active", now.UTC()
	}
	t := now.UTC()
	c.LastSyncedAt = &t
	if err := b.PutConnection(iid, &c); err != nil {
		return err
	}
	s.conns.Store(k, c)
	return nil
}

// commit writes the batch with Sync and waits at most CommitTimeout. Past
// the deadline the client is told to retry; if the write completes later,
// the retry is answered as a replay of it.
//
// The functions in after run, in reverse, once the write has finished,
// however long it takes: the sequence number stays in flight so that the
// compactor never passes a batch still being written, and the locks stay
// held so that a retry is answered as a replay of it.
//
// The queued run is published once the write is durable, before the
// sequence number is released, so that the compactor's publication of the
// same run always comes after it.
func (s *Service) commit(b *pebblestore.Batch, after []func(), run *pebblestore.Run, body int) error {
	done := make(chan error, 1)
	s.writes.Add(1)
	go func() {
		defer s.writes.Done()
		err := b.Commit()
		if err == nil {
			s.backlog.Add(int64(body)) // as the compactor counts it: body bytes
			s.events.Publish(run)      // sync status stream: the run is queued
		}
		for i := len(after) - 1; i >= 0; i-- {
			after[i]()
		}
		if err == nil {
			select {
			case s.appended <- struct{}{}:
			default:
			}
		}
		done <- err
	}()
	t := time.NewTimer(s.opts.CommitTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ingest: queue write: %w", err)
		}
		return nil
	case <-t.C:
		s.log.Warn().Dur("timeout", s.opts.CommitTimeout).Msg("queue write did not finish in time; client told to retry")
		return refuse(KindOverloaded, s.opts.RetryAfter, "The store is slow to write; retry later.")
	}
}

// Refusal is the answer a batch of n bytes would get from the limits now,
// nil if it would be let in; it takes no place. A client that asks before
// sending its body (Expect: 100-continue) is refused without uploading it.
func (s *Service) Refusal(n int) error {
	if err := s.refusal(); err != nil {
		return err
	}
	if s.concurrent.Load() >= int64(s.opts.MaxConcurrent) {
		return s.tooManyBatches()
	}
	// Admitted, the body would hold itself and its decoding.
	if b := s.inflightBytes.Load(); b > 0 && b+int64(n)*(1+DecodeCost) > s.opts.MaxInflightBytes {
		return s.tooManyBytes()
	}
	return nil
}

// refusal checks the limits that do not depend on the batch.
func (s *Service) refusal() error {
	retry := s.opts.RetryAfter
	if !s.DiskOK() {
		return refuse(KindDiskFull, 0, "Free disk space is below the reserve; the batch was not stored.")
	}
	if s.backlog.Load() > s.opts.MaxBacklogBytes {
		return refuse(KindOverloaded, retry, "The index is catching up; retry later.")
	}
	if s.store.Stalled() {
		return refuse(KindOverloaded, retry, "The store is catching up; retry later.")
	}
	return nil
}

func (s *Service) tooManyBatches() error {
	return refuse(KindOverloaded, s.opts.RetryAfter, "Too many batches in flight; retry later.")
}

func (s *Service) tooManyBytes() error {
	return refuse(KindOverloaded, s.opts.RetryAfter, "Too many bytes in flight; retry later.")
}

// lock takes the stripes of the body hash and of the Idempotency-Key, in
// index order, so that concurrent replays of one batch are written once.
// Past the deadline it gives up with 503.
func (s *Service) lock(hash [16]byte, req *Request, deadline time.Time) (func(), error) {
	a := int(hash[0])
	b := a
	if req.IdempotencyKey != "" {
		k := sha256.Sum256([]byte(req.Namespace + "\x00" + req.IdempotencyKey))
		b = int(k[0])
	}
	if b < a {
		a, b = b, a
	}
	if !lockBy(&s.stripes[a], deadline) {
		return nil, s.slow()
	}
	if b != a && !lockBy(&s.stripes[b], deadline) {
		s.stripes[a].Unlock()
		return nil, s.slow()
	}
	return func() {
		if b != a {
			s.stripes[b].Unlock()
		}
		s.stripes[a].Unlock()
	}, nil
}

// lockBy takes mu, waiting at most until deadline, and reports whether it
// did. A queue write stalled on a slow disk holds its batch's locks until it
// finishes, however long that is; a request waiting for them must still be
// answered in time.
func lockBy(mu *sync.Mutex, deadline time.Time) bool {
	for wait := 50 * time.Microsecond; !mu.TryLock(); wait = min(2*wait, 10*time.Millisecond) {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(wait)
	}
	return true
}

// slow is the refusal of a request that waited past its deadline for an
// earlier write.
func (s *Service) slow() error {
	return refuse(KindOverloaded, s.opts.RetryAfter, "An earlier write is still running on a slow store; retry later.")
}

// user returns the internal id of a user, adding the user to the batch when
// it is new. When created is true the caller holds usersMu until the batch
// is committed, so that a user is created once. Waiting for usersMu ends
// at the deadline with 503.
func (s *Service) user(b *pebblestore.Batch, id string, now, deadline time.Time) (iid uint32, created bool, err error) {
	if v, ok := s.users.Load(id); ok {
		return v.(uint32), false, nil
	}
	u, err := s.store.User(id)
	if err == nil {
		s.users.Store(id, u.IID)
		return u.IID, false, nil
	}
	if !errors.Is(err, pebblestore.ErrNotFound) {
		return 0, false, err
	}
	if !s.opts.AutoCreateUsers {
		return 0, false, refuse(KindUnknownUser, 0, "User with ID: %s not found.", id)
	}
	if !lockBy(&s.usersMu, deadline) {
		return 0, false, s.slow()
	}
	if u, err := s.store.User(id); err == nil {
		s.usersMu.Unlock()
		s.users.Store(id, u.IID)
		return u.IID, false, nil
	}
	nu, err := b.CreateUser(id, now.UTC(), nil)
	if err != nil {
		s.usersMu.Unlock()
		return 0, false, err
	}
	return nu.IID, true, nil
}

func newBatchID() [16]byte {
	var id [16]byte
	_, _ = rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// NewUUID returns a random (version 4) UUID string.
func NewUUID() string { return formatUUID(newBatchID()) }

func formatUUID(id [16]byte) string { return pebblestore.FormatUUID(id[:], true) }
