package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// QueueEntry is one acknowledged batch waiting for the compactor.
type QueueEntry struct {
	Seq      uint64
	Received time.Time
	BatchID  [16]byte
	UserIID  uint32
	UserID   string
	Provider string
	// Body is the validated batch in the codec's queued form, or, when
	// JSON is set, the request body as received (the entries of earlier
	// releases).
	Body []byte
	JSON bool
	// Size is the size of the request body: the index backlog is counted
	// in it.
	Size int
	// Import marks a chunk of an import (ImportJob): BatchID is the
	// import's id. It has no run of its own; its counts go to the import's.
	Import bool
}

func queueKey(seq uint64) []byte { return key(prefixQueue, be64(seq)) }

// PutQueue adds a queue entry to the batch. The body is copied into the
// batch, so the caller may reuse its buffer once PutQueue returns.
func (b *Batch) PutQueue(e *QueueEntry) error {
	if len(e.UserID) > maxUserIDBytes || len(e.Provider) > 255 {
		return errors.New("pebblestore: queue entry names too long")
	}
	// The value is written in place in the batch: the body, the biggest
	// thing the server handles, is copied once.
	if e.Size < 0 || uint64(e.Size) > math.MaxUint32 {
		return errors.New("pebblestore: queue entry size out of range")
	}
	version, n := byte(queueEntryV2), 1+8+16+4+4+1+len(e.Provider)+2+len(e.UserID)+len(e.Body)
	switch {
	case e.JSON:
		version, n = queueEntryV1, n-4
	case e.Import:
		version = queueEntryV3
	}
	op := b.b.SetDeferred(9, n)
	copy(op.Key, queueKey(e.Seq))
	v := op.Value[:0]
	v = append(v, version)
	v = binary.BigEndian.AppendUint64(v, uint64(e.Received.UnixNano()))
	v = append(v, e.BatchID[:]...)
	v = binary.BigEndian.AppendUint32(v, e.UserIID)
	if !e.JSON {
		v = binary.BigEndian.AppendUint32(v, uint32(e.Size))
	}
	v = append(v, byte(len(e.Provider)))
	v = append(v, e.Provider...)
	v = binary.BigEndian.AppendUint16(v, uint16(len(e.UserID)))
	v = append(v, e.UserID...)
	v = append(v, e.Body...)
	if len(v) != n {
		return errors.New("pebblestore: queue entry size mismatch")
	}
	return op.Finish()
}

// DeleteQueue removes a queue entry in the batch.
func (b *Batch) DeleteQueue(seq uint64) error { return b.b.Delete(queueKey(seq), nil) }

func decodeQueueEntry(k, v []byte) (*QueueEntry, error) {
	if len(k) != 9 || len(v) < 1+8+16+4+1+2 || v[0] < queueEntryV1 || v[0] > queueEntryV3 ||
		(v[0] != queueEntryV1 && len(v) < 1+8+16+4+4+1+2) {
		return nil, fmt.Errorf("pebblestore: malformed queue entry %x", k)
	}
	e := &QueueEntry{Seq: binary.BigEndian.Uint64(k[1:]), JSON: v[0] == queueEntryV1, Import: v[0] == queueEntryV3}
	e.Received = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))).UTC()
	copy(e.BatchID[:], v[9:25])
	e.UserIID = binary.BigEndian.Uint32(v[25:])
	p := 29
	if !e.JSON {
		e.Size = int(binary.BigEndian.Uint32(v[p:]))
		p += 4
	}
	n := int(v[p])
	p++
	if len(v) < p+n+2 {
		return nil, fmt.Errorf("pebblestore: malformed queue entry %x", k)
	}
	e.Provider = string(v[p : p+n])
	p += n
	n = int(binary.BigEndian.Uint16(v[p:]))
	p += 2
	if len(v) < p+n {
		return nil, fmt.Errorf("pebblestore: malformed queue entry %x", k)
	}
	e.UserID = string(v[p : p+n])
	p += n
	e.Body = append([]byte(nil), v[p:]...)
	if e.JSON {
		e.Size = len(e.Body)
	}
	return e, nil
}

// ScanQueue calls fn for each queue entry with a sequence number of at
// least from, in order, until fn returns false or an error. fn may keep the
// entries.
func (s *Store) ScanQueue(from uint64, fn func(*QueueEntry) (bool, error)) error {
	return s.eachWhile(queueKey(from), []byte{prefixQueue + 1}, func(k, v []byte) (bool, error) {
		e, err := decodeQueueEntry(k, v)
		if err != nil {
			return false, err
		}
		return fn(e)
	})
}

// LastQueueSeq is the highest sequence number in the queue, or 0 when the
// queue is empty.
func (s *Store) LastQueueSeq() (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixQueue}, UpperBound: []byte{prefixQueue + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[1:]), nil
}

const prefixDeadLetter = 'Z' // 'Z' seq:u64 -> queue entry value: batches set aside, that could not be indexed

// PutDeadLetter sets a queue entry that could not be indexed aside, byte
// for byte, so that it is never lost and can be inspected; the caller
// deletes it from the queue in the same batch.
func (ib *IndexBatch) PutDeadLetter(e *QueueEntry) error {
	v, err := ib.s.get(queueKey(e.Seq))
	if err != nil {
		return err
	}
	return ib.b.Set(key(prefixDeadLetter, be64(e.Seq)), v, nil)
}

// SetAsideCount is the number of batches set aside. Their values are kept
// in blob files, so counting them reads only their keys.
func (s *Store) SetAsideCount() (int, error) {
	return s.countRange([]byte{prefixDeadLetter}, []byte{prefixDeadLetter + 1}, math.MaxInt)
}

// SetAside calls fn for each batch set aside, in sequence order, until fn
// returns false. fn may keep the entries.
func (s *Store) SetAside(fn func(*QueueEntry) bool) error {
	return s.eachWhile([]byte{prefixDeadLetter}, []byte{prefixDeadLetter + 1}, func(k, v []byte) (bool, error) {
		e, err := decodeQueueEntry(key(prefixQueue, k[1:]), v)
		if err != nil {
			return false, err
		}
		return fn(e), nil
	})
}

// deleteSetAside adds the deletion of a user's set-aside batches to b.
func (s *Store) deleteSetAside(b *pebble.Batch, iid uint32) error {
	return s.eachPrefix(prefixDeadLetter, func(k, v []byte) error {
		if len(v) >= 29 && binary.BigEndian.Uint32(v[25:29]) == iid {
			return b.Delete(bytes.Clone(k), nil)
		}
		return nil
	})
}
