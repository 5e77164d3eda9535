package pebblestore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// userRanges are the keyspaces whose keys start with prefix + user iid.
var userRanges = []byte{prefixPoints, prefixWorkout, prefixSleep, prefixUserRun, prefixSource, prefixDedup, prefixIdem, prefixSDKLog, prefixConnection, prefixUserType, prefixUserTypeID, prefixUserInvitation, prefixImport, prefixImportRun}

func userSpan(prefix byte, iid uint32) (lo, hi []byte) {
	lo = key(prefix, be32(iid))
	if iid == ^uint32(0) {
		return lo, []byte{prefix + 1}
	}
	return lo, key(prefix, be32(iid+1))
}

// DeleteUser erases a user and everything of theirs in one synced write:
// series points, workouts and their parts, sleep stages, runs, data
// sources, replay guards, Idempotency-Keys, SDK logs, connections,
// invitation codes, dead letters, the queued batches not yet indexed (with
// their runs), and what the hooks registered with OnDeleteUser add
// (refresh tokens). It returns the request bytes of those queued batches,
// which leave the index backlog. The internal id is never reused: a batch
// queued for the erased user can never be indexed for a user created again
// under the same id.
//
// It waits for the compactor's batch in progress (see NewIndexBatch), so
// that no index write of the user lands after it. The caller keeps the
// user's own writes (syncs, SDK logs, connections) from running meanwhile.
func (s *Store) DeleteUser(u *User) (queuedBytes int, err error) {
	s.eraseMu.Lock()
	defer s.eraseMu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	// Runs, data sources and invitation codes are found through per-user
	// indexes.
	if err := s.eachInRange(prefixUserRun, u.IID, func(k, _ []byte) error {
		return b.Delete(key(prefixRun, k[5:13]), nil)
	}); err != nil {
		return 0, err
	}
	if err := s.eachInRange(prefixSource, u.IID, func(_, v []byte) error {
		return b.Delete(key(prefixSourceByID, v), nil)
	}); err != nil {
		return 0, err
	}
	if err := s.deleteInvitationsOf(b, u.IID); err != nil {
		return 0, err
	}
	for _, p := range userRanges {
		lo, hi := userSpan(p, u.IID)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return 0, err
		}
	}
	if err := s.deleteSetAside(b, u.IID); err != nil { // batches set aside hold the user's data too
		return 0, err
	}
	// Queued batches of the user and their runs: the compactor would
	// index them after. A run of a batch written by an earlier release may
	// lack its per-user index entry.
	if err := s.ScanQueue(0, func(e *QueueEntry) (bool, error) {
		if e.UserIID == u.IID {
			queuedBytes += e.Size
			if err := b.Delete(key(prefixRun, be64(e.Seq)), nil); err != nil {
				return false, err
			}
			return true, b.Delete(queueKey(e.Seq), nil)
		}
		return true, nil
	}); err != nil {
		return 0, err
	}
	// The keyspaces whose values only their owner can tell apart by user
	// (refresh tokens) are erased by the owner's hooks, in this batch.
	for _, h := range s.eraseHooks {
		if err := h(u, &Erasure{b: b}); err != nil {
			return 0, err
		}
	}
	if err := b.Delete(userKey(u.ID), nil); err != nil {
		return 0, err
	}
	if err := b.Delete(key(prefixUserIID, be32(u.IID)), nil); err != nil {
		return 0, err
	}
	if err := b.Commit(s.wo); err != nil {
		return 0, err
	}
	s.forgetSources(u.IID)
	return queuedBytes, nil
}

// An EraseHook adds to the erasure of a user (DeleteUser) the deletion of
// what the user has in a keyspace whose values belong to another package,
// which alone can tell whose they are: package auth's refresh tokens. It
// adds deletions to e, which it must not keep; an error fails the erasure,
// and nothing is erased.
type EraseHook func(u *User, e *Erasure) error

// Erasure is the write of DeleteUser in progress, as an EraseHook sees it:
// deletions added to it are committed with the rest of the erasure, or not
// at all.
type Erasure struct{ b *pebble.Batch }

// DeleteRefreshToken adds the deletion of a refresh token.
func (e *Erasure) DeleteRefreshToken(hash [32]byte) error {
	return e.b.Delete(key(prefixRefresh, hash[:]), nil)
}

// OnDeleteUser registers a hook that every later DeleteUser runs before
// its commit.
func (s *Store) OnDeleteUser(h EraseHook) {
	s.eraseMu.Lock()
	defer s.eraseMu.Unlock()
	s.eraseHooks = append(s.eraseHooks, h)
}

// forgetSources drops the cached data sources of an erased user.
func (s *Store) forgetSources(iid uint32) {
	prefix := string(key(prefixSource, be32(iid)))
	d := &s.dict
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.sources {
		if strings.HasPrefix(k, prefix) {
			delete(d.sources, k)
		}
	}
}

// forgetProviderSources drops one provider's data sources of a user from
// the dictionary's cache.
func (s *Store) forgetProviderSources(iid uint32, provider string) {
	prefix := string(key(prefixSource, be32(iid), []byte{byte(len(provider))}, []byte(provider)))
	d := &s.dict
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.sources {
		if strings.HasPrefix(k, prefix) {
			delete(d.sources, k)
		}
	}
}

// DeleteProviderData erases the data of one provider of a user: the series
// points, workouts and sleep stages of that provider's data sources, and
// the data sources themselves.
//
// It waits for the compactor's batch in progress, as DeleteUser does, and
// forgets the provider's data sources from the dictionary's cache, so that
// the provider's next points get their data source again, with its
// record, rather than the id of one erased.
func (s *Store) DeleteProviderData(iid uint32, provider string) error {
	s.eraseMu.Lock()
	defer s.eraseMu.Unlock()
	defer s.forgetProviderSources(iid, provider)
	sids := map[uint32]bool{}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.eachInRange(prefixSource, iid, func(k, v []byte) error {
		// 'D' user provider_len provider ...
		if len(k) > 6 && int(k[5]) <= len(k)-6 && string(k[6:6+int(k[5])]) == provider && len(v) == 4 {
			sids[binary.BigEndian.Uint32(v)] = true
			if err := b.Delete(bytes.Clone(k), nil); err != nil {
				return err
			}
			return b.Delete(key(prefixSourceByID, v), nil)
		}
		return nil
	}); err != nil {
		return err
	}
	// Points and workouts carry the source id at a fixed offset of a
	// fixed-length key: 15 bytes with it at 11, 26 bytes with it at 13.
	for _, kind := range []struct {
		prefix        byte
		keyLen, sidAt int
	}{{prefixPoints, 15, 11}, {prefixWorkout, 26, 13}} {
		if err := s.eachInRange(kind.prefix, iid, func(k, _ []byte) error {
			if len(k) == kind.keyLen && sids[binary.BigEndian.Uint32(k[kind.sidAt:kind.sidAt+4])] {
				return b.Delete(bytes.Clone(k), nil)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if code := ProviderCode(provider); code != 0 {
		lo := key(prefixSleep, be32(iid), []byte{code})
		if err := b.DeleteRange(lo, key(prefixSleep, be32(iid), []byte{code + 1}), nil); err != nil {
			return err
		}
	}
	return b.Commit(s.wo)
}

// DeleteWorkout erases a workout and its parts; ErrNotFound when there is
// none.
func (s *Store) DeleteWorkout(iid uint32, ref WorkoutRef) error {
	base := workoutKey(iid, ref.SID, ref.Start, ref.End)
	if _, err := s.get(append(bytes.Clone(base), PartWorkout)); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(base, append(bytes.Clone(base), partCount), nil); err != nil {
		return err
	}
	return b.Commit(s.wo)
}

// DeleteSleepStages erases the stages of one provider of a user that
// overlap [from, to): the stages of one session, its in-bed stages that
// reach past its first and last sleep stage included. It reports how many
// it erased.
func (s *Store) DeleteSleepStages(iid uint32, provider byte, from, to int64) (int, error) {
	b := s.db.NewBatch()
	defer b.Close()
	n := 0
	const day = int64(24 * 3600 * 1e6)
	err := s.SleepStages(iid, provider, from-day, to, func(r *SleepStageRecord) bool {
		if r.End > from && r.Start < to {
			if b.Delete(sleepKey(iid, r), nil) == nil {
				n++
			}
		}
		return true
	})
	if err != nil || n == 0 {
		return 0, err
	}
	return n, b.Commit(s.wo)
}

func (s *Store) eachInRange(prefix byte, iid uint32, fn func(k, v []byte) error) error {
	lo, hi := userSpan(prefix, iid)
	return s.each(lo, hi, fn)
}

func (s *Store) eachPrefix(prefix byte, fn func(k, v []byte) error) error {
	return s.each([]byte{prefix}, []byte{prefix + 1}, fn)
}

// each calls fn with the keys and values of [lo, hi), in order, until fn
// returns an error; the slices are Pebble's and valid until fn returns.
func (s *Store) each(lo, hi []byte, fn func(k, v []byte) error) error {
	return s.eachWhile(lo, hi, func(k, v []byte) (bool, error) { return true, fn(k, v) })
}

// eachWhile is each for a fn that can also stop the walk early, by
// returning false; the slices are Pebble's and valid until fn returns.
func (s *Store) eachWhile(lo, hi []byte, fn func(k, v []byte) (bool, error)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if more, err := fn(it.Key(), v); err != nil || !more {
			return err
		}
	}
	return it.Error()
}

// Each calls fn with every key and value of the store, in order; the slices
// are valid only during the call. Tests use it to prove what is left.
func (s *Store) Each(fn func(k, v []byte) error) error { return s.each(nil, nil, fn) }

// UserKeys describes every key of the store that belongs to an internal
// user id: the keys of the keyspaces that start with it, and the queue
// entries, dead letters, runs and data source records that name it. An
// erased user has none. Tests use it to prove an erasure complete; it reads
// the whole store.
func (s *Store) UserKeys(iid uint32) ([]string, error) {
	var out []string
	keyed := map[byte]bool{prefixUserIID: true}
	for _, p := range userRanges {
		keyed[p] = true
	}
	err := s.Each(func(k, v []byte) error {
		owner, ok := uint32(0), false
		switch {
		case keyed[k[0]] && len(k) >= 5:
			owner, ok = binary.BigEndian.Uint32(k[1:5]), true
		case k[0] == prefixQueue || k[0] == prefixDeadLetter:
			e, err := decodeQueueEntry(append([]byte{prefixQueue}, k[1:]...), v)
			if err != nil {
				return err
			}
			owner, ok = e.UserIID, true
		case k[0] == prefixRun || k[0] == prefixSourceByID:
			var r struct {
				UserIID *uint32 `json:"user_iid"`
			}
			if json.Unmarshal(v, &r) == nil && r.UserIID != nil {
				owner, ok = *r.UserIID, true
			}
		}
		if ok && owner == iid {
			out = append(out, fmt.Sprintf("%q %x", k[0], k[1:]))
		}
		return nil
	})
	return out, err
}
