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

func dedupKey(hash [hashLen]byte) []byte { return key(prefixDedup, hash[:]) }

func idemKey(principal, k string) []byte {
	return key(prefixIdem, []byte(principal), []byte{0}, []byte(k))
}

// Dedup returns the replay guard of a body hash, or ErrNotFound.
func (s *Store) Dedup(hash [hashLen]byte) (*Replay, error) {
	v, err := s.get(dedupKey(hash))
	if err != nil {
		return nil, err
	}
	return decodeReplay(v)
}

// PutDedup adds a replay guard to the batch.
func (b *Batch) PutDedup(hash [hashLen]byte, r *Replay) error {
	return b.b.Set(dedupKey(hash), encodeReplay(r), nil)
}

// Idempotency returns the record of an Idempotency-Key, or ErrNotFound.
func (s *Store) Idempotency(principal, k string) (*Replay, error) {
	v, err := s.get(idemKey(principal, k))
	if err != nil {
		return nil, err
	}
	return decodeReplay(v)
}

// PutIdempotency adds an Idempotency-Key record to the batch.
func (b *Batch) PutIdempotency(principal, k string, r *Replay) error {
	return b.b.Set(idemKey(principal, k), encodeReplay(r), nil)
}
