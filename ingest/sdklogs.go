package ingest

import (
	"fmt"
	"time"

	"wearhouse/pebblestore"
)

// AppendSDKLogs stores a user's SDK telemetry events (POST
// /sdk/users/{id}/logs) with one synced write, keeping the user's last
// pebblestore.SDKLogsKept events. A nil error means the events are durable.
//
// The rules of a sync apply: the same admission (disk reserve, stalls,
// concurrency), and an unknown user is created, or refused with
// KindUnknownUser when AutoCreateUsers is off. The SDKs report the start of
// an export before its first batch, so telemetry often comes first.
func (s *Service) AppendSDKLogs(userID string, logs []pebblestore.SDKLog) error {
	size := 0
	for i := range logs {
		size += len(logs[i].Event)
	}
	release, err := s.admit(size)
	if err != nil {
		s.Stats.Refused.Add(1)
		return err
	}
	defer release()
	now := s.opts.Now().UTC()
	b := s.store.NewBatch()
	iid, created, err := s.user(b, userID, now, time.Now().Add(s.opts.CommitTimeout))
	if err != nil {
		b.Close()
		return err
	}
	if created {
		defer s.usersMu.Unlock()
	}
	for i := range logs {
		logs[i].Received = now
	}
	unlock, err := b.AppendSDKLogs(iid, logs, pebblestore.SDKLogsKept)
	if err != nil {
		b.Close()
		return err
	}
	defer unlock()
	s.disk.since.Add(int64(b.Len()))
	if err := b.Commit(); err != nil {
		return fmt.Errorf("ingest: SDK log write: %w", err)
	}
	if created {
		s.users.Store(userID, iid)
	}
	return nil
}
