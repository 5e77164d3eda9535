package pebblestore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// SweepReplays deletes the replay guards and Idempotency-Key records stored
// before a time: past their window they only take room. It returns how many
// it deleted.
func (s *Store) SweepReplays(before time.Time) (int, error) {
	cut := uint64(before.UnixNano())
	n := 0
	for _, p := range []byte{prefixDedup, prefixIdem} {
		b := s.db.NewBatch()
		err := s.eachPrefix(p, func(k, v []byte) error {
			if len(v) >= 8 && binary.BigEndian.Uint64(v) < cut {
				n++
				return b.Delete(bytes.Clone(k), nil)
			}
			return nil
		})
		if err == nil && !b.Empty() {
			err = b.Commit(pebble.NoSync)
		}
		b.Close()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepRuns deletes the sync runs that finished before a time, with their
// per-user index entries. Queued runs are kept whatever their age.
func (s *Store) SweepRuns(before time.Time) (int, error) {
	b := s.db.NewBatch()
	defer b.Close()
	n := 0
	err := s.eachPrefix(prefixRun, func(k, v []byte) error {
		var r Run
		if json.Unmarshal(v, &r) != nil || r.CompletedAt == nil || !r.CompletedAt.Before(before) {
			return nil
		}
		n++
		if err := b.Delete(bytes.Clone(k), nil); err != nil {
			return err
		}
		return b.Delete(key(prefixUserRun, be32(r.UserIID), be64(r.Seq)), nil)
	})
	if err != nil || b.Empty() {
		return n, err
	}
	return n, b.Commit(pebble.NoSync)
}
