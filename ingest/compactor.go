package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// CompactorOptions configure the compactor.
type CompactorOptions struct {
	// MaxBatches and MaxBytes bound the queue entries indexed in one atomic
	// write.
	MaxBatches int
	MaxBytes   int
	// Idle is how long the compactor sleeps when the queue is empty and no
	// new batch wakes it.
	Idle time.Duration
	// MaxBackoff bounds the wait between retries after a failed round (a
	// store error): the wait starts at Idle and doubles up to it. Default
	// 30 s.
	MaxBackoff time.Duration
	// Paused keeps the compactor from starting (Start does nothing): the
	// queue then only grows. Tests use it to look at queued batches (and
	// Resume to go on); an operator uses it, through --pause-compactor,
	// to take load off a struggling disk, and restarts without it.
	Paused bool
	Logger zerolog.Logger
	Now    func() time.Time
}

// EnsureDefaults fills in zero fields.
func (o *CompactorOptions) EnsureDefaults() {
	if o.MaxBatches == 0 {
		o.MaxBatches = 16
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 8 << 20
	}
	if o.Idle == 0 {
		o.Idle = 100 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Compactor drains the queue in order: for each batch it writes the index
// entries, its own position and the deletion of the queue entry in one
// atomic Pebble write. Any entry still in the queue is therefore not yet
// indexed, and a crash at any point neither loses nor double-counts.
//
// No batch can stop it for everybody. A batch that cannot be indexed for
// a reason of its own (it no longer decodes, indexing it fails or
// panics) is set aside: its queue entry is moved, byte for byte, to the
// store's set-aside keyspace, and its run marked failed with the reason,
// in the same atomic write that advances the position; the next batch
// follows. An item that would pass a dictionary limit of its user is not
// indexed and is counted in its run, with the reason. A store error fails
// the round: it is retried, with a backoff, and nothing is lost meanwhile.
type Compactor struct {
	store *pebblestore.Store
	in    writePath
	opts  CompactorOptions
	log   zerolog.Logger

	pos       atomic.Uint64 // last indexed sequence number
	scanFrom  uint64        // where the next round reads the queue from (the loop goroutine only)
	lastSweep time.Time     // the loop goroutine only
	oldest    atomic.Int64  // receive time (Unix ns) of the oldest unindexed batch, 0 when none
	running   atomic.Bool
	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
	mu        sync.Mutex
	cond      *sync.Cond
	retrying  atomic.Bool // the last round failed with a store error
	// faults are the batches to set aside when the round that reached them
	// runs again, with the reason (the loop goroutine only).
	faults map[uint64]string
	// faultHook, when set, is called before a round commits; tests use it
	// to fail a round as a store error would. indexHook, when set, is
	// called as each batch's indexing starts; tests use it to panic.
	faultHook func() error
	indexHook func(*pebblestore.QueueEntry)

	Indexed struct {
		Batches  atomic.Uint64
		Records  atomic.Uint64
		Unmapped atomic.Uint64
		Failed   atomic.Uint64
		Rejected atomic.Uint64 // items not indexed: past a dictionary limit of their user
		SetAside atomic.Uint64 // batches set aside since the start
	}
}

// writePath is what the compactor needs of the write path (the Service),
// and all it sees of it. The two share the store and nothing else: the
// write path appends to the queue, and the compactor drains it.
type writePath interface {
	// Watermark is the highest sequence number below which no queue write
	// is in flight: the compactor reads the queue up to it.
	Watermark() uint64
	// Indexed tells the write path that queued batches of these many body
	// bytes were indexed, or left the queue with their erased user: they
	// leave the backlog that admission bounds.
	Indexed(bytes int64)
	// appends receives, without blocking the writer, after queue writes:
	// it wakes an idle compactor.
	appends() <-chan struct{}
	// publish sends a run's new state to the sync status stream, once the
	// state is durable.
	publish(run *pebblestore.Run)
	// replayWindow is how long replay records answer a re-sent batch; the
	// compactor's sweep deletes them after it.
	replayWindow() time.Duration
}

// NewCompactor prepares the compactor; Start runs it.
func NewCompactor(store *pebblestore.Store, in *Service, o CompactorOptions) (*Compactor, error) {
	o.EnsureDefaults()
	pos, err := store.CompactorPos()
	if err != nil {
		return nil, err
	}
	c := &Compactor{store: store, in: in, opts: o, log: o.Logger, stop: make(chan struct{}), done: make(chan struct{}),
		faults: map[uint64]string{}}
	c.cond = sync.NewCond(&c.mu)
	c.pos.Store(pos)
	return c, nil
}

// Start runs the compactor in the background, unless it is paused.
func (c *Compactor) Start() {
	if !c.opts.Paused {
		c.Resume()
	}
}

// Resume starts a paused compactor; it does nothing on a running one.
func (c *Compactor) Resume() {
	c.startOnce.Do(func() {
		c.running.Store(true)
		go c.loop()
	})
}

// Stop stops the compactor at a batch boundary and waits for it. Stopping
// twice is allowed.
func (c *Compactor) Stop() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.startOnce.Do(func() { close(c.done) }) // never started
	<-c.done
}

// Running reports whether the compactor loop is alive.
func (c *Compactor) Running() bool { return c.running.Load() }

// Retrying reports whether the last round failed with a store error: the
// compactor then retries with a backoff.
func (c *Compactor) Retrying() bool { return c.retrying.Load() }

// SetAside is the number of batches in the store's set-aside keyspace:
// batches that could not be indexed, kept for inspection.
func (c *Compactor) SetAside() (int, error) { return c.store.SetAsideCount() }

// Lag is how far the compactor is behind: unindexed batches below the
// watermark, and the age of the oldest of them.
func (c *Compactor) Lag() (batches uint64, behind time.Duration) {
	w, p := c.in.Watermark(), c.pos.Load()
	if w > p {
		batches = w - p
	}
	if o := c.oldest.Load(); o != 0 {
		behind = c.opts.Now().Sub(time.Unix(0, o))
	}
	return batches, behind
}

// WaitIndexed blocks until every batch up to seq is indexed or ctx ends.
func (c *Compactor) WaitIndexed(ctx context.Context, seq uint64) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.pos.Load() < seq {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.cond.Wait()
	}
	return nil
}

func (c *Compactor) loop() {
	defer close(c.done)
	defer c.running.Store(false)
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0
	for {
		// While retrying, new batches do not wake the loop: the backoff
		// holds whatever the rate of appends.
		appended := c.in.appends()
		if failures > 0 {
			appended = nil
		}
		select {
		case <-c.stop:
			return
		case <-appended:
		case <-t.C:
		}
		for {
			n, err := c.round()
			if err != nil {
				// The store is failing: nothing is lost (the queue keeps
				// every batch), and the next attempt waits longer, up to
				// MaxBackoff. The log is throttled to the 1st, 2nd, 4th,
				// 8th... failure in a row.
				failures++
				c.retrying.Store(true)
				if failures&(failures-1) == 0 {
					c.log.Error().Err(err).Int("failures", failures).Dur("retry_in", c.backoff(failures)).
						Msg("compactor round failed; retrying")
				}
				break
			}
			if failures > 0 {
				c.log.Info().Int("failures", failures).Msg("compactor round succeeded again")
				failures = 0
				c.retrying.Store(false)
			}
			if n == 0 {
				break
			}
			select {
			case <-c.stop:
				return
			default:
			}
		}
		if failures > 0 {
			t.Reset(c.backoff(failures))
			continue
		}
		c.sweep()
		t.Reset(c.opts.Idle)
	}
}

// backoff is the wait before the next attempt after failures failed
// rounds in a row: Idle doubled each time, up to MaxBackoff.
func (c *Compactor) backoff(failures int) time.Duration {
	d := c.opts.Idle
	for i := 1; i < failures && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.opts.MaxBackoff)
}

// round indexes up to MaxBatches queue entries below the watermark in one
// atomic write and returns how many it indexed.
func (c *Compactor) round() (int, error) {
	w := c.in.Watermark()
	var entries []*pebblestore.QueueEntry
	size := 0
	c.oldest.Store(0)
	// Every entry in the queue is unindexed: indexing deletes it in the same
	// write. Every sequence number up to the watermark is written or
	// abandoned, so after a round nothing can appear below the last entry
	// it took: the next round starts after it, instead of stepping over the
	// tombstones of every entry indexed since the last compaction. The
	// first round after a start scans from the beginning.
	err := c.store.ScanQueue(c.scanFrom, func(e *pebblestore.QueueEntry) (bool, error) {
		if e.Seq > w {
			return false, nil
		}
		if len(entries) == 0 {
			c.oldest.Store(e.Received.UnixNano())
		}
		entries = append(entries, e)
		size += e.Size
		return len(entries) < c.opts.MaxBatches && size < c.opts.MaxBytes, nil
	})
	if err != nil || len(entries) == 0 {
		if err == nil {
			err = c.passGap(w)
		}
		return 0, err
	}
	for {
		n, fault, err := c.indexRound(entries, size)
		if fault == nil {
			return n, err
		}
		// Nothing of the round was written: run it again, with the batch
		// at fault set aside. Each pass sets one more batch aside, so this
		// ends.
		c.faults[fault.seq] = fault.reason
	}
}

// batchFault is a batch that cannot be indexed for a reason of its own.
type batchFault struct {
	seq    uint64
	reason string
}

func (f *batchFault) Error() string { return f.reason }

// indexRound indexes the round's entries in one atomic write. A batch at
// fault stops it before anything is written, and is returned.
func (c *Compactor) indexRound(entries []*pebblestore.QueueEntry, size int) (int, *batchFault, error) {
	ib := c.store.NewIndexBatch()
	committed := false
	defer func() {
		if !committed {
			ib.Close()
		}
	}()
	maxSeq := c.pos.Load()
	var records, unmapped, failed, rejected, setAside uint64
	runs := make([]*pebblestore.Run, 0, len(entries)) // published after the commit
	// Bodies are decoded a few at a time, as many as there are cores, and
	// each decoded batch is dropped once indexed: a round never holds more
	// than that many decoded bodies.
	var decoded []decodedEntry
	imports := &importRuns{byRun: map[uint64]*pebblestore.Run{}}
	chunk := runtime.GOMAXPROCS(0)
	for i, e := range entries {
		if i%chunk == 0 {
			decoded = decodeAll(entries[i:min(i+chunk, len(entries))])
		}
		d := &decoded[i%chunk]
		if _, err := c.store.UserByIID(e.UserIID); errors.Is(err, pebblestore.ErrNotFound) {
			// The user was erased after this round read the queue:
			// nothing of it may be indexed, and the erasure took it out
			// of the queue and of the backlog. The check comes after
			// NewIndexBatch, which an erasure waits for.
			size -= e.Size
			if err := ib.DeleteQueue(e.Seq); err != nil {
				return 0, nil, err
			}
			maxSeq = max(maxSeq, e.Seq)
			continue
		} else if err != nil {
			return 0, nil, err
		}
		if e.Import {
			// A chunk of an import: its counts go to the import's run.
			fault, err := c.indexChunk(ib, e, d, imports)
			if fault != nil || err != nil {
				return 0, fault, err
			}
			d.batch = nil
			if err := ib.DeleteQueue(e.Seq); err != nil {
				return 0, nil, err
			}
			maxSeq = max(maxSeq, e.Seq)
			continue
		}
		run, err := c.newRun(e)
		if err != nil {
			return 0, nil, err
		}
		reason, faulty := c.faults[e.Seq]
		if !faulty && d.err != nil {
			// Only a bug can cause it: the body was validated before the
			// 202.
			reason, faulty = "the batch could not be decoded again: "+d.err.Error(), true
		}
		if faulty {
			if err := c.setAside(ib, e, run, reason); err != nil {
				return 0, nil, err
			}
			setAside++
		} else {
			err := c.indexBatch(ib, e, run, d.batch)
			var fault *batchFault
			if errors.As(err, &fault) {
				return 0, fault, nil
			}
			if err != nil {
				return 0, nil, err
			}
		}
		d.batch = nil
		runs = append(runs, run)
		if run.Status == "failed" {
			failed++
		}
		records += uint64(run.RecordsSaved)
		unmapped += uint64(run.UnmappedCount)
		rejected += uint64(run.RejectedCount)
		if err := ib.PutRun(run); err != nil {
			return 0, nil, err
		}
		if err := ib.DeleteQueue(e.Seq); err != nil {
			return 0, nil, err
		}
		maxSeq = max(maxSeq, e.Seq)
	}
	if len(imports.order) > 0 {
		// The imports' duplicate points are known once the points are
		// merged into their blocks; their runs are written after.
		dups, err := ib.Merge()
		if err != nil {
			return 0, nil, err
		}
		n, err := imports.put(ib, dups)
		if err != nil {
			return 0, nil, err
		}
		records += n
		runs = append(runs, imports.order...)
	}
	if err := ib.SetPosition(maxSeq); err != nil {
		return 0, nil, err
	}
	if c.faultHook != nil {
		if err := c.faultHook(); err != nil {
			return 0, nil, err
		}
	}
	committed = true
	if err := ib.Commit(); err != nil {
		return 0, nil, err
	}
	for _, e := range entries {
		delete(c.faults, e.Seq)
	}
	c.scanFrom = entries[len(entries)-1].Seq + 1
	c.in.Indexed(int64(size))
	c.Indexed.Batches.Add(uint64(len(entries)))
	c.Indexed.Records.Add(records)
	c.Indexed.Unmapped.Add(unmapped)
	c.Indexed.Failed.Add(failed)
	c.Indexed.Rejected.Add(rejected)
	c.Indexed.SetAside.Add(setAside)
	for _, run := range runs {
		c.in.publish(run) // sync status stream: the run is completed or failed
	}
	// A round that succeeded ends a retry before anyone waiting for the
	// position sees it move (the loop resets its count of failures after).
	c.retrying.Store(false)
	c.mu.Lock()
	c.pos.Store(maxSeq)
	c.cond.Broadcast()
	c.mu.Unlock()
	return len(entries), nil, nil
}

// newRun returns the run of a queue entry, as the write path stored it,
// started now.
func (c *Compactor) newRun(e *pebblestore.QueueEntry) (*pebblestore.Run, error) {
	run, err := c.store.RunBySeq(e.Seq)
	if errors.Is(err, pebblestore.ErrNotFound) {
		run = &pebblestore.Run{Seq: e.Seq, BatchID: formatUUID(e.BatchID), UserID: e.UserID, UserIID: e.UserIID,
			Provider: e.Provider, QueuedAt: e.Received}
	} else if err != nil {
		return nil, err
	}
	now := c.opts.Now().UTC()
	run.StartedAt = &now
	return run, nil
}

// setAside moves a batch that cannot be indexed out of the queue into the
// set-aside keyspace, byte for byte, and marks its run failed with the
// reason. Nothing of it is indexed.
func (c *Compactor) setAside(ib *pebblestore.IndexBatch, e *pebblestore.QueueEntry, run *pebblestore.Run, reason string) error {
	run.Status = "failed"
	run.Message = "The batch could not be indexed and was set aside: " + reason
	run.RecordsSaved, run.WorkoutsSaved, run.SleepSaved, run.UnmappedCount, run.RejectedCount = 0, 0, 0, 0, 0
	run.CompletedAt = run.StartedAt
	c.log.Error().Uint64("seq", e.Seq).Str("reason", reason).Msg("batch set aside: it cannot be indexed")
	return ib.PutDeadLetter(e)
}

// indexBatch indexes one batch, recovering from a panic: whatever goes
// wrong in indexing one batch is a *batchFault, that batch's alone.
func (c *Compactor) indexBatch(ib *pebblestore.IndexBatch, e *pebblestore.QueueEntry, run *pebblestore.Run, batch *codec.Batch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error().Uint64("seq", e.Seq).Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).
				Msg("indexing a batch panicked")
			err = &batchFault{seq: e.Seq, reason: fmt.Sprintf("indexing it failed (%v)", p)}
		}
	}()
	err = c.index(ib, e, run, batch)
	var fault *batchFault
	if errors.As(err, &fault) {
		fault.seq = e.Seq
	}
	return err
}

// passGap moves the position up to the watermark when no queue entry is
// left up to it: the sequence numbers in between left the queue unindexed,
// erased with their user (or were given up by a failed write), and whoever
// waits for them to be indexed must not wait for ever.
func (c *Compactor) passGap(w uint64) error {
	if c.pos.Load() >= w {
		return nil
	}
	if err := c.store.SetCompactorPos(w); err != nil {
		return err
	}
	c.mu.Lock()
	c.pos.Store(w)
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

// RunRetention is how long finished sync runs are kept, and listed by the
// sync-status routes.
const RunRetention = 30 * 24 * time.Hour

// sweep deletes, at most once an hour, what has outlived its use: replay
// guards and Idempotency-Keys past the replay window, and sync runs
// finished more than RunRetention ago. It runs between rounds, when the
// queue is drained, so it never delays indexing.
func (c *Compactor) sweep() {
	now := c.opts.Now()
	if now.Sub(c.lastSweep) < time.Hour {
		return
	}
	c.lastSweep = now
	replays, err := c.store.SweepReplays(now.Add(-c.in.replayWindow()))
	if err != nil {
		c.log.Warn().Err(err).Msg("sweeping replay records failed")
		return
	}
	runs, err := c.store.SweepRuns(now.Add(-RunRetention))
	if err != nil {
		c.log.Warn().Err(err).Msg("sweeping old sync runs failed")
		return
	}
	if replays+runs > 0 {
		c.log.Info().Int("replay_records", replays).Int("runs", runs).Msg("swept expired records")
	}
}

type decodedEntry struct {
	batch *codec.Batch
	err   error
}

// decodeAll decodes a round's bodies on every core: the queued form is
// quick to read, but the JSON bodies queued by earlier releases are most
// of the compactor's work, and while the write path keeps the cores busy a
// single goroutine would get too small a share of them to keep up. The
// index itself is then written in queue order by the caller.
func decodeAll(entries []*pebblestore.QueueEntry) []decodedEntry {
	out := make([]decodedEntry, len(entries))
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(entries); i = int(next.Add(1) - 1) {
				e := entries[i]
				var b *codec.Batch
				var err error
				if e.JSON {
					b, err = codec.DecodeSync(e.Body, 1<<30)
				} else {
					b, err = codec.DecodeQueued(e.Body)
				}
				out[i] = decodedEntry{b, err}
			}
		}()
	}
	wg.Wait()
	return out
}
