package ingest

import (
	"fmt"
	"time"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// AppendSDKLogs stores the events of a user's SDK telemetry batch (POST
// /sdk/users/{id}/logs) with one synced write, keeping the user's last
// pebblestore.SDKLogsKept events. A nil error means the events are durable.
//
// The rules of a sync apply: the same admission (disk reserve, stalls,
// concurrency), and an unknown user is created, or refused with
// KindUnknownUser when AutoCreateUsers is off. The SDKs report the start of
// an export before its first batch, so telemetry often comes first. grant
// is the SDK token's, nil for an API key (see Request.Grant). adm is the
// place the request took before its body was read (Admit), which
// AppendSDKLogs takes over; nil, and it admits the events itself.
func (s *Service) AppendSDKLogs(userID string, grant *Grant, adm *Admission, batch *codec.SDKLogBatch) error {
	size := 0
	for i := range batch.Events {
		size += len(batch.Events[i].Raw)
	}
	if adm == nil {
		var err error
		if adm, err = s.Admit(0); err != nil {
			return err
		}
	}
	// The events are copied into the write: counted before it is built.
	if err := adm.Grow(size); err != nil {
		adm.Release()
		return err
	}
	// Released when the write has finished, even after a timeout (see
	// commitLogs).
	after := []func(){adm.Release}
	handedOff := false
	defer func() {
		if !handedOff {
			for i := len(after) - 1; i >= 0; i-- {
				after[i]()
			}
		}
	}()
	deadline := time.Now().Add(s.opts.CommitTimeout)
	unlockUser, err := s.lockUser(userID, deadline)
	if err != nil {
		return err
	}
	after = append(after, unlockUser)
	if err := s.checkGrant(userID, grant); err != nil {
		return err
	}
	now := s.opts.Now().UTC()
	b := s.store.NewBatch()
	iid, created, err := s.user(b, userID, now, deadline)
	if err != nil {
		b.Close()
		return err
	}
	if created {
		after = append(after, s.usersMu.Unlock)
	}
	logs := make([]pebblestore.SDKLog, len(batch.Events))
	for i, e := range batch.Events {
		logs[i] = pebblestore.SDKLog{
			Received: now, SDKVersion: batch.SDKVersion, Provider: batch.Provider, SessionID: batch.SessionID,
			Type: e.Type, Timestamp: e.Timestamp, Event: e.Raw,
		}
	}
	unlock, err := b.AppendSDKLogs(iid, logs, pebblestore.SDKLogsKept)
	if err != nil {
		b.Close()
		return err
	}
	after = append(after, unlock)
	if created {
		after = append(after, func() {
			if _, err := s.store.User(userID); err == nil {
				s.users.Store(userID, iid)
			}
		})
	}
	s.disk.since.Add(int64(b.Len()))
	handedOff = true
	return s.commitLogs(b, after)
}

// commitLogs writes a telemetry batch with Sync and waits at most
// CommitTimeout, as the sync route's commit does: past it the client gets
// 503 and the locks stay held until the write finishes.
func (s *Service) commitLogs(b *pebblestore.Batch, after []func()) error {
	done := make(chan error, 1)
	s.writes.Add(1)
	go func() {
		defer s.writes.Done()
		err := b.Commit()
		for i := len(after) - 1; i >= 0; i-- {
			after[i]()
		}
		done <- err
	}()
	t := time.NewTimer(s.opts.CommitTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ingest: SDK log write: %w", err)
		}
		return nil
	case <-t.C:
		s.log.Warn().Dur("timeout", s.opts.CommitTimeout).Msg("SDK log write did not finish in time; client told to retry")
		return refuse(KindOverloaded, s.opts.RetryAfter, "The store is slow to write; retry later.")
	}
}
