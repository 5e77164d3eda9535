package pebblestore

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Run is the sync status of one batch: queued when it is acknowledged,
// then completed or failed when the compactor has indexed it.
type Run struct {
	Seq           uint64     `json:"seq"`
	BatchID       string     `json:"batch_id"`
	UserID        string     `json:"user_id"`
	UserIID       uint32     `json:"user_iid"`
	Provider      string     `json:"provider"`
	Status        string     `json:"status"`            // queued, completed or failed
	Message       string     `json:"message,omitempty"` // why it failed, or why items were not indexed
	QueuedAt      time.Time  `json:"queued_at"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	RecordsSaved  int        `json:"records_saved"`
	WorkoutsSaved int        `json:"workouts_saved"`
	SleepSaved    int        `json:"sleep_saved"`
	DroppedCount  int        `json:"dropped_count"`
	UnmappedCount int        `json:"unmapped_count"`
	// RejectedCount is the items that passed validation but were not
	// indexed, because they would have passed a dictionary limit of their
	// user; Message then says which.
	RejectedCount int `json:"rejected_count,omitempty"`
	Items         int `json:"items"`
	// Source is "import" for the run of an import (ImportJob), empty for
	// an SDK batch's.
	Source string `json:"source,omitempty"`
	// Import is an import's progress and what it has not stored; its saved
	// counts are the fields above.
	Import *ImportResult `json:"import,omitempty"`
}

// ImportResult is what an import's run adds to a batch's: the progress of
// reading the export, as of the last chunk indexed, and the samples that
// were already stored.
type ImportResult struct {
	ImportProgress
	// Duplicates are the samples already stored (by a sync, or an earlier
	// import of the same samples) and not stored again.
	Duplicates int64 `json:"duplicates"`
}

type setter interface {
	Set(k, v []byte, o *pebble.WriteOptions) error
}

func putRun(b setter, r *Run) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := b.Set(key(prefixRun, be64(r.Seq)), v, nil); err != nil {
		return err
	}
	return b.Set(key(prefixUserRun, be32(r.UserIID), be64(r.Seq)), nil, nil)
}

// PutRun adds a run to a queue batch.
func (b *Batch) PutRun(r *Run) error { return putRun(b.b, r) }

// RunBySeq returns the run of a queue sequence number.
func (s *Store) RunBySeq(seq uint64) (*Run, error) {
	v, err := s.get(key(prefixRun, be64(seq)))
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// UserRuns calls fn for a user's runs, newest first, until fn returns
// false. fn may keep the runs.
func (s *Store) UserRuns(user uint32, fn func(*Run) bool) error {
	lo := key(prefixUserRun, be32(user))
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: key(prefixUserRun, be32(user+1))})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Last(); it.Valid(); it.Prev() {
		r, err := s.RunBySeq(binary.BigEndian.Uint64(it.Key()[5:]))
		if err == ErrNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if !fn(r) {
			break
		}
	}
	return it.Error()
}

// Runs calls fn for all runs, newest first, until fn returns false. fn may
// keep the runs.
func (s *Store) Runs(fn func(*Run) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixRun}, UpperBound: []byte{prefixRun + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Last(); it.Valid(); it.Prev() {
		var r Run
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if !fn(&r) {
			break
		}
	}
	return it.Error()
}
