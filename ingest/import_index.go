package ingest

import (
	"errors"
	"fmt"
	"runtime/debug"

	"wearhouse/pebblestore"
)

// importRuns are the runs of the imports whose chunks a round indexes, in
// the order the round first met them, with the records each had saved
// before the round.
type importRuns struct {
	byRun map[uint64]*pebblestore.Run // by the sequence number the run was read under
	order []*pebblestore.Run
	saved map[uint64]int
	// ids and last are each run's import and the last of its chunks the
	// round indexed, where the run is moved (MoveImportRun).
	ids  map[uint64][16]byte
	last map[uint64]uint64
}

// run returns the run of an import, read once per round.
func (c *Compactor) importRun(job *pebblestore.ImportJob, r *importRuns) (*pebblestore.Run, error) {
	seq, err := c.store.ImportRunSeq(job.UserIID, job.ID)
	if errors.Is(err, pebblestore.ErrNotFound) {
		seq = job.RunSeq
	} else if err != nil {
		return nil, err
	}
	if run, ok := r.byRun[seq]; ok {
		return run, nil
	}
	run, err := c.store.RunBySeq(seq)
	if errors.Is(err, pebblestore.ErrNotFound) {
		// Swept after its retention while the import went on: made again.
		run = &pebblestore.Run{Seq: seq, BatchID: formatUUID(job.ID), UserID: job.UserID, UserIID: job.UserIID,
			Provider: "apple", Status: "queued", QueuedAt: job.Created, Source: SourceImport}
	} else if err != nil {
		return nil, err
	}
	if run.Import == nil {
		run.Import = &pebblestore.ImportResult{}
	}
	if r.saved == nil {
		r.saved, r.ids, r.last = map[uint64]int{}, map[uint64][16]byte{}, map[uint64]uint64{}
	}
	r.saved[seq] = run.RecordsSaved
	r.ids[seq] = job.ID
	r.byRun[seq] = run
	r.order = append(r.order, run)
	return run, nil
}

// indexChunk indexes a chunk of an import into its import's run. The run
// is running until its last chunk (the job's LastSeq), which completes it,
// or fails it with the job's error; the counts of what was read come from
// the job, those of what was stored from the compactor.
func (c *Compactor) indexChunk(ib *pebblestore.IndexBatch, e *pebblestore.QueueEntry, d *decodedEntry, r *importRuns) (*batchFault, error) {
	job, err := c.store.Import(e.UserIID, e.BatchID)
	if errors.Is(err, pebblestore.ErrNotFound) {
		// The job went with its user's erasure after this round checked
		// the user: nothing of it is indexed.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	run, err := c.importRun(job, r)
	if err != nil {
		return nil, err
	}
	r.last[run.Seq] = e.Seq
	now := c.opts.Now().UTC()
	if run.StartedAt == nil {
		run.StartedAt = &now
	}
	if run.Status == "queued" {
		run.Status = "running"
	}
	reason, faulty := c.faults[e.Seq]
	if !faulty && d.err != nil {
		reason, faulty = "the chunk could not be decoded again: "+d.err.Error(), true
	}
	if faulty {
		// The chunk is kept aside, byte for byte, and the import goes on.
		c.log.Error().Uint64("seq", e.Seq).Str("reason", reason).Msg("import chunk set aside: it cannot be indexed")
		if d.batch != nil {
			run.RejectedCount += d.batch.Items()
		}
		run.Message = "Part of the import could not be indexed and was set aside: " + reason
		if err := ib.PutDeadLetter(e); err != nil {
			return nil, err
		}
	} else {
		part := &pebblestore.Run{Seq: run.Seq, Import: &pebblestore.ImportResult{}}
		if fault, err := c.indexPart(ib, e, part, d); fault != nil || err != nil {
			return fault, err
		}
		run.RecordsSaved += part.RecordsSaved
		run.WorkoutsSaved += part.WorkoutsSaved
		run.SleepSaved += part.SleepSaved
		run.UnmappedCount += part.UnmappedCount
		run.RejectedCount += part.RejectedCount
		run.Import.Duplicates += part.Import.Duplicates
		if part.RejectedCount > 0 {
			run.Message = part.Message
		}
	}
	run.Import.ImportProgress = job.Progress
	run.DroppedCount = droppedItems(job.Progress.Dropped)
	run.Items = int(job.Progress.Records+job.Progress.Sleep+job.Progress.Workouts) + run.DroppedCount
	if e.Seq == job.LastSeq {
		run.CompletedAt = &now
		run.Status = "completed"
		if job.State == importFailed {
			run.Status = "failed"
			run.Message = "The import stopped: " + job.Error
		}
	}
	return nil, nil
}

// indexPart indexes a chunk's items, recovering from a panic as
// indexBatch does.
func (c *Compactor) indexPart(ib *pebblestore.IndexBatch, e *pebblestore.QueueEntry, part *pebblestore.Run, d *decodedEntry) (fault *batchFault, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error().Uint64("seq", e.Seq).Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).
				Msg("indexing an import chunk panicked")
			fault, err = &batchFault{seq: e.Seq, reason: fmt.Sprintf("indexing it failed (%v)", p)}, nil
		}
	}()
	err = c.index(ib, e, part, d.batch)
	if errors.As(err, &fault) {
		fault.seq = e.Seq
		return fault, nil
	}
	return nil, err
}

// put writes the round's import runs, each moved to its last chunk, with
// the duplicates the merge of the points found (by the sequence number the
// run was read under), and returns the records they saved in the round.
func (r *importRuns) put(ib *pebblestore.IndexBatch, dups map[uint64]int64) (records uint64, err error) {
	for _, run := range r.order {
		seq := run.Seq
		n := dups[seq]
		run.RecordsSaved -= int(n)
		run.Import.Duplicates += n
		records += uint64(run.RecordsSaved - r.saved[seq])
		if err := ib.MoveImportRun(run, r.ids[seq], r.last[seq]); err != nil {
			return 0, err
		}
	}
	return records, nil
}
