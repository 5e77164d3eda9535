// Package ingest is wearhouse's write path: admission (limits,
// backpressure, the index backlog, disk reserve and ballast), byte-identical
// replays and Idempotency-Keys, and the append of each accepted batch, in
// the codec's validated queued form, to the write-ahead queue with one
// synced Pebble write. A batch is acknowledged only after that write
// returned nil. Submit (submit.go) reads as its list of steps; SDK
// telemetry (sdklogs.go) is written under the same rules, through the same
// write (commit.go): what a request holds is released once its synced
// write has finished.
//
// The Compactor drains the queue into the indexes (index.go), one atomic
// write per round, and sweeps expired replay records and runs; it sees the
// Service only through the small writePath interface. Run changes are
// published to the sync status stream (events.go). The writes of the user
// routes (a user created, a profile changed, a connection revoked, a
// workout or sleep session deleted, a user made sure of before an
// invitation code is written for it) go through the same per-user locks
// and deadline as a sync, and DeleteUser erases a user in one order with
// the user's writes and the compactor (users.go, profiles.go, deletes.go,
// ensure.go). Backups are admitted one at a time, their checkpoint counted
// against the disk reserve (backup.go).
//
// Imports of a user's history (the Health app's export) are spooled to the
// data directory and fsynced before they are accepted (import.go), then
// read in the background, mapped to the items the iOS SDK would have sent
// (applemap.go) and queued in chunks, each with the import's checkpoint in
// the same synced write (import_run.go); the compactor indexes them as
// syncs, except that an imported sample never replaces a stored one and
// counts as a duplicate in the import's run (import_index.go).
package ingest

import (
	"crypto/rand"
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
	// MaxImportBytes bounds an upload to the import routes (SpoolImport).
	MaxImportBytes int64
	// ImportChunkItems is about how many of an export's items the importer
	// queues in one chunk.
	ImportChunkItems int
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
	if o.MaxImportBytes == 0 {
		o.MaxImportBytes = 8 << 30
	}
	if o.ImportChunkItems == 0 {
		o.ImportChunkItems = 2048
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
	backingUp     atomic.Bool      // a backup's checkpoint is held (backup.go)
	appended      chan struct{}    // wakes the compactor
	stripes       [256]sync.Mutex  // serialise replays of one body or key
	usersMu       sync.Mutex       // serialise user creation
	userLocks     [64]sync.RWMutex // order a user's writes with its erasure (users.go)
	users         sync.Map         // user id -> internal id
	connMu        sync.Mutex       // guards reading and updating conns
	conns         sync.Map         // connKey -> pebblestore.Connection
	events        Broadcaster      // run changes, for the sync status stream
	spooling      chan struct{}    // the uploads being spooled (import.go)
	spoolMu       sync.RWMutex     // held by each upload until its job is written; the orphan sweep takes it whole
	importWake    chan struct{}    // wakes the importer
	importHook    func() error     // tests: runs after each chunk is written

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
		stop: make(chan struct{}), appended: make(chan struct{}, 1),
		spooling: make(chan struct{}, maxSpooling), importWake: make(chan struct{}, 1)}
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

// The Service is the compactor's write path: Watermark and Indexed above,
// and the three below, are all that the compactor sees of it.
var _ writePath = (*Service)(nil)

func (s *Service) appends() <-chan struct{} { return s.appended }

func (s *Service) publish(run *pebblestore.Run) { s.events.Publish(run) }

func (s *Service) replayWindow() time.Duration { return s.opts.DedupWindow }

// DiskFree is the free space of the data directory's volume as admission
// sees it.
func (s *Service) DiskFree() uint64 { return s.disk.available() }

// Disk is the data directory's volume as the console shows it: free space
// as admission sees it, the volume's size and the reserve.
func (s *Service) Disk() (free, total, reserve uint64) {
	return s.disk.available(), s.disk.total.Load(), s.opts.DiskReserve
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
