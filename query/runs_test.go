package query

import (
	"testing"
	"time"
)

// A run's last update is the time of its latest change: queued, started,
// then completed or failed; a time of a later stage that the status does
// not reach yet does not count.
func TestRunLastUpdate(t *testing.T) {
	q := time.Date(2026, 4, 9, 10, 0, 0, 0, time.UTC)
	s, c := q.Add(time.Second), q.Add(2*time.Second)
	for _, tc := range []struct {
		run  Run
		want time.Time
	}{
		{Run{Status: "queued", QueuedAt: q}, q},
		{Run{Status: "queued", QueuedAt: q, StartedAt: &s, CompletedAt: &c}, q},
		{Run{Status: "completed", QueuedAt: q, StartedAt: &s, CompletedAt: &c}, c},
		{Run{Status: "failed", QueuedAt: q, CompletedAt: &c}, c},
	} {
		if got := tc.run.LastUpdate(); !got.Equal(tc.want) {
			t.Errorf("%s run: last update %v, want %v", tc.run.Status, got, tc.want)
		}
	}
}
