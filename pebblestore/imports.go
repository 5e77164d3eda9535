package pebblestore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

const (
	prefixImport    = 'J' // 'J' user:u32 id:16 -> ImportJob (JSON)
	prefixImportRun = 'K' // 'K' user:u32 id:16 -> seq:u64 of the import's run, where the compactor last moved it
)

// ImportJob is an import of a file spooled to the data directory: what its
// reader has queued so far and where to resume. The importer alone writes
// it, in the same synced write as each chunk it queues, so that a restart
// resumes exactly after the last queued chunk.
type ImportJob struct {
	ID      [16]byte  `json:"id"`
	UserID  string    `json:"user_id"`
	UserIID uint32    `json:"user_iid"`
	RunSeq  uint64    `json:"run_seq"` // the sequence number of the import's run
	File    string    `json:"file"`    // the spooled file's name in the imports directory
	Size    int64     `json:"size"`    // the spooled file's size
	Kind    string    `json:"kind"`    // what was imported: "apple-health"
	Created time.Time `json:"created"`
	// State is queued, then reading, then done (every chunk is queued,
	// LastSeq the last) or failed (Error says why; LastSeq is the chunk
	// that carries the failure to the run).
	State   string `json:"state"`
	Error   string `json:"error,omitempty"`
	LastSeq uint64 `json:"last_seq,omitempty"`
	// Items is the checkpoint: the export's items read, every one of which
	// is in a queued chunk.
	Items    int64          `json:"items"`
	Progress ImportProgress `json:"progress"`
}

// ImportProgress counts what an import has read and queued.
type ImportProgress struct {
	BytesTotal int64 `json:"bytes_total"` // of the export's XML, as declared
	BytesRead  int64 `json:"bytes_read"`
	Records    int64 `json:"records"`
	Sleep      int64 `json:"sleep_stages"`
	Workouts   int64 `json:"workouts"`
	Routes     int64 `json:"routes"`
	Summaries  int64 `json:"activity_summaries"`
	// Unconverted counts the items kept as written but not fully mapped
	// (a unit that could not be converted, a sleep value stored as unknown).
	Unconverted int64 `json:"unconverted"`
	// Dropped counts the items left out, by reason.
	Dropped map[string]int64 `json:"dropped,omitempty"`
}

func importKey(user uint32, id [16]byte) []byte { return key(prefixImport, be32(user), id[:]) }

// PutImport writes an import job in the batch.
func (b *Batch) PutImport(j *ImportJob) error {
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return b.b.Set(importKey(j.UserIID, j.ID), v, nil)
}

// Import returns an import job of a user.
func (s *Store) Import(user uint32, id [16]byte) (*ImportJob, error) {
	v, err := s.get(importKey(user, id))
	if err != nil {
		return nil, err
	}
	var j ImportJob
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Imports calls fn for every import job, of every user, until fn returns
// false. fn may keep the jobs.
func (s *Store) Imports(fn func(*ImportJob) bool) error {
	return s.eachWhile([]byte{prefixImport}, []byte{prefixImport + 1}, func(_, v []byte) (bool, error) {
		var j ImportJob
		if err := json.Unmarshal(v, &j); err != nil {
			return false, err
		}
		return fn(&j), nil
	})
}

func importRunKey(user uint32, id [16]byte) []byte { return key(prefixImportRun, be32(user), id[:]) }

// ImportRunSeq is the sequence number an import's run is kept under, or
// ErrNotFound while it is where the job's RunSeq says.
func (s *Store) ImportRunSeq(user uint32, id [16]byte) (uint64, error) {
	v, err := s.get(importRunKey(user, id))
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, errors.New("pebblestore: malformed import run pointer")
	}
	return binary.BigEndian.Uint64(v), nil
}

// MoveImportRun keeps an import's run under a new sequence number, that of
// the chunk last indexed: runs are listed newest sequence number first,
// on the rule that a run's sequence number orders its last update, which
// an import's run, updated by every chunk, would break where it was queued.
func (ib *IndexBatch) MoveImportRun(r *Run, id [16]byte, seq uint64) error {
	if err := ib.b.Delete(key(prefixRun, be64(r.Seq)), nil); err != nil {
		return err
	}
	if err := ib.b.Delete(key(prefixUserRun, be32(r.UserIID), be64(r.Seq)), nil); err != nil {
		return err
	}
	r.Seq = seq
	if err := putRun(ib.b, r); err != nil {
		return err
	}
	return ib.b.Set(importRunKey(r.UserIID, id), be64(seq), nil)
}
