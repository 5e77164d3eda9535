package ingest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"time"

	"wearhouse/applehealth"
	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// errStopped ends an import when the service stops; the job resumes from
// its checkpoint at the next start.
var errStopped = errors.New("ingest: stopped")

// errErased ends an import whose user was erased: the erasure took its job
// and its queued chunks.
var errErased = errors.New("ingest: the import's user was erased")

// StartImports starts the importer: it resumes the imports a stop or a
// crash interrupted, from their checkpoints, then takes new ones as they
// come, one at a time, oldest first.
func (s *Service) StartImports() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.importLoop()
	}()
}

func (s *Service) importLoop() {
	for {
		job, err := s.nextImport()
		if err != nil {
			s.log.Error().Err(err).Msg("imports: reading the jobs failed")
		}
		if job == nil {
			s.removeOrphanSpools()
			select {
			case <-s.importWake:
				continue
			case <-s.stop:
				return
			case <-time.After(time.Minute): // retry after an error
				continue
			}
		}
		err = s.runImport(job)
		switch {
		case errors.Is(err, errStopped):
			return
		case errors.Is(err, errErased):
			os.Remove(s.spoolPath(job))
		case err != nil:
			// The store failed: the job stays where it was and is tried
			// again later.
			s.log.Error().Err(err).Str("import_id", formatUUID(job.ID)).Msg("import interrupted; it will resume")
			select {
			case <-s.stop:
				return
			case <-time.After(5 * time.Second):
			}
		}
	}
}

// nextImport returns the oldest job still to read, or nil.
func (s *Service) nextImport() (*pebblestore.ImportJob, error) {
	var next *pebblestore.ImportJob
	err := s.store.Imports(func(j *pebblestore.ImportJob) bool {
		if (j.State == importQueued || j.State == importReading) && (next == nil || j.Created.Before(next.Created)) {
			next = j
		}
		return true
	})
	return next, err
}

func (s *Service) spoolPath(j *pebblestore.ImportJob) string {
	return filepath.Join(s.store.Dir(), ImportsDir, filepath.Base(j.File))
}

// removeOrphanSpools removes the spooled files no job still reads: those
// of finished imports whose removal a crash interrupted, of erased users,
// and the partial uploads of a crash.
func (s *Service) removeOrphanSpools() {
	// An upload being received has a file and no job yet: the sweep runs
	// only while none is.
	if !s.spoolMu.TryLock() {
		return
	}
	defer s.spoolMu.Unlock()
	dir := filepath.Join(s.store.Dir(), ImportsDir)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return
	}
	reading := map[string]bool{}
	if err := s.store.Imports(func(j *pebblestore.ImportJob) bool {
		if j.State == importQueued || j.State == importReading {
			reading[filepath.Base(j.File)] = true
		}
		return true
	}); err != nil {
		return
	}
	for _, e := range entries {
		if name := e.Name(); !reading[name] {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// maxChunkJSON bounds the JSON (metadata, laps, routes) of one chunk: the
// workouts of an export come together, after its records, and their routes
// are hundreds of KB each.
const maxChunkJSON = 1 << 20

// importLimits are the bounds of what one export may make the importer
// hold: a route of at most 200,000 points (more than a day at one a
// second), whose JSON is about 25 MB.
var importLimits = applehealth.Limits{MaxRoutePoints: 200_000}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readAhead reads its source on a goroutine of its own, at most
// readAheadBlocks blocks of readAheadSize ahead of its reader.
type readAhead struct {
	full  chan []byte
	free  chan []byte
	done  chan struct{}
	err   error // set before full is closed
	cur   []byte
	spent []byte
}

const (
	readAheadSize   = 256 << 10
	readAheadBlocks = 4
)

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{full: make(chan []byte, readAheadBlocks), free: make(chan []byte, readAheadBlocks),
		done: make(chan struct{})}
	for range readAheadBlocks {
		ra.free <- make([]byte, readAheadSize)
	}
	go func() {
		defer close(ra.full)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			n, err := io.ReadFull(r, buf[:cap(buf)])
			if n > 0 {
				ra.full <- buf[:n]
			}
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			if err != nil {
				ra.err = err
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.spent != nil {
			ra.free <- ra.spent[:cap(ra.spent)]
			ra.spent = nil
		}
		buf, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.spent = buf, buf
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine; the source is closed by its owner
// after.
func (ra *readAhead) Close() error {
	close(ra.done)
	for range ra.full { // let a blocked send finish
	}
	return nil
}

// runImport reads a job's export from its checkpoint to its end, queueing
// its items chunk by chunk. A malformed export ends the job failed, with
// what was queued before the fault kept; errStopped and errErased end it
// early; any other error is the store's, and the job is tried again.
func (s *Service) runImport(job *pebblestore.ImportJob) error {
	f, err := s.store.OpenFile(s.spoolPath(job))
	if err != nil {
		return s.failImport(job, "the spooled upload cannot be read: "+err.Error())
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	exp, err := applehealth.OpenExport(f, st.Size(), importLimits)
	if err != nil {
		return s.failImport(job, trimPrefix(err))
	}
	xr, err := exp.XML()
	if err != nil {
		return s.failImport(job, trimPrefix(err))
	}
	defer xr.Close()
	var src io.Reader = xr
	if exp.Zipped() {
		// Inflating export.xml costs as much as scanning it: it runs on
		// the other core, a few blocks ahead.
		ra := newReadAhead(xr)
		defer ra.Close()
		src = ra
	}
	cr := &countingReader{r: src}
	sc := applehealth.NewScanner(cr)
	if job.Items > 0 {
		s.log.Info().Str("import_id", formatUUID(job.ID)).Int64("items", job.Items).Msg("import resumes from its checkpoint")
	}
	// Skip what the checkpoint says is queued: the scan is deterministic,
	// so the items after it are those not yet queued.
	for n := int64(0); n < job.Items; n++ {
		if n%4096 == 0 && s.stopping() {
			return errStopped
		}
		if _, err := sc.Next(); err != nil {
			return s.failImport(job, "the export changed since its checkpoint: "+trimPrefix(err))
		}
	}
	m := newAppleMapper(exp.Route)
	m.counts = countsOf(&job.Progress)
	var c appleChunk
	items := job.Items
	for {
		it, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// What was queued stays: a later import of a complete export
			// adds the rest, once.
			if qerr := s.queueChunk(job, m, &c, items, cr.n, importFailed, trimPrefix(err)); qerr != nil {
				return qerr
			}
			return nil
		}
		items++
		m.add(it, &c)
		if c.items() >= s.opts.ImportChunkItems || len(c.arena) >= maxChunkJSON {
			if err := s.queueChunk(job, m, &c, items, cr.n, importReading, ""); err != nil {
				return err
			}
			c.reset()
		}
	}
	if err := s.queueChunk(job, m, &c, items, cr.n, importDone, ""); err != nil {
		return err
	}
	f.Close()
	os.Remove(s.spoolPath(job))
	return nil
}

// failImport ends a job that cannot be read with a last, empty chunk that
// carries the failure to its run.
func (s *Service) failImport(job *pebblestore.ImportJob, reason string) error {
	m := newAppleMapper(nil)
	m.counts = countsOf(&job.Progress)
	return s.queueChunk(job, m, &appleChunk{}, job.Items, job.Progress.BytesRead, importFailed, reason)
}

func countsOf(p *pebblestore.ImportProgress) mapCounts {
	c := mapCounts{Records: p.Records, Sleep: p.Sleep, Workouts: p.Workouts, Routes: p.Routes, Summaries: p.Summaries,
		Unmapped: p.Unconverted, Dropped: maps.Clone(p.Dropped)}
	if c.Dropped == nil {
		c.Dropped = map[string]int64{}
	}
	return c
}

func (s *Service) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// queueChunk validates a chunk as a sync body's items are validated and
// queues it with the job's new checkpoint in one synced write. It first
// yields to syncs: it waits while the index backlog is over a quarter of
// its bound, or the disk under its reserve, so that an import never takes
// the room syncs need. state is the job's state after the write (reading,
// done or failed, with reason).
func (s *Service) queueChunk(job *pebblestore.ImportJob, m *appleMapper, c *appleChunk, items, bytesRead int64, state, reason string) error {
	batch, err := codec.NewBatch("apple", c.records, c.sleep, c.workouts)
	if err != nil {
		return err
	}
	for _, e := range batch.Errors {
		m.counts.Dropped["invalid: "+e.Detail]++
	}
	if extra := batch.Dropped - len(batch.Errors); extra > 0 {
		m.counts.Dropped["invalid: other reasons"] += int64(extra)
	}
	m.counts.Records -= int64(len(c.records) - len(batch.Records))
	m.counts.Sleep -= int64(len(c.sleep) - len(batch.Sleep))
	m.counts.Workouts -= int64(len(c.workouts) - len(batch.Workouts))
	if err := s.yieldToSyncs(); err != nil {
		return err
	}
	m.queued = batch.AppendQueued(m.queued[:0])
	queued := m.queued
	// The backlog and the compactor's rounds count a chunk by what it
	// holds: its XML, or its queued form when that is larger (routes).
	size := max(bytesRead-job.Progress.BytesRead, int64(len(queued)))
	next := *job
	next.State, next.Error, next.Items = state, reason, items
	next.Progress = m.progress(job.Progress.BytesTotal, bytesRead)
	if err := s.writeChunk(&next, batch.Provider, queued, int(max(size, 0))); err != nil {
		return err
	}
	*job = next
	if s.importHook != nil {
		return s.importHook()
	}
	return nil
}

// yieldToSyncs waits until the backlog is under a quarter of its bound and
// the disk above its reserve.
func (s *Service) yieldToSyncs() error {
	for wait := time.Millisecond; s.backlog.Load() > s.opts.MaxBacklogBytes/4 || !s.DiskOK(); wait = min(2*wait, 100*time.Millisecond) {
		select {
		case <-s.stop:
			return errStopped
		case <-time.After(wait):
		}
	}
	return nil
}

// writeChunk writes a chunk's queue entry and the job in one synced write,
// under the user's lock. It waits for the disk however long it takes: no
// client waits on it, and the next chunk must come after it.
func (s *Service) writeChunk(job *pebblestore.ImportJob, provider string, queued []byte, size int) error {
	var unlock func()
	for {
		var err error
		if unlock, err = s.lockUser(job.UserID, time.Now().Add(s.opts.CommitTimeout)); err == nil {
			break
		}
		if s.stopping() {
			return errStopped
		}
	}
	defer unlock()
	if iid, known, err := s.lookupUser(job.UserID); err != nil {
		return err
	} else if !known || iid != job.UserIID {
		return errErased
	}
	if _, err := s.store.Import(job.UserIID, job.ID); errors.Is(err, pebblestore.ErrNotFound) {
		return errErased
	} else if err != nil {
		return err
	}
	b := s.store.NewBatchSized(len(queued) + 4096)
	seq := s.seq.reserve()
	defer s.seq.done(seq)
	if job.State == importDone || job.State == importFailed {
		job.LastSeq = seq
	}
	err := b.PutQueue(&pebblestore.QueueEntry{Seq: seq, Received: s.opts.Now(), BatchID: job.ID, UserIID: job.UserIID,
		UserID: job.UserID, Provider: provider, Body: queued, Size: size, Import: true})
	if err == nil {
		err = b.PutImport(job)
	}
	if err != nil {
		b.Close()
		return err
	}
	s.disk.since.Add(int64(b.Len()))
	if err := b.Commit(); err != nil {
		return fmt.Errorf("ingest: import chunk write: %w", err)
	}
	s.backlog.Add(int64(size))
	select {
	case s.appended <- struct{}{}:
	default:
	}
	return nil
}

// progress is the job's progress with the mapper's counts.
func (m *appleMapper) progress(total, read int64) pebblestore.ImportProgress {
	p := pebblestore.ImportProgress{BytesTotal: total, BytesRead: read, Records: m.counts.Records, Sleep: m.counts.Sleep,
		Workouts: m.counts.Workouts, Routes: m.counts.Routes, Summaries: m.counts.Summaries, Unconverted: m.counts.Unmapped}
	if len(m.counts.Dropped) > 0 {
		p.Dropped = maps.Clone(m.counts.Dropped)
	}
	return p
}
