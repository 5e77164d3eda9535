package query

import (
	"time"

	"wearhouse/pebblestore"
)

// SDKLogsKept is how many SDK log events a user keeps: the most a listing
// can give.
const SDKLogsKept = pebblestore.SDKLogsKept

// SDKLog is one stored SDK telemetry event.
type SDKLog struct {
	Received   time.Time
	SDKVersion string
	Provider   string
	SessionID  string
	Type       string
	Timestamp  time.Time
	// Event is the event's JSON object as sent.
	Event []byte
}

// SDKLogs returns the user's latest SDK log events, newest first, at most
// limit of them; ErrNotFound for a user that does not exist.
func (q *Service) SDKLogs(userID string, limit int) ([]SDKLog, error) {
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	out := make([]SDKLog, 0, min(limit, 128))
	err = q.store.SDKLogs(u.IID, func(l *pebblestore.SDKLog) bool {
		out = append(out, SDKLog{Received: l.Received, SDKVersion: l.SDKVersion, Provider: l.Provider,
			SessionID: l.SessionID, Type: l.Type, Timestamp: l.Timestamp, Event: l.Event})
		return len(out) < limit
	})
	return out, err
}
