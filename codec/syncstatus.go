package codec

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/bytedance/sonic"
)

// SyncRun is the state of one batch as the store keeps it: the input from
// which the sync status events and run summaries are derived.
type SyncRun struct {
	BatchID     string
	UserID      string
	Provider    string // lower-cased
	Status      string // queued, completed or failed
	Error       string // why a failed run failed, or why a completed run's rejected items were not indexed
	QueuedAt    time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time

	RecordsSaved  int
	WorkoutsSaved int
	SleepSaved    int
	DroppedCount  int
	UnmappedCount int
	// RejectedCount is the items that passed validation but were not
	// indexed (a dictionary limit of their user); Error says which.
	RejectedCount int
	// Items is every item of the batch, dropped ones included.
	Items int
	// Source is SyncSourceImport for an import's run, else the run is an
	// SDK batch's; Import is then the import's progress.
	Source string
	Import *ImportMetadata
}

// SyncSourceImport is the source of an import's run.
const SyncSourceImport = "import"

// ImportMetadata is what an import's events add to their metadata: what
// was read of the export (bytes, and the items queued by kind), the
// samples found already stored, and the items dropped, by reason. The
// saved counts are the run's.
type ImportMetadata struct {
	BytesTotal  int64            `json:"bytes_total"`
	BytesRead   int64            `json:"bytes_read"`
	Records     int64            `json:"records_read"`
	SleepStages int64            `json:"sleep_stages_read"`
	Workouts    int64            `json:"workouts_read"`
	Routes      int64            `json:"routes_read"`
	Summaries   int64            `json:"activity_summaries_read"`
	Unconverted int64            `json:"kept_unconverted"`
	Duplicates  int64            `json:"duplicates_skipped"`
	Dropped     map[string]int64 `json:"dropped_by_reason,omitempty"`
}

// itemsRead is how many of an import's items (records, sleep stages and
// workouts, as its run counts them) have been read, at most total.
func (m *ImportMetadata) itemsRead(total int) int {
	return min(int(m.Records+m.SleepStages+m.Workouts), total)
}

// SyncEventMetadata is the metadata object of a sync status event. Open
// Wearables declares it as a free dict and fills it, for SDK batches, with
// batch_id, the saved counts and the dropped count on completion, and
// batch_id and status_code on failure; wearhouse sends the same keys and
// adds unmapped_count (items stored under their own type, SPEC §3) and,
// when there are any, rejected_count (items not indexed because their user
// reached a dictionary limit).
type SyncEventMetadata struct {
	BatchID       string `json:"batch_id"`
	RecordsSaved  *int   `json:"records_saved,omitempty"`
	WorkoutsSaved *int   `json:"workouts_saved,omitempty"`
	SleepSaved    *int   `json:"sleep_saved,omitempty"`
	DroppedCount  *int   `json:"dropped_count,omitempty"`
	UnmappedCount *int   `json:"unmapped_count,omitempty"`
	RejectedCount *int   `json:"rejected_count,omitempty"`
	StatusCode    *int   `json:"status_code,omitempty"`
	// Import is set on the events of an import's run.
	Import *ImportMetadata `json:"import,omitempty"`
}

// SyncStatusEvent is Open Wearables' SyncStatusEvent: one state transition
// of a sync run, as listed by /users/{id}/sync/recent and streamed by
// /users/{id}/sync/stream. Every field of the anchor's schema is present,
// null when unknown; times are RFC 3339 in UTC with microseconds, as
// pydantic writes them.
//
// An SDK batch is a run whose run_id is its batch_id and whose source is
// "sdk". Its events, derived from the stored run:
//
//   - queued (stage "queued", status "in_progress"): the batch is durable in
//     the queue. Open Wearables has the stage but emits no event for it on
//     the SDK path; wearhouse does, because the 202 comes first and
//     indexing later. metadata: batch_id, dropped_count (items dropped by
//     validation, known at the 202).
//   - started (stage "started", status "in_progress"): the compactor took
//     the batch. message "Processing <provider> SDK batch", started_at set.
//   - completed (stage "completed", status "success", progress 1.0):
//     message "<Provider> batch saved", followed by " (<n> record(s) dropped
//     by validation)" when n > 0, and "; <m> item(s) not indexed: <why>"
//     when some items passed a dictionary limit of their user; items_processed = records_saved +
//     workouts_saved + sleep_saved; metadata: batch_id, the three saved
//     counts, dropped_count and unmapped_count.
//   - failed (stage "failed", status "failed"): message "<Provider> batch
//     failed", error says why; metadata: batch_id, status_code 500 (the
//     batch was accepted, so its failure is a fault of the server), and the
//     counts.
//
// A run yields all the events it went through, so a completed run yields
// queued, started and completed, in that order: the list and the stream
// tell the same history. The compactor writes a run's start and end in one
// atomic write, so "processing" is never a stored state: a run goes from
// queued to completed or failed, and started_at and ended_at both come from
// that write.
//
// items_total is the number of items in the batch, dropped ones included,
// on every event (Open Wearables leaves it null for SDK batches).
// started_at is set on the started event and kept on the completed and
// failed ones; ended_at is set on those two. event_id is derived from
// run_id and stage, so the same event has the same id in the list, in the
// replay and live.
type SyncStatusEvent struct {
	EventID string `json:"event_id"`
	SyncRunState
	Metadata  SyncEventMetadata `json:"metadata"`
	StartedAt *string           `json:"started_at"`
	EndedAt   *string           `json:"ended_at"`
	Timestamp string            `json:"timestamp"`

	at time.Time // Timestamp, for ordering
}

// SyncRunState is what an event says of its run, and what the run's
// summary repeats from its latest event: the fields both carry, in the
// order both write them.
type SyncRunState struct {
	RunID          string   `json:"run_id"`
	UserID         string   `json:"user_id"`
	Provider       string   `json:"provider"`
	Source         string   `json:"source"`
	Stage          string   `json:"stage"`
	Status         string   `json:"status"`
	Message        *string  `json:"message"`
	Progress       *float64 `json:"progress"`
	ItemsProcessed *int     `json:"items_processed"`
	ItemsTotal     *int     `json:"items_total"`
	Error          *string  `json:"error"`
	PrimaryUserID  *string  `json:"primary_user_id"`
}

// At is the time of the event.
func (e *SyncStatusEvent) At() time.Time { return e.at }

// SyncRunSummary is Open Wearables' SyncRunSummary: the latest state of a
// run, as listed by /users/{id}/sync/runs and /sync/runs, newest
// last_update first. Its fields are those of the run's latest event, with
// started_at from the started event; metadata (the run's counts) is
// wearhouse's addition, so that the runs list shows what each batch saved.
type SyncRunSummary struct {
	SyncRunState
	StartedAt  *string           `json:"started_at"`
	EndedAt    *string           `json:"ended_at"`
	LastUpdate string            `json:"last_update"`
	Metadata   SyncEventMetadata `json:"metadata"`
}

// SyncSourceSDK is the source of every run wearhouse records.
const SyncSourceSDK = "sdk"

// Stages and statuses of the events wearhouse derives.
const (
	StageQueued     = "queued"
	StageStarted    = "started"
	StageCompleted  = "completed"
	StageFailed     = "failed"
	StatusRunning   = "in_progress"
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	failedRunStatus = 500
)

// SyncEvents returns the events of a run, oldest first.
func SyncEvents(r *SyncRun) []SyncStatusEvent {
	out := make([]SyncStatusEvent, 0, 3)
	items := r.Items
	source, what, done := SyncSourceSDK, r.Provider+" SDK batch", capitalize(r.Provider)+" batch"
	if r.Source == SyncSourceImport {
		source, what, done = SyncSourceImport, "Apple Health import", "Apple Health import"
	}
	base := func(stage, status string, at time.Time) SyncStatusEvent {
		return SyncStatusEvent{
			EventID: eventID(r.BatchID, stage),
			SyncRunState: SyncRunState{RunID: r.BatchID, UserID: r.UserID, Provider: r.Provider,
				Source: source, Stage: stage, Status: status, ItemsTotal: &items},
			Metadata: SyncEventMetadata{BatchID: r.BatchID, Import: r.Import}, Timestamp: formatEventTime(at), at: at,
		}
	}
	q := base(StageQueued, StatusRunning, r.QueuedAt)
	q.Message = ptr("Queued " + what)
	q.Metadata.DroppedCount = ptr(r.DroppedCount)
	out = append(out, q)
	if r.Status == StageQueued || r.StartedAt == nil {
		return out
	}
	started := formatEventTime(*r.StartedAt)
	s := base(StageStarted, StatusRunning, *r.StartedAt)
	s.Message = ptr("Processing " + what)
	s.StartedAt = &started
	if r.Import != nil && r.Import.BytesTotal > 0 {
		s.Progress = ptr(min(float64(r.Import.BytesRead)/float64(r.Import.BytesTotal), 1))
		s.ItemsProcessed = ptr(r.Import.itemsRead(items))
		s.Metadata.RecordsSaved, s.Metadata.WorkoutsSaved, s.Metadata.SleepSaved = ptr(r.RecordsSaved), ptr(r.WorkoutsSaved), ptr(r.SleepSaved)
		// Each step of an import's progress is an event of its own.
		s.EventID = eventID(r.BatchID, StageStarted+":"+strconv.FormatInt(r.Import.BytesRead, 10))
	}
	out = append(out, s)
	if r.CompletedAt == nil || (r.Status != StageCompleted && r.Status != StageFailed) {
		return out
	}
	ended := formatEventTime(*r.CompletedAt)
	counts := SyncEventMetadata{
		BatchID: r.BatchID, RecordsSaved: ptr(r.RecordsSaved), WorkoutsSaved: ptr(r.WorkoutsSaved),
		SleepSaved: ptr(r.SleepSaved), DroppedCount: ptr(r.DroppedCount), UnmappedCount: ptr(r.UnmappedCount),
		Import: r.Import,
	}
	if r.Status == StageFailed {
		f := base(StageFailed, StatusFailed, *r.CompletedAt)
		f.Message = ptr(done + " failed")
		msg := r.Error
		if msg == "" {
			msg = "batch failed"
		}
		f.Error = &msg
		f.Metadata = counts
		f.Metadata.StatusCode = ptr(failedRunStatus)
		f.StartedAt, f.EndedAt = &started, &ended
		return append(out, f)
	}
	c := base(StageCompleted, StatusSuccess, *r.CompletedAt)
	msg := done + " saved"
	var notes []string
	if r.DroppedCount > 0 {
		notes = append(notes, strconv.Itoa(r.DroppedCount)+" record(s) dropped by validation")
	}
	if r.Import != nil && r.Import.Duplicates > 0 {
		notes = append(notes, strconv.FormatInt(r.Import.Duplicates, 10)+" sample(s) already stored")
	}
	if r.RejectedCount > 0 {
		notes = append(notes, strings.TrimSuffix(r.Error, "."))
		c.Metadata.RejectedCount = ptr(r.RejectedCount)
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, "; ") + ")"
	}
	c.Message = &msg
	c.Progress = ptr(1.0)
	c.ItemsProcessed = ptr(r.RecordsSaved + r.WorkoutsSaved + r.SleepSaved)
	if r.Import != nil {
		// An import's items are the export's elements, and one element
		// can save several points (a workout's statistics, a blood
		// pressure pair): a completed import processed all of them.
		c.ItemsProcessed = ptr(items)
	}
	counts.RejectedCount = c.Metadata.RejectedCount
	c.Metadata = counts
	c.StartedAt, c.EndedAt = &started, &ended
	return append(out, c)
}

// SyncSummary returns the summary of a run.
func SyncSummary(r *SyncRun) SyncRunSummary {
	evs := SyncEvents(r)
	last := &evs[len(evs)-1]
	s := SyncRunSummary{
		SyncRunState: last.SyncRunState,
		StartedAt:    last.StartedAt, EndedAt: last.EndedAt, LastUpdate: last.Timestamp, Metadata: last.Metadata,
	}
	if s.Metadata.DroppedCount == nil {
		s.Metadata.DroppedCount = ptr(r.DroppedCount)
	}
	return s
}

// AppendSSEEvent appends an event in Server-Sent Events framing:
// "event: sync.status", then its JSON on one data line.
func AppendSSEEvent(dst []byte, e *SyncStatusEvent) ([]byte, error) {
	b, err := sonic.Marshal(e)
	if err != nil {
		return dst, err
	}
	dst = append(dst, "event: sync.status\ndata: "...)
	dst = append(dst, b...)
	return append(dst, "\n\n"...), nil
}

// eventID is a name-based UUID (version 5 layout over SHA-256) of a run's
// stage, stable across listings, replays and live delivery.
func eventID(runID, stage string) string {
	h := sha256.Sum256([]byte("wearhouse sync event\x00" + runID + "\x00" + stage))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], h[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], h[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], h[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], h[8:10])
	b[23] = '-'
	hex.Encode(b[24:], h[10:16])
	return string(b[:])
}

// formatEventTime writes a time as pydantic does: RFC 3339 in UTC, with
// microseconds when there are any.
func formatEventTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

// capitalize is Python's str.capitalize: first letter upper, rest lower.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

func ptr[T any](v T) *T { return &v }
