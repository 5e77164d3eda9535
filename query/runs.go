package query

import (
	"container/heap"
	"sort"
	"time"

	"wearhouse/pebblestore"
)

// Run is the sync status of one batch as the store keeps it: queued when
// it is acknowledged, then completed or failed once the compactor has
// indexed it. The events and summaries the sync status routes answer are
// derived from it by the caller (codec.SyncEvents, codec.SyncSummary).
type Run struct {
	Seq         uint64 // queue sequence number: the order of acknowledgement
	BatchID     string
	UserID      string
	Provider    string
	Status      string // queued, completed or failed (no run is stored mid-way)
	Message     string // why it failed, or why items were not indexed
	QueuedAt    time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time

	RecordsSaved, WorkoutsSaved, SleepSaved    int
	DroppedCount, UnmappedCount, RejectedCount int
	// Items is every item of the batch, dropped ones included.
	Items int
	// Source is "import" for an import's run, which has Import.
	Source string
	Import *ImportResult
}

// ImportResult is an import's progress and its samples already stored.
type ImportResult = pebblestore.ImportResult

// LastUpdate is the time of the run's latest change.
func (r *Run) LastUpdate() time.Time {
	switch {
	case r.CompletedAt != nil && r.Status != "queued":
		return *r.CompletedAt
	case r.StartedAt != nil && r.Status != "queued":
		return *r.StartedAt
	}
	return r.QueuedAt
}

func newRun(r *pebblestore.Run) *Run {
	return &Run{
		Seq: r.Seq, BatchID: r.BatchID, UserID: r.UserID, Provider: r.Provider, Status: r.Status, Message: r.Message,
		QueuedAt: r.QueuedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		RecordsSaved: r.RecordsSaved, WorkoutsSaved: r.WorkoutsSaved, SleepSaved: r.SleepSaved,
		DroppedCount: r.DroppedCount, UnmappedCount: r.UnmappedCount, RejectedCount: r.RejectedCount, Items: r.Items,
		Source: r.Source, Import: r.Import,
	}
}

// RunListing selects the runs of a sync status listing.
type RunListing struct {
	// UserID is the user whose runs are listed; empty for every user's.
	UserID string
	// Provider keeps the runs of one provider; empty for all.
	Provider string
	// Since is the retention: runs last updated before it are not listed
	// (the compactor's sweep deletes them within the hour).
	Since time.Time
	// Limit is the most items listed.
	Limit int
}

// Timed is an item of a listing and its time.
type Timed[T any] struct {
	At   time.Time
	Item T
}

// LatestRuns returns the limit latest items of the runs a listing selects,
// newest first; ties go to the newer run, then to the later item of a run.
// items gives the items of a run (its events, or its summary; none to
// leave it out). A user that does not exist is ErrNotFound.
//
// It reads runs newest sequence number first and stops as soon as no older
// run can hold one of the latest items. The bound comes from the
// compactor: it indexes in sequence order, so a finished run was last
// updated no earlier than any older run. Once a finished run is older than
// the retention, or older than the limit-th latest item kept so far, every
// older run is too. Queued runs (the compactor's backlog) are all read: an
// older run may have finished after a newer one was queued.
func LatestRuns[T any](q *Service, l RunListing, items func(*Run) []Timed[T]) ([]T, error) {
	type kept struct {
		Timed[T]
		seq uint64
		ord int
	}
	var (
		all    []kept
		latest timeHeap // the limit latest item times, oldest on top
	)
	visit := func(pr *pebblestore.Run) bool {
		r := newRun(pr)
		at := r.LastUpdate()
		if r.CompletedAt != nil && (at.Before(l.Since) || (latest.Len() >= l.Limit && !at.After(latest[0]))) {
			return false
		}
		if at.Before(l.Since) || (l.Provider != "" && r.Provider != l.Provider) {
			return true
		}
		for i, it := range items(r) {
			all = append(all, kept{it, r.Seq, i})
			heap.Push(&latest, it.At)
			if latest.Len() > l.Limit {
				heap.Pop(&latest)
			}
		}
		return true
	}
	var err error
	if l.UserID == "" {
		err = q.store.Runs(visit)
	} else {
		u, ok, lerr := q.lookup(l.UserID)
		switch {
		case lerr != nil:
			return nil, lerr
		case !ok:
			return nil, ErrNotFound
		}
		err = q.store.UserRuns(u.IID, visit)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := &all[i], &all[j]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		if a.seq != b.seq {
			return a.seq > b.seq
		}
		return a.ord > b.ord
	})
	out := make([]T, 0, min(l.Limit, len(all)))
	for i := 0; i < len(all) && i < l.Limit; i++ {
		out = append(out, all[i].Item)
	}
	return out, nil
}

// timeHeap is a min-heap of times.
type timeHeap []time.Time

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *timeHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
