package query

import (
	"encoding/hex"
	"errors"

	"wearhouse/pebblestore"
)

// Import is an import job of a user's and its run (nil once swept).
type Import struct {
	Job *pebblestore.ImportJob
	Run *Run
}

// Import returns a user's import by its id; ErrNotFound for no such user
// or import.
func (q *Service) Import(userID, id string) (*Import, error) {
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	bid, valid := parseUUID(id)
	if !ok || !valid {
		return nil, ErrNotFound
	}
	job, err := q.store.Import(u.IID, bid)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	seq, err := q.store.ImportRunSeq(u.IID, bid)
	if errors.Is(err, pebblestore.ErrNotFound) {
		seq, err = job.RunSeq, nil
	}
	if err != nil {
		return nil, err
	}
	out := &Import{Job: job}
	run, err := q.store.RunBySeq(seq)
	switch {
	case err == nil:
		out.Run = newRun(run)
	case !errors.Is(err, pebblestore.ErrNotFound):
		return nil, err
	}
	return out, nil
}

// parseUUID parses a canonical UUID in either case.
func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, false
	}
	return id, true
}
