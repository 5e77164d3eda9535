package audit

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"wearhouse/pebblestore"
)

// Report is what Verify found.
type Report struct {
	// Records is how many records were checked; First and Last their
	// sequence numbers (0 when there are none).
	Records     int
	First, Last uint64
	// Anchored is set when the chain starts from the retention sweep's
	// anchor rather than from the first record ever written.
	Anchored bool
	// Problems are the breaks found, in order: a record missing, out of
	// place, altered, or not readable. None means the chain is intact.
	Problems []string
}

// maxProblems bounds the problems a Report lists.
const maxProblems = 100

// Verify walks the whole trail and checks its chain.
func Verify(store *pebblestore.Store) (*Report, error) {
	r := &Report{}
	var prev [32]byte
	next := uint64(1)
	if seq, h, err := store.AuditAnchor(); err == nil {
		prev, next, r.Anchored = h, seq+1, true
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return nil, err
	}
	problem := func(format string, args ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	err := store.AuditFrom(0, func(seq uint64, rec []byte) bool {
		if r.Records == 0 {
			r.First = seq
		}
		r.Records++
		r.Last = seq
		switch {
		case seq > next:
			problem("records %d to %d are missing", next, seq-1)
		case seq < next:
			problem("record %d is out of place (expected %d)", seq, next)
		}
		next = seq + 1
		var e Event
		if err := json.Unmarshal(rec, &e); err != nil {
			problem("record %d cannot be read: %v", seq, err)
			prev = [32]byte{}
			return true
		}
		stored := e.Hash
		if e.Seq != seq {
			problem("record %d says it is record %d", seq, e.Seq)
		}
		if e.Prev != hex.EncodeToString(prev[:]) {
			problem("record %d does not follow its predecessor (its prev hash is not the predecessor's hash)", seq)
		}
		// The record's own hash is checked against its own prev, so that a
		// gap before it is reported as a gap, not as an alteration.
		own := prev
		if b, err := hex.DecodeString(e.Prev); err == nil && len(b) == 32 {
			copy(own[:], b)
		}
		sum, _, err := hashOf(own, &e)
		if err != nil {
			problem("record %d: %v", seq, err)
		} else if hex.EncodeToString(sum[:]) != stored {
			problem("record %d was altered (its hash does not match its contents)", seq)
		}
		// The chain goes on from the stored hash, so that one altered
		// record is reported once, not as a break of every later one.
		if h, err := hex.DecodeString(stored); err == nil && len(h) == 32 {
			copy(prev[:], h)
		} else {
			prev = sum
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if hseq, _, err := store.AuditHead(); err == nil && hseq >= next {
		problem("records %d to %d, the last written, are missing", next, hseq)
	} else if err != nil && !errors.Is(err, pebblestore.ErrNotFound) {
		return nil, err
	}
	return r, nil
}
