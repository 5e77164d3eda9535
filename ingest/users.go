package ingest

import (
	"errors"
	"sync"
	"time"

	"wearhouse/pebblestore"
)

// Erasure and the writes of a user are ordered by one rule: every write of
// a user (a sync, SDK logs, a profile change, a connection revoked, a
// workout or sleep session deleted) holds the user's lock shared from the
// moment it looks the user up until its write has finished, and DeleteUser
// holds it exclusively. A write therefore
// either finishes before the erasure, which then erases it, or looks the
// user up after it and finds no user (or a new one, with a new internal
// id). The compactor is ordered with the erasure by the store (see
// pebblestore.Store.NewIndexBatch).
//
// The locks are striped by user id; a stripe is shared by few users, and
// only a deletion ever takes one exclusively. The user routes look users
// up by their external id under the lock, so that no internal id leaves
// ingest; their waits, for the lock and for the write, end CommitTimeout
// after the call with 503, as a sync's do (bounded).

// Grant is what an SDK token says about the user it was minted for. A
// write sent with one is accepted only for that user as it was then: not
// once the user is erased, nor for a user created again under the same id.
type Grant struct {
	// UserIID is the user's internal id when the token was minted; zero in
	// the tokens of earlier releases, which carry none.
	UserIID uint32
	// Issued is when the token was minted (whole seconds).
	Issued time.Time
}

func (s *Service) userLock(id string) *sync.RWMutex {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &s.userLocks[h%uint32(len(s.userLocks))]
}

// lockUser takes a user's lock shared, waiting at most until deadline
// (503 past it), and returns its release.
func (s *Service) lockUser(id string, deadline time.Time) (func(), error) {
	mu := s.userLock(id)
	for wait := 50 * time.Microsecond; !mu.TryRLock(); wait = min(2*wait, 10*time.Millisecond) {
		if !time.Now().Before(deadline) {
			return nil, s.slow()
		}
		time.Sleep(wait)
	}
	return mu.RUnlock, nil
}

// checkGrant refuses a write made with an SDK token that no longer holds
// for the user: the user was erased, or created again since the token was
// minted. The caller holds the user's lock. For tokens that carry the
// user's internal id the check is a lookup in the user cache; tokens of
// earlier releases are compared, by their issue time, with the user's
// creation.
func (s *Service) checkGrant(id string, g *Grant) error {
	if g == nil {
		return nil
	}
	iid, known, err := s.lookupUser(id)
	if err != nil {
		return err
	}
	switch {
	case !known:
	case g.UserIID != 0:
		if g.UserIID == iid {
			return nil
		}
	default:
		u, err := s.store.User(id)
		if errors.Is(err, pebblestore.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		if !g.Issued.Before(u.Created.Truncate(time.Second)) {
			return nil
		}
	}
	return refuse(KindRevokedToken, 0, "Invalid or revoked SDK token")
}

// DeleteUser erases the user id and everything of theirs, queued batches
// included (pebblestore.Store.DeleteUser), once the user's writes in
// flight have finished and before any other starts; then AfterErase runs.
// It returns ErrNotFound for a user that does not exist.
//
// last, when not nil, runs under the same lock once the user is found and
// before anything is erased: what it reads (the answer of the route, the
// user as it was) is of the very user that is erased. Its error stops the
// erasure.
//
// The wait for the lock and for the erasure end CommitTimeout after the
// call, with 503: the erasure then goes on, and the lock is held until it
// is done, so that a retry finds the user gone.
func (s *Service) DeleteUser(id string, last func() error) error {
	deadline := time.Now().Add(s.opts.CommitTimeout)
	mu := s.userLock(id)
	if !lockExclusive(mu, deadline) {
		return s.slow()
	}
	u, err := s.store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		err = ErrNotFound
	}
	if err == nil && last != nil {
		err = last()
	}
	if err != nil {
		mu.Unlock()
		return err
	}
	return s.bounded(deadline, mu.Unlock, "erasure", func() error {
		queued, err := s.store.DeleteUser(u)
		if err != nil {
			return err
		}
		s.Indexed(int64(queued)) // they will never be indexed
		s.ForgetUser(u.ID, u.IID)
		if s.opts.AfterErase != nil {
			return s.opts.AfterErase(u)
		}
		return nil
	})
}

// lockExclusive takes a user's lock exclusively, waiting at most until
// deadline, and reports whether it did. Waiting, it holds off the writes
// that have not taken the lock yet (those of the users of its stripe), so
// that syncs racing an erasure cannot keep it out; given up, it is let go
// as soon as it is taken.
func lockExclusive(mu *sync.RWMutex, deadline time.Time) bool {
	if mu.TryLock() {
		return true
	}
	got := make(chan struct{})
	go func() {
		mu.Lock()
		close(got)
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-got:
		return true
	case <-t.C:
		go func() {
			<-got
			mu.Unlock()
		}()
		return false
	}
}

// lockExisting takes a user's lock shared for a write that concerns an
// existing user, waiting at most until deadline, and returns the user as
// it is under the lock (ErrNotFound when there is none) and the release.
func (s *Service) lockExisting(id string, deadline time.Time) (*pebblestore.User, func(), error) {
	unlock, err := s.lockUser(id, deadline)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.User(id)
	if err != nil {
		unlock()
		if errors.Is(err, pebblestore.ErrNotFound) {
			err = ErrNotFound
		}
		return nil, nil, err
	}
	return u, unlock, nil
}

// bounded runs the write of a user route and waits for it at most until
// deadline, as a sync waits for its queue write: past it the client is told
// to retry (503) and the write goes on. release (the locks the write
// holds) runs once the write has finished, however long that takes, so
// that a retry waits for the first write instead of racing it.
func (s *Service) bounded(deadline time.Time, release func(), what string, write func() error) error {
	done := make(chan error, 1)
	s.writes.Add(1)
	go func() {
		defer s.writes.Done()
		err := write()
		release()
		done <- err
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		s.log.Warn().Str("write", what).Dur("timeout", s.opts.CommitTimeout).Msg("write did not finish in time; client told to retry")
		go func() {
			if err := <-done; err != nil {
				s.log.Error().Err(err).Str("write", what).Msg("write that outlived its request failed")
			}
		}()
		return refuse(KindOverloaded, s.opts.RetryAfter, "The store is slow to write; the %s goes on; retry later.", what)
	}
}
