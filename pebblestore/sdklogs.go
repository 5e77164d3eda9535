package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

const (
	prefixSDKLog = 'L' // 'L' user:u32 seq:u64 -> SDK log event
	sdkLogV1     = 1
)

// SDKLogsKept is how many SDK log events a user keeps (SPEC §2): appending
// past it deletes the oldest.
const SDKLogsKept = 1000

// SDKLog is one stored SDK telemetry event.
type SDKLog struct {
	// Seq numbers a user's events from 1 in arrival order; it is set by
	// AppendSDKLogs.
	Seq        uint64
	Received   time.Time
	SDKVersion string
	Provider   string
	SessionID  string
	Type       string
	Timestamp  time.Time
	// Event is the event's JSON object as sent.
	Event []byte
}

func sdkLogKey(user uint32, seq uint64) []byte { return key(prefixSDKLog, be32(user), be64(seq)) }

// An SDK log event ('L' user_iid:u32 seq:u64) is stored as
//
//	version:u8=1 received:i64(unix ns) timestamp:i64(unix ns)
//	sdk_version provider sync_session_id event_type (each uvarint length + bytes)
//	event (the JSON object as the SDK sent it, compacted)
//
// A user's sequence numbers start at 1 and stay contiguous: appending past
// the limit deletes the oldest in the same write.

func encodeSDKLog(l *SDKLog) []byte {
	v := make([]byte, 0, 1+8+8+4*2+len(l.SDKVersion)+len(l.Provider)+len(l.SessionID)+len(l.Type)+len(l.Event))
	v = append(v, sdkLogV1)
	v = binary.BigEndian.AppendUint64(v, uint64(l.Received.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, uint64(l.Timestamp.UnixNano()))
	for _, s := range []string{l.SDKVersion, l.Provider, l.SessionID, l.Type} {
		v = binary.AppendUvarint(v, uint64(len(s)))
		v = append(v, s...)
	}
	return append(v, l.Event...)
}

func decodeSDKLog(k, v []byte) (*SDKLog, error) {
	if len(k) != 13 || len(v) < 17 || v[0] != sdkLogV1 {
		return nil, fmt.Errorf("pebblestore: malformed SDK log %x", k)
	}
	l := &SDKLog{Seq: binary.BigEndian.Uint64(k[5:])}
	l.Received = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))).UTC()
	l.Timestamp = time.Unix(0, int64(binary.BigEndian.Uint64(v[9:]))).UTC()
	p := 17
	var strs [4]string
	for i := range strs {
		n, w := binary.Uvarint(v[p:])
		if w <= 0 || uint64(len(v)-p-w) < n {
			return nil, fmt.Errorf("pebblestore: malformed SDK log %x", k)
		}
		p += w
		strs[i] = string(v[p : p+int(n)])
		p += int(n)
	}
	l.SDKVersion, l.Provider, l.SessionID, l.Type = strs[0], strs[1], strs[2], strs[3]
	l.Event = bytes.Clone(v[p:])
	return l, nil
}

// sdkLogLocks serialise the appends of one user, from reading its last
// sequence number to the commit of the batch.
var sdkLogLocks [64]sync.Mutex

// AppendSDKLogs adds a user's events to the batch, numbered after the
// user's last stored one (it sets their Seq), and deletes the user's oldest
// events so that at most keep remain once the batch is committed.
//
// It holds the user's log lock until release is called: call release once
// the batch is committed or discarded, and do not append for the same user
// in between.
func (b *Batch) AppendSDKLogs(user uint32, logs []SDKLog, keep int) (release func(), err error) {
	if keep < 1 {
		return nil, errors.New("pebblestore: SDK logs must keep at least one event")
	}
	mu := &sdkLogLocks[user%uint32(len(sdkLogLocks))]
	mu.Lock()
	ok := false
	defer func() {
		if !ok {
			mu.Unlock()
		}
	}()
	first, last, err := b.s.sdkLogSpan(user)
	if err != nil {
		return nil, err
	}
	for i := range logs {
		logs[i].Seq = last + 1 + uint64(i)
		if err := b.b.Set(sdkLogKey(user, logs[i].Seq), encodeSDKLog(&logs[i]), nil); err != nil {
			return nil, err
		}
	}
	// Keep the sequence numbers (newLast-keep, newLast]; the older ones go.
	// A user's numbers are contiguous: only the oldest are ever deleted.
	newLast, oldest := last+uint64(len(logs)), max(first, 1)
	if newLast >= uint64(keep) && newLast-uint64(keep)+1 > oldest {
		cut := newLast - uint64(keep) + 1
		if cut-oldest > 256 {
			if err := b.b.DeleteRange(sdkLogKey(user, oldest), sdkLogKey(user, cut), nil); err != nil {
				return nil, err
			}
		} else {
			// In the steady state a request deletes as many events as it
			// adds: point deletions leave no range tombstones for readers.
			for seq := oldest; seq < cut; seq++ {
				if err := b.b.Delete(sdkLogKey(user, seq), nil); err != nil {
					return nil, err
				}
			}
		}
	}
	ok = true
	return mu.Unlock, nil
}

// sdkLogSpan returns the first and last sequence numbers a user has stored,
// zero when none.
func (s *Store) sdkLogSpan(user uint32) (first, last uint64, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sdkLogKey(user, 0), UpperBound: key(prefixSDKLog, be32(user+1))})
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	if it.First() {
		first = binary.BigEndian.Uint64(it.Key()[5:])
	}
	if it.Last() {
		last = binary.BigEndian.Uint64(it.Key()[5:])
	}
	return first, last, it.Error()
}

// SDKLogs calls fn for a user's stored events, newest first, until fn
// returns false. fn may keep the events.
func (s *Store) SDKLogs(user uint32, fn func(*SDKLog) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sdkLogKey(user, 0), UpperBound: key(prefixSDKLog, be32(user+1))})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Last(); it.Valid(); it.Prev() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		l, err := decodeSDKLog(it.Key(), v)
		if err != nil {
			return err
		}
		if !fn(l) {
			break
		}
	}
	return it.Error()
}

// DeleteSDKLogs deletes all of a user's SDK log events in the batch, for the
// erasure of a user.
func (b *Batch) DeleteSDKLogs(user uint32) error {
	return b.b.DeleteRange(sdkLogKey(user, 0), key(prefixSDKLog, be32(user+1)), nil)
}
