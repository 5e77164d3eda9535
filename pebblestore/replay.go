package pebblestore

import (
	"encoding/binary"
	"errors"
	"time"
)

// Replay is what the store keeps of a first answer so that a re-sent batch
// gets it again: the replay guard of a byte-identical body, and an
// Idempotency-Key record.
type Replay struct {
	Stored      time.Time
	Fingerprint [hashLen]byte
	Seq         uint64
	Response    []byte
}

func encodeReplay(r *Replay) []byte {
	v := make([]byte, 0, 8+hashLen+8+len(r.Response))
	v = binary.BigEndian.AppendUint64(v, uint64(r.Stored.UnixNano()))
	v = append(v, r.Fingerprint[:]...)
	v = binary.BigEndian.AppendUint64(v, r.Seq)
	return append(v, r.Response...)
}

func decodeReplay(v []byte) (*Replay, error) {
	if len(v) < 8+hashLen+8 {
		return nil, errors.New("pebblestore: malformed replay record")
	}
	r := &Replay{Stored: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()}
	copy(r.Fingerprint[:], v[8:8+hashLen])
	r.Seq = binary.BigEndian.Uint64(v[8+hashLen:])
	r.Response = v[8+hashLen+8:]
	return r, nil
}

func dedupKey(user uint32, hash [hashLen]byte) []byte { return key(prefixDedup, be32(user), hash[:]) }

func idemKey(user uint32, principal, k string) []byte {
	return key(prefixIdem, be32(user), []byte(principal), []byte{0}, []byte(k))
}

// Dedup returns the replay guard of a user's body hash, or ErrNotFound.
func (s *Store) Dedup(user uint32, hash [hashLen]byte) (*Replay, error) {
	v, err := s.get(dedupKey(user, hash))
	if err != nil {
		return nil, err
	}
	return decodeReplay(v)
}

// PutDedup adds a replay guard to the batch.
func (b *Batch) PutDedup(user uint32, hash [hashLen]byte, r *Replay) error {
	return b.b.Set(dedupKey(user, hash), encodeReplay(r), nil)
}

// Idempotency returns the record of an Idempotency-Key used for a user, or
// ErrNotFound.
func (s *Store) Idempotency(user uint32, principal, k string) (*Replay, error) {
	v, err := s.get(idemKey(user, principal, k))
	if err != nil {
		return nil, err
	}
	return decodeReplay(v)
}

// PutIdempotency adds an Idempotency-Key record to the batch.
func (b *Batch) PutIdempotency(user uint32, principal, k string, r *Replay) error {
	return b.b.Set(idemKey(user, principal, k), encodeReplay(r), nil)
}
