package codec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSyncEvents(t *testing.T) {
	q := time.Date(2026, 4, 9, 10, 0, 0, 123456789, time.UTC)
	s := q.Add(2 * time.Second)
	c := s.Add(time.Second)
	queued := SyncRun{BatchID: "b-1", UserID: "u", Provider: "apple", Status: "queued", QueuedAt: q, DroppedCount: 1, Items: 5}
	completed := queued
	completed.Status, completed.StartedAt, completed.CompletedAt = "completed", &s, &c
	completed.RecordsSaved, completed.WorkoutsSaved, completed.SleepSaved, completed.UnmappedCount = 2, 1, 1, 1
	failed := queued
	failed.Status, failed.StartedAt, failed.CompletedAt, failed.Error = "failed", &s, &c, "batch could not be decoded again"

	cases := []struct {
		name   string
		run    SyncRun
		stages []string
		last   map[string]any
	}{
		{"queued", queued, []string{"queued"}, map[string]any{
			"stage": "queued", "status": "in_progress", "message": "Queued apple SDK batch", "progress": nil,
			"items_processed": nil, "items_total": 5.0, "error": nil, "started_at": nil, "ended_at": nil,
			"timestamp": "2026-04-09T10:00:00.123456Z", "source": "sdk", "run_id": "b-1", "user_id": "u",
			"provider": "apple", "primary_user_id": nil,
			"metadata": map[string]any{"batch_id": "b-1", "dropped_count": 1.0},
		}},
		{"completed", completed, []string{"queued", "started", "completed"}, map[string]any{
			"stage": "completed", "status": "success", "message": "Apple batch saved (1 record(s) dropped by validation)",
			"progress": 1.0, "items_processed": 4.0, "items_total": 5.0, "error": nil,
			"started_at": "2026-04-09T10:00:02.123456Z", "ended_at": "2026-04-09T10:00:03.123456Z",
			"timestamp": "2026-04-09T10:00:03.123456Z",
			"metadata": map[string]any{"batch_id": "b-1", "records_saved": 2.0, "workouts_saved": 1.0,
				"sleep_saved": 1.0, "dropped_count": 1.0, "unmapped_count": 1.0},
		}},
		{"failed", failed, []string{"queued", "started", "failed"}, map[string]any{
			"stage": "failed", "status": "failed", "message": "Apple batch failed",
			"error": "batch could not be decoded again", "progress": nil, "items_processed": nil,
			"ended_at": "2026-04-09T10:00:03.123456Z",
			"metadata": map[string]any{"batch_id": "b-1", "records_saved": 0.0, "workouts_saved": 0.0,
				"sleep_saved": 0.0, "dropped_count": 1.0, "unmapped_count": 0.0, "status_code": 500.0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := SyncEvents(&tc.run)
			if len(evs) != len(tc.stages) {
				t.Fatalf("%d events, want %v", len(evs), tc.stages)
			}
			ids := map[string]bool{}
			for i, e := range evs {
				if e.Stage != tc.stages[i] {
					t.Errorf("event %d stage %q, want %q", i, e.Stage, tc.stages[i])
				}
				if i > 0 && e.At().Before(evs[i-1].At()) {
					t.Errorf("event %d is older than event %d", i, i-1)
				}
				ids[e.EventID] = true
			}
			if len(ids) != len(evs) {
				t.Errorf("event ids are not distinct: %v", ids)
			}
			b, err := Marshal(&evs[len(evs)-1])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.last {
				if !jsonEqual(m[k], want) {
					t.Errorf("%s = %v, want %v", k, m[k], want)
				}
			}
			if _, ok := m["event_id"].(string); !ok {
				t.Errorf("event_id missing: %s", b)
			}
		})
	}
	// The same run gives the same event ids, in every listing.
	if a, b := SyncEvents(&completed)[1].EventID, SyncEvents(&failed)[1].EventID; a != b {
		t.Errorf("the started event of one batch has two ids: %s, %s", a, b)
	}
	if a, b := SyncEvents(&completed)[0].EventID, SyncEvents(&SyncRun{BatchID: "b-2"})[0].EventID; a == b {
		t.Error("two batches share an event id")
	}
}

func TestSyncSummary(t *testing.T) {
	q := time.Date(2026, 4, 9, 10, 0, 0, 0, time.UTC)
	s, c := q.Add(time.Second), q.Add(2*time.Second)
	r := SyncRun{BatchID: "b", UserID: "u", Provider: "samsung", Status: "completed", QueuedAt: q, StartedAt: &s,
		CompletedAt: &c, RecordsSaved: 3, Items: 3}
	sum := SyncSummary(&r)
	b, _ := Marshal(&sum)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"run_id": "b", "user_id": "u", "provider": "samsung", "source": "sdk", "stage": "completed",
		"status": "success", "message": "Samsung batch saved", "progress": 1.0, "items_processed": 3.0,
		"items_total": 3.0, "error": nil, "primary_user_id": nil, "started_at": "2026-04-09T10:00:01Z",
		"ended_at": "2026-04-09T10:00:02Z", "last_update": "2026-04-09T10:00:02Z",
	}
	for k, v := range want {
		if !jsonEqual(m[k], v) {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if md := m["metadata"].(map[string]any); md["records_saved"] != 3.0 || md["batch_id"] != "b" {
		t.Errorf("metadata = %v", md)
	}
	r.Status, r.StartedAt, r.CompletedAt = "queued", nil, nil
	sum = SyncSummary(&r)
	if sum.Stage != "queued" || sum.Status != "in_progress" || sum.LastUpdate != "2026-04-09T10:00:00Z" ||
		sum.StartedAt != nil || sum.Metadata.DroppedCount == nil {
		t.Errorf("queued summary = %+v", sum)
	}
}

func TestAppendSSEEvent(t *testing.T) {
	e := SyncEvents(&SyncRun{BatchID: "b", UserID: "u", Provider: "google", Status: "queued",
		QueuedAt: time.Unix(0, 0)})[0]
	out, err := AppendSSEEvent([]byte("x"), &e)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.HasPrefix(s, "xevent: sync.status\ndata: {") || !strings.HasSuffix(s, "}\n\n") ||
		strings.Count(s, "\n") != 3 {
		t.Errorf("framing: %q", s)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestImportItemsProcessed: an import's items are the export's elements;
// the points they saved can outnumber them, and items_processed never
// passes items_total.
func TestImportItemsProcessed(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := &SyncRun{BatchID: "imp-1", UserID: "u", Provider: "apple", Source: SyncSourceImport, Status: StageStarted,
		Items: 30, RecordsSaved: 35, WorkoutsSaved: 2, SleepSaved: 9, QueuedAt: at, StartedAt: &at,
		Import: &ImportMetadata{BytesTotal: 100, BytesRead: 50, Records: 12, SleepStages: 4, Workouts: 1}}
	evs := SyncEvents(r)
	if got := *evs[len(evs)-1].ItemsProcessed; got != 17 {
		t.Errorf("started: %d items processed, want the 17 read", got)
	}
	r.Status, r.CompletedAt = StageCompleted, &at
	r.Import.Records, r.Import.SleepStages, r.Import.Workouts, r.Import.BytesRead = 19, 9, 2, 100
	evs = SyncEvents(r)
	if c := evs[len(evs)-1]; c.Stage != StageCompleted || *c.ItemsProcessed != 30 || *c.ItemsTotal != 30 {
		t.Errorf("completed: %d of %d items processed, want 30 of 30", *c.ItemsProcessed, *c.ItemsTotal)
	}
}
