package pebblestore

import (
	"encoding/binary"
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// The audit trail (package audit's) is an append-only keyspace of records
// by sequence number; each record carries the hash of its predecessor, so
// that a removed or altered record breaks the chain. It is not erased with
// a user: it holds ids and outcomes, never health values, and it is the
// record of who read and changed what, the erasures included. Only the
// retention sweep removes records, the oldest first, and it leaves the
// anchor (the last removed record's sequence number and hash) in the meta
// keyspace, so that the chain can still be verified from there.
const prefixAudit = 'A' // 'A' seq:u64 -> audit record (JSON, package audit's)

const (
	metaAuditAnchor = "audit.anchor" // seq:u64 hash:32 of the last record swept away
	metaAuditHead   = "audit.head"   // seq:u64 hash:32 of the last record appended
)

func auditKey(seq uint64) []byte { return key(prefixAudit, be64(seq)) }

// AuditRecord is one record to append: its sequence number and its bytes.
type AuditRecord struct {
	Seq    uint64
	Record []byte
}

// AppendAudit writes records in one batch, with the head (the last
// record's sequence number and hash), so that records removed from the
// end are seen too; synced when sync is set.
func (s *Store) AppendAudit(records []AuditRecord, head [32]byte, sync bool) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range records {
		if err := b.Set(auditKey(r.Seq), r.Record, nil); err != nil {
			return err
		}
	}
	if len(records) > 0 {
		last := records[len(records)-1].Seq
		if err := b.Set(key(prefixMeta, []byte(metaAuditHead)), append(be64(last), head[:]...), nil); err != nil {
			return err
		}
	}
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	return b.Commit(wo)
}

// LastAudit returns the last record of the trail, or ErrNotFound.
func (s *Store) LastAudit() (uint64, []byte, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixAudit}, UpperBound: []byte{prefixAudit + 1}})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, nil, errors.Join(ErrNotFound, it.Error())
	}
	return binary.BigEndian.Uint64(it.Key()[1:]), append([]byte(nil), it.Value()...), it.Error()
}

// AuditFrom calls fn for each record from sequence number from on, in
// order, until fn returns false. The record is valid only during the call.
func (s *Store) AuditFrom(from uint64, fn func(seq uint64, record []byte) bool) error {
	return s.eachWhile(auditKey(from), []byte{prefixAudit + 1}, func(k, v []byte) (bool, error) {
		return fn(binary.BigEndian.Uint64(k[1:]), v), nil
	})
}

// AuditBefore calls fn for each record before sequence number before,
// newest first, until fn returns false.
func (s *Store) AuditBefore(before uint64, fn func(seq uint64, record []byte) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixAudit}, UpperBound: auditKey(before)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.Last(); ok; ok = it.Prev() {
		if !fn(binary.BigEndian.Uint64(it.Key()[1:]), it.Value()) {
			break
		}
	}
	return it.Error()
}

// AuditAnchor returns what the retention sweep left of the records it
// removed: the last one's sequence number and hash; ErrNotFound when none
// was removed.
func (s *Store) AuditAnchor() (uint64, [32]byte, error) { return s.auditMark(metaAuditAnchor) }

// AuditHead returns the last appended record's sequence number and hash;
// ErrNotFound before the first.
func (s *Store) AuditHead() (uint64, [32]byte, error) { return s.auditMark(metaAuditHead) }

func (s *Store) auditMark(name string) (uint64, [32]byte, error) {
	var h [32]byte
	v, err := s.Meta(name)
	if err != nil {
		return 0, h, err
	}
	if len(v) != 8+32 {
		return 0, h, errors.New("pebblestore: malformed audit anchor")
	}
	copy(h[:], v[8:])
	return binary.BigEndian.Uint64(v[:8]), h, nil
}

// SweepAudit removes the records up to and including sequence number
// through, with one range deletion, and records the anchor (through and
// its hash) in the same synced batch.
func (s *Store) SweepAudit(through uint64, hash [32]byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(auditKey(0), auditKey(through+1), nil); err != nil {
		return err
	}
	if err := b.Set(key(prefixMeta, []byte(metaAuditAnchor)), append(be64(through), hash[:]...), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// TamperAudit overwrites or, with a nil record, deletes one record: for
// the tests that prove the verification finds it.
func (s *Store) TamperAudit(seq uint64, record []byte) error {
	if record == nil {
		return s.db.Delete(auditKey(seq), pebble.Sync)
	}
	return s.db.Set(auditKey(seq), record, pebble.Sync)
}
