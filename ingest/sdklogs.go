package ingest

import (
	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// AppendSDKLogs stores the events of a user's SDK telemetry batch (POST
// /sdk/users/{id}/logs) with one synced write, keeping the user's last
// pebblestore.SDKLogsKept events. A nil error means the events are durable.
//
// The rules of a sync apply: the same admission (disk reserve, stalls,
// concurrency), the same write (see write: what the request holds is
// released once the synced write has finished, even after a 503 on a
// timeout), and an unknown user is created, or refused with
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
	// The events are copied into the write: counted before it is built.
	w, err := s.startWrite(adm, 0, size)
	if err != nil {
		return err
	}
	defer w.abandon()
	if err := w.holdUser(userID, grant); err != nil {
		return err
	}
	now := s.opts.Now().UTC()
	w.b = s.store.NewBatch()
	iid, err := w.user(userID, now)
	if err != nil {
		return err
	}
	logs := make([]pebblestore.SDKLog, len(batch.Events))
	for i, e := range batch.Events {
		logs[i] = pebblestore.SDKLog{
			Received: now, SDKVersion: batch.SDKVersion, Provider: batch.Provider, SessionID: batch.SessionID,
			Type: e.Type, Timestamp: e.Timestamp, Event: e.Raw,
		}
	}
	unlock, err := w.b.AppendSDKLogs(iid, logs, pebblestore.SDKLogsKept)
	if err != nil {
		return err
	}
	w.hold(unlock)
	return w.commit("SDK log write", nil)
}
